package crosscheck

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
	"github.com/faultproof/faultproof/rollup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opProgramExceptions are the claims on which op-program v1.19.0 is known to give another verdict than
// the devnet's chain, which faultproof and op-geth make. Each row says why and which side is right. A new
// difference needs a new row with its reason; nothing is skipped silently.
var opProgramExceptions = []sweep.Exception{
	{
		Runner: "op-program", Select: sweep.AcrossActivation(rollup.Canyon),
		Reason: "op-program v1.19.0 is wrong: its block processor (op-program/client/l2/engineapi/block_processor.go) " +
			"never calls op-geth's misc.EnsureCreate2Deployer, which op-geth's miner and state processor call in " +
			"Canyon's activation block, so its block lacks the Create2Deployer code and has another state root",
	},
	{
		Runner: "op-program", Select: sweep.AcrossAfterActivation(rollup.Karst, 1),
		Reason: "a version difference: op-node v1.19.0 leaks Karst's one-time upgrade gas into the block after the " +
			"activation block (PayloadToSystemConfig in op-node/rollup/derive/payload_util.go reads the system config's " +
			"gas limit from the activation block's inflated one); v1.19.6 subtracts it again, as faultproof does, " +
			"unless keep_karst_upgrade_gas",
	},
	{
		Runner: "op-program", Select: acrossHoloceneFault(devnet.FaultSpanOverlap),
		Reason: "a version difference: op-node v1.19.0's Holocene batch stage checks only the prefix of a span batch " +
			"(checkSpanBatchPrefix in op-node/rollup/derive/batch_stage.go), so it takes the blocks after the safe head " +
			"of a span batch whose overlap with the safe chain has other transactions; v1.19.6 (checkSpanBatchHolocene, " +
			"checkSpanBatchOverlap) and kona drop the whole batch, as faultproof does",
	},
	{
		Runner: "op-program", Select: resetInRestOfSpan(devnet.FaultInvalidTx),
		Reason: "a version difference, the same rule: after a Holocene deposit-only replacement, a pipeline reset at " +
			"the replaced block (or the next one) reads the rejected span batch again, and op-node v1.19.0 takes its " +
			"blocks after the safe head, which fail again (deposit-only blocks); v1.19.6 drops the span batch because its overlapped block does not match the replacement, and " +
			"takes the new batches, as op-node running on and faultproof do",
	},
}

// holoceneFault is the block d's faulty batcher aims the fault of kind k at, if d has one and Holocene is
// active at that block.
func holoceneFault(d *devnet.Devnet, k devnet.FaultKind) (uint64, bool) {
	for _, f := range d.Config().Faults {
		if f.Kind == k && d.Rollup().IsHolocene(d.L2Block(f.Block).Time()) {
			return f.Block, true
		}
	}
	return 0, false
}

// acrossHoloceneFault selects the claims whose blocks include the block of the Holocene fault of kind k.
func acrossHoloceneFault(k devnet.FaultKind) sweep.Selector {
	return func(d *devnet.Devnet, c sweep.Claim) bool {
		n, ok := holoceneFault(d, k)
		return ok && c.Agreed < n && n <= c.Block
	}
}

// resetInRestOfSpan selects the claims whose agreed block is the block of the Holocene fault of kind k or
// the next one: the devnet's batcher puts it in a span batch of three blocks (the fault aims at the first of
// one in faults-holocene), so a pipeline reset there reads the batch with blocks after the safe head.
func resetInRestOfSpan(k devnet.FaultKind) sweep.Selector {
	return func(d *devnet.Devnet, c sweep.Claim) bool {
		n, ok := holoceneFault(d, k)
		return ok && n <= c.Agreed && c.Agreed <= n+1
	}
}

// sweepWorkers is the number of claims decided at once: the machines this runs on have two cores, and an
// op-program run is half waiting on its disk and the devnet's servers.
const sweepWorkers = 2

// shortSweep are the configurations the op-program sweep decides under -short, every claim of each: their
// batches are in calldata, so a claim fetches little (with blobs, a datadir's first claim writes ~100k
// preimage files), and the whole takes well under a minute. alone-canyon has an exception's claims (Canyon
// at block 13), batches-singular-calldata every fork from genesis, singular batches and three channels per
// L1 block.
var shortSweep = []string{"alone-canyon", "batches-singular-calldata"}

// TestOpProgramSweep decides claims about every named devnet configuration with op-program v1.19.0, online
// against the devnet served over RPC, and with our program (in process, from the devnet's preimages):
// every one-block claim and the claims from ten blocks back, with the honest output root and a wrong one
// (see sweep.Claims). Each verdict must be the truth (valid for the honest root, invalid for the wrong
// one), so the two programs agree, except where a row of opProgramExceptions excuses op-program.
// FAULTPROOF_E2E=full decides every claim, and then each exception must have excused something. By
// default it decides a sample of each configuration (the first, a middle and the last pair of claims).
// Under -short it decides the claims of the configurations of shortSweep, and only if op-program is
// already built: it never builds it (minutes), so CI's -short run on a clean machine skips it. It logs, per configuration, the
// claims decided and the times.
func TestOpProgramSweep(t *testing.T) {
	full := os.Getenv("FAULTPROOF_E2E") == "full"
	var opHost string
	if testing.Short() {
		host, ok, err := refbuild.OpProgramHostCached(opProgramVersion)
		require.NoError(t, err)
		if !ok {
			t.Skip("op-program " + opProgramVersion + " is not built; -short never builds it (about 7 minutes on 2 cores): " +
				"run once without -short to build it")
		}
		opHost = host
	} else {
		opHost, _, _ = refbuild.OpProgram(t, opProgramVersion)
	}

	excused := make([]int, len(opProgramExceptions))
	rows := []string{fmt.Sprintf("%-26s %6s %11s %8s %9s %10s %9s %8s", "configuration", "blocks", "claims", "build",
		"sweep", "op-program", "per claim", "ours")}
	var claimsSwept int
	start := time.Now()
	var configs []devnet.Named
	for _, named := range devnet.Configurations() {
		if !testing.Short() || slices.Contains(shortSweep, named.Name) {
			configs = append(configs, named)
		}
	}
	for _, named := range configs {
		t.Run(named.Name, func(t *testing.T) {
			t0 := time.Now()
			d, err := devnet.New(named.Config)
			require.NoError(t, err)
			n := serveDevnet(t, named.Name, d)
			built := time.Since(t0)
			claims := sweep.Claims(named.Name, d)
			all := len(claims)
			if !full && !testing.Short() {
				claims = sweep.Sample(claims, 6)
			}
			op := newOpProgramRunner(opHost, n, t.TempDir(), sweepWorkers)
			runners := []sweep.ClaimRunner{sweep.NewNativeRunner(d, nil), op}
			r, err := sweep.RunParallel(context.Background(), d, claims, runners, opProgramExceptions, sweepWorkers)
			require.NoError(t, err)
			for i := range opProgramExceptions {
				excused[i] += r.Excused[&opProgramExceptions[i]]
			}
			claimsSwept += len(r.Results)
			logOddVerdicts(t, r, op)
			assert.NoError(t, r.Err())
			row := fmt.Sprintf("%-26s %6d %5d/%-5d %8s %9s %10s %9s %8s", named.Name, r.Blocks, len(claims), all,
				built.Round(time.Second), r.Took.Round(time.Second), r.RunnerTime[op.Name()].Round(time.Second),
				(r.RunnerTime[op.Name()] / time.Duration(len(claims))).Round(10*time.Millisecond),
				r.RunnerTime["faultproof"].Round(time.Second))
			t.Logf("%s\n%s", rows[0], row) // now, for a run that does not get to the end
			rows = append(rows, row)
		})
	}
	mode := map[bool]string{false: "a sample of each", true: "every claim"}[full]
	if testing.Short() {
		mode = "-short's few claims"
	}
	t.Logf("op-program %s and faultproof on %d claims in %d configurations (%s), %s with %d workers:\n%s",
		opProgramVersion, claimsSwept, len(rows)-1, mode, time.Since(start).Round(time.Second), sweepWorkers, strings.Join(rows, "\n"))
	if testing.Short() && !slices.ContainsFunc(excused, func(n int) bool { return n > 0 }) && !t.Failed() {
		assert.Fail(t, "no exception excused a verdict of -short's claims: pick configurations of shortSweep again")
	}
	for i, e := range opProgramExceptions {
		t.Logf("exception %d excused %d verdicts: %s", i, excused[i], e.Reason)
		if full && !testing.Short() && len(rows)-1 == len(configs) && excused[i] == 0 && !t.Failed() {
			assert.Fail(t, fmt.Sprintf("exception %d excused nothing in a full sweep: remove it (%s)", i, e.Reason))
		}
	}
}

// opProgramActual is where op-program's log gives the output root it computed for an invalid claim.
var opProgramActual = regexp.MustCompile(`actual: (0x[0-9a-f]{64})`)

// logOddVerdicts logs every verdict of the sweep that is not the expected one: excused ones in a line,
// the others with the end of op-program's log.
func logOddVerdicts(t *testing.T, r *sweep.Report, op *opProgramRunner) {
	t.Helper()
	for _, res := range r.Results {
		for _, v := range res.Verdicts {
			if v.Code == res.Claim.Want() {
				continue
			}
			what := fmt.Sprintf("%s: %s exits %d", res.Claim, v.Runner, v.Code)
			if run, ok := op.oddRun(res.Claim); ok && v.Runner == op.Name() {
				if m := opProgramActual.FindStringSubmatch(run.log); m != nil {
					what += " (its output root " + m[1] + ")"
				}
				if v.Excused == nil {
					what += ", log ends:\n" + run.tail()
				}
			}
			if v.Excused != nil {
				what += ", excused: " + v.Excused.Reason[:min(len(v.Excused.Reason), 60)] + "..."
			}
			t.Log(what)
		}
	}
}
