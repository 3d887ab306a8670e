package crosscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/vm"
)

// opProgramVersion is the last optimism release with op-program's Go sources.
const opProgramVersion = "v1.19.0"

// skipOpProgramInShort skips tests that build op-program: minutes the first time (the binaries are cached
// for later runs, see refbuild), too long for CI's -short run.
func skipOpProgramInShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds op-program " + opProgramVersion + " (about 7 minutes on 2 cores the first time, cached after)")
	}
}

// servedDevnet is the default devnet served over RPC in this process, with its configs as files in the
// shapes op-program's host reads (--rollup.config, --l2.genesis, --l1.chainconfig).
type servedDevnet struct {
	d                                *devnet.Devnet
	srv                              *devnet.Server
	rollup, l2Genesis, l1ChainConfig string
}

func serveDevnet(t *testing.T) *servedDevnet {
	t.Helper()
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	dir := t.TempDir()
	n := &servedDevnet{d: d, srv: srv, rollup: filepath.Join(dir, "rollup.json"),
		l2Genesis: filepath.Join(dir, "genesis-l2.json"), l1ChainConfig: filepath.Join(dir, "genesis-l1.json")}
	for path, v := range map[string]any{
		n.rollup:        d.Rollup(),
		n.l2Genesis:     map[string]any{"config": d.L2ChainConfig()},
		n.l1ChainConfig: map[string]any{"config": d.L1ChainConfig()},
	} {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	return n
}

// claimArgs are the host flags, the same for op-program's host and ours, of the one-block claim on block
// n with claimed output root claim (agreed block n-1, L1 head at the devnet's head), from datadir.
func (n *servedDevnet) claimArgs(block uint64, claim common.Hash, datadir string) []string {
	return []string{"--rollup.config", n.rollup, "--l2.genesis", n.l2Genesis, "--l1.chainconfig", n.l1ChainConfig,
		"--l1.head", n.d.L1Head().Hash().Hex(), "--l2.head", n.d.L2Block(block - 1).Hash().Hex(),
		"--l2.outputroot", n.d.OutputRoot(block - 1).Hex(), "--l2.claim", claim.Hex(),
		"--l2.blocknumber", fmt.Sprint(block), "--datadir", datadir}
}

// online are the flags that make a host fetch from the served devnet.
func (n *servedDevnet) online() []string {
	return []string{"--l1", n.srv.L1URL(), "--l2", n.srv.L2URL(), "--l1.beacon", n.srv.BeaconURL()}
}

// wrongClaim is the honest output root with its last bit flipped.
func wrongClaim(honest common.Hash) common.Hash {
	honest[31] ^= 1
	return honest
}

// hostRun is one run of a host binary: its verdict (0 valid, 1 invalid, 2 no verdict) and its log.
type hostRun struct {
	verdict int
	log     string
	took    time.Duration
}

// tail is the end of the run's log, for failure messages.
func (r hostRun) tail() string {
	lines := strings.Split(strings.TrimSpace(r.log), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func runHost(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := hostRun{log: out.String(), took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.verdict = exitErr.ExitCode()
	default:
		require.FailNow(t, fmt.Sprintf("%s: %v", filepath.Base(bin), err))
	}
	return r
}

// runFaultproof runs `faultproof run`: exit 0 valid, 1 invalid, 2 no verdict.
func runFaultproof(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	return runHost(t, bin, append([]string{"run"}, args...)...)
}

// runOpProgram runs op-program's host, with its client in process or the program of --exec. It exits 1 on
// any error, so its verdict is 1 only when the program said the claim is invalid (op-program's client in
// process) or exited 1 (a child), and 2 for any other failure.
func runOpProgram(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	r := runHost(t, bin, append([]string{"--l2.custom"}, args...)...)
	invalid := strings.Contains(r.log, "invalid claim") || strings.Contains(r.log, "failed to wait for child program: exit status 1")
	switch {
	case r.verdict == 0 && !strings.Contains(r.log, "Claim successfully verified"):
		require.FailNow(t, fmt.Sprintf("op-program exited 0 without verifying the claim:\n%s", r.tail()))
	case r.verdict == 1 && !invalid:
		r.verdict = 2
	case r.verdict > 1:
		r.verdict = 2
	}
	return r
}

// replayClaims are the devnet's one-block claims replayed in both directions (forks at their
// devnet.DevnetForkHeights; none at Canyon's activation, block 9, where op-program v1.19.0 builds another
// block, or across Karst's, block 62, where op-node v1.19.0 leaked the upgrade gas).
var replayClaims = []struct {
	block uint64
	what  string
	// opProgramNeedsMore says why op-program cannot replay faultproof's datadir for this claim, if it
	// cannot: it asks for data that the claim does not need.
	opProgramNeedsMore string
}{
	{35, "Fjord, batch in a blob (the last block of its span batch)", ""},
	{47, "Holocene, batch in a blob", ""},
	{33, "Fjord, batch in a blob (the first block of its span batch)",
		"before Holocene, op-program v1.19.0 executes the whole span batch (blocks 33-35) before its safe head reaches the claim"},
	{58, "Jovian, an overlapping span batch in a blob",
		"op-program v1.19.0 checks the batch's overlap against L2 block 56, found by number in the EIP-2935 history contract's storage"},
}

// TestOpProgramDatadirsReplayBothWays runs op-program v1.19.0 and faultproof on the same one-block claims
// of the devnet, each writing a datadir online against `faultproof devnet serve`'s RPC servers, and
// replays each datadir offline in the other host: the honest claim valid (exit 0), a wrong claim invalid
// (exit 1), the same verdicts from both. faultproof replays op-program's datadirs although they hold no
// answers for its precompile calls (op-program recovers transaction senders inside the VM): the offline
// host computes them. The parts swap too: op-program's client runs under our host (--exec), ours under
// op-program's host, each reading the other's local keys (the custom chain's configs among them).
func TestOpProgramDatadirsReplayBothWays(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, opClient, _ := refbuild.OpProgram(t, opProgramVersion)
	fp, fpClient := faultproofBinary(t), buildTool(t, "fpp-client", "..", "./cmd/fpp-client")
	n := serveDevnet(t)

	for _, c := range replayClaims {
		t.Run(fmt.Sprintf("block %d", c.block), func(t *testing.T) {
			honest := n.d.OutputRoot(c.block)
			wrong := wrongClaim(honest)
			dir := t.TempDir()
			opDir, fpDir := filepath.Join(dir, "op-program"), filepath.Join(dir, "faultproof")
			check := func(who string, r hostRun, want int) {
				t.Helper()
				require.Equal(t, want, r.verdict, "%s: verdict %d, want %d; log ends:\n%s", who, r.verdict, want, r.tail())
				t.Logf("%-58s exit %d in %s", who, r.verdict, r.took.Round(time.Millisecond))
			}

			// op-program writes the datadir online; faultproof and op-program decide offline from it.
			check("op-program online (writes its datadir)", runOpProgram(t, opHost, append(n.claimArgs(c.block, honest, opDir), n.online()...)...), 0)
			check("faultproof offline on op-program's datadir, honest", runFaultproof(t, fp, n.claimArgs(c.block, honest, opDir)...), 0)
			check("faultproof offline on op-program's datadir, wrong", runFaultproof(t, fp, n.claimArgs(c.block, wrong, opDir)...), 1)
			check("op-program offline on its datadir, wrong", runOpProgram(t, opHost, n.claimArgs(c.block, wrong, opDir)...), 1)

			// And the other way.
			check("faultproof online (writes its datadir)", runFaultproof(t, fp, append(n.claimArgs(c.block, honest, fpDir), n.online()...)...), 0)
			if c.opProgramNeedsMore != "" {
				// Pinned, so that a change on either side shows: op-program stops for want of data.
				r := runOpProgram(t, opHost, n.claimArgs(c.block, honest, fpDir)...)
				require.Equal(t, 2, r.verdict, "op-program on faultproof's datadir: verdict %d, want a missing preimage (%s); log ends:\n%s", r.verdict, c.opProgramNeedsMore, r.tail())
				require.Contains(t, r.log, "not found", "op-program on faultproof's datadir: verdict %d, want a missing preimage (%s); log ends:\n%s", r.verdict, c.opProgramNeedsMore, r.tail())
				t.Logf("op-program offline on faultproof's datadir: missing preimage, as expected: %s", c.opProgramNeedsMore)
				return
			}
			check("op-program offline on faultproof's datadir, honest", runOpProgram(t, opHost, n.claimArgs(c.block, honest, fpDir)...), 0)
			check("op-program offline on faultproof's datadir, wrong", runOpProgram(t, opHost, n.claimArgs(c.block, wrong, fpDir)...), 1)

			// Swapped parts, each host serving the datadir it can read offline.
			for _, claim := range []struct {
				root common.Hash
				want int
			}{{honest, 0}, {wrong, 1}} {
				args := append([]string{"host", "--exec", opClient}, n.claimArgs(c.block, claim.root, opDir)...)
				check(fmt.Sprintf("op-program's client under faultproof's host (claim exit %d)", claim.want), runHost(t, fp, args...), claim.want)
				args = append([]string{"--exec", fpClient}, n.claimArgs(c.block, claim.root, fpDir)...)
				check(fmt.Sprintf("faultproof's client under op-program's host (claim exit %d)", claim.want), runOpProgram(t, opHost, args...), claim.want)
			}
		})
	}
}

// TestOpProgramUnderOurVMAndCannon runs op-program v1.19.0's MIPS64 client, served offline by its own host
// from the datadir it wrote, under `faultproof vm` and under Cannon: load-elf must give the same prestate,
// and both runs the same final state and verdict (1.27 G steps for the honest claim on block 47).
func TestOpProgramUnderOurVMAndCannon(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, _, elf := refbuild.OpProgram(t, opProgramVersion)
	fp, cannon := faultproofBinary(t), cannonBinary(t)
	n := serveDevnet(t)
	const block = 47
	dir := t.TempDir()
	datadir := filepath.Join(dir, "op-program")
	honest := n.d.OutputRoot(block)
	r := runOpProgram(t, opHost, append(n.claimArgs(block, honest, datadir), n.online()...)...)
	require.Equal(t, 0, r.verdict, "op-program online: verdict %d; log ends:\n%s", r.verdict, r.tail())

	prestate, meta := filepath.Join(dir, "prestate.bin.gz"), filepath.Join(dir, "meta.json")
	vmCLI(t, fp, "vm", "load-elf", "--type", vm.StateVersionName, "--path", elf, "--out", prestate, "--meta", meta)
	cannonPre := filepath.Join(dir, "cannon-prestate.bin.gz")
	vmCLI(t, cannon, "load-elf", "--type", vm.StateVersionName, "--path", elf, "--out", cannonPre, "--meta", filepath.Join(dir, "cannon-meta.json"))
	pre := witnessOf(t, fp, []string{"vm"}, prestate)
	cw := witnessOf(t, cannon, nil, cannonPre)
	require.Equal(t, pre.raw, cw.raw, "load-elf of op-program's client differs:\ncannon: %s\nours:   %s", cw.raw, pre.raw)
	t.Logf("op-program %s client: absolute prestate %s (our load-elf and Cannon's)", opProgramVersion, pre.WitnessHash)

	hostCmd := func(claim common.Hash) []string {
		return append([]string{"--", opHost, "--server", "--l2.custom"}, n.claimArgs(block, claim, datadir)...)
	}
	run := func(bin string, prefix []string, claim common.Hash, final string) (witnessOutput, time.Duration) {
		args := append(append([]string{}, prefix...), "run", "--input", prestate, "--meta", meta, "--output", final, "--info-at", "never")
		start := time.Now()
		vmCLI(t, bin, append(args, hostCmd(claim)...)...)
		took := time.Since(start)
		return witnessOf(t, bin, prefix, final), took
	}
	for _, tc := range []struct {
		name   string
		claim  common.Hash
		want   uint8
		cannon bool
	}{
		{"honest", honest, 0, true},
		{"wrong", wrongClaim(honest), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ourFinal := filepath.Join(t.TempDir(), "ours.bin.gz")
			ow, ourTime := run(fp, []string{"vm"}, tc.claim, ourFinal)
			require.True(t, ow.Exited, "op-program's client under our VM: exited %v, exit code %d, want %d", ow.Exited, ow.ExitCode, tc.want)
			require.Equal(t, tc.want, ow.ExitCode, "op-program's client under our VM: exited %v, exit code %d, want %d", ow.Exited, ow.ExitCode, tc.want)
			t.Logf("faultproof vm run: %d steps, exit code %d, %s (%.1fM steps/s, host included), final state %s",
				ow.Step, ow.ExitCode, ourTime.Round(time.Millisecond), float64(ow.Step)/ourTime.Seconds()/1e6, ow.WitnessHash)
			if !tc.cannon {
				return
			}
			cannonFinal := filepath.Join(t.TempDir(), "cannon.bin.gz")
			cw, cannonTime := run(cannon, nil, tc.claim, cannonFinal)
			require.Equal(t, ow.raw, cw.raw, "final witness differs:\ncannon: step %d exited %v code %d hash %s\nours:   step %d exited %v code %d hash %s", cw.Step, cw.Exited, cw.ExitCode, cw.WitnessHash, ow.Step, ow.Exited, ow.ExitCode, ow.WitnessHash)
			require.Equal(t, stateDigest(t, ourFinal), stateDigest(t, cannonFinal), "final state files differ though the witnesses agree")
			t.Logf("cannon run:        the same final state, %s (%.1fM steps/s, host included)",
				cannonTime.Round(time.Millisecond), float64(cw.Step)/cannonTime.Seconds()/1e6)
		})
	}
}
