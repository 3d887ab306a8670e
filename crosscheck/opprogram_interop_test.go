package crosscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
)

// interopFiles are an interop devnet's configs written twice: as faultproof reads them, and as op-program
// v1.19.0 does, whose rollup and chain configs name the interop fork's time interop_time and interopTime
// (v1.19.6 and its op-geth renamed them lagoon_time and lagoonTime).
type interopFiles struct {
	ours, theirs []string // --rollup.config, --l2.genesis, --l1.chainconfig, --depset.config flags
}

func writeInteropFiles(t *testing.T, x *devnet.Interop, dir string) interopFiles {
	t.Helper()
	write := func(name string, v any) string {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}
	// renamed writes v, and for op-program v1.19.0 the same with the fork's field renamed.
	renamed := func(name string, v any, from, to string) (string, string) {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		require.Contains(t, string(data), from)
		theirs := bytes.Replace(data, []byte(from), []byte(to), 1)
		return write(name+".json", json.RawMessage(data)), write(name+"-v1.19.0.json", json.RawMessage(theirs))
	}
	var rollups, genesis [2][]string
	for _, d := range x.Chains() {
		id := d.Rollup().ChainID()
		ours, theirs := renamed(fmt.Sprintf("rollup-%d", id), d.Rollup(), `"lagoon_time"`, `"interop_time"`)
		rollups[0], rollups[1] = append(rollups[0], ours), append(rollups[1], theirs)
		ours, theirs = renamed(fmt.Sprintf("genesis-l2-%d", id), map[string]any{"config": d.L2ChainConfig()}, `"lagoonTime"`, `"interopTime"`)
		genesis[0], genesis[1] = append(genesis[0], ours), append(genesis[1], theirs)
	}
	shared := []string{"--l1.chainconfig", write("genesis-l1.json", map[string]any{"config": x.Chains()[0].L1ChainConfig()}),
		"--depset.config", write("depset.json", x.DependencySet())}
	var out [2][]string
	for i := range out {
		out[i] = append([]string{"--rollup.config", strings.Join(rollups[i], ","), "--l2.genesis", strings.Join(genesis[i], ",")}, shared...)
	}
	return interopFiles{ours: out[0], theirs: out[1]}
}

// opProgramComputed is the state op-program's client computed ("Validating claim", JSON log).
func opProgramComputed(t *testing.T, log string) common.Hash {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "Validating claim" {
			continue
		}
		out, _ := rec["output"].(string)
		return common.HexToHash(out)
	}
	require.FailNow(t, "op-program logged no claim validation", log)
	return common.Hash{}
}

// TestOpProgramInterop runs op-program v1.19.0's interop client (its host with the client in process,
// offline) and faultproof on the steps of super-root transitions of the interop devnet, from one datadir
// holding the devnet's preimages: deriving each chain's block (Lagoon's activation block among them, and a
// second at which no block follows), padding, consolidation, and the trace extension. For each step both
// must compute the same next state: the devnet's, which is the claim. Where consolidation replaces a block
// the two differ, as they should: op-program v1.19.0 builds the deposit-only block with one more deposit
// (its invalidated-block transaction), which kona, and so game type 9 and faultproof, does not; both find
// the invalid message (neither keeps the optimistic block), and the states they give differ only there.
func TestOpProgramInterop(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, _, _ := refbuild.OpProgram(t, opProgramVersion)
	fp := faultproofBinary(t)
	x := newInteropDevnet(t)
	dir := t.TempDir()
	files := writeInteropFiles(t, x, dir)
	datadir := filepath.Join(dir, "preimages")
	kv, _, err := kvstore.Open(datadir, kvstore.FormatDirectory)
	require.NoError(t, err)
	for k, v := range x.Preimages() {
		require.NoError(t, kv.Put(k, v))
	}
	require.NoError(t, kv.Close())

	g, lagoon := x.GenesisTime(), x.Config().Interop.LagoonAt
	var replaced devnet.Replacement
	for _, r := range x.Replacements() {
		if r.Round == 0 {
			replaced = r
			break
		}
	}
	require.NotZero(t, replaced.Block, "the devnet replaces a block")
	// before(n) is the timestamp just before block n of every chain.
	before := func(n uint64) uint64 { return g + 2*n - 1 }
	type step struct {
		name string
		t    uint64
		step uint64
		// diverges: op-program v1.19.0 is known to compute another state (see the test's doc).
		diverges bool
	}
	steps := []step{
		{"Lagoon's activation block, chain 901", before(lagoon), 0, false},
		{"Lagoon's activation block, chain 902", before(lagoon), 1, false},
		{"consolidation of the activation blocks", before(lagoon), interop.ConsolidateStep, false},
		{"a block with messages, chain 901", before(lagoon + 2), 0, false},
		{"a block with messages, chain 902", before(lagoon + 2), 1, false},
		{"padding", before(lagoon + 2), 64, false},
		{"consolidation, all messages valid", before(lagoon + 2), interop.ConsolidateStep, false},
		{"no block at the next second, chain 901", before(lagoon+2) + 1, 0, false},
		{"consolidation with nothing new", before(lagoon+2) + 1, interop.ConsolidateStep, false},
		{fmt.Sprintf("optimistic block with an invalid message, chain %d", replaced.Chain), before(replaced.Block), 0, false},
		{"the block executing it, chain 902", before(replaced.Block), 1, false},
		{fmt.Sprintf("consolidation replacing chain %d block %d", replaced.Chain, replaced.Block), before(replaced.Block), interop.ConsolidateStep, true},
		{"at the game timestamp (trace extension)", x.LastTime(), 0, false},
	}

	game := fmt.Sprint(x.LastTime())
	args := func(flags []string, pre []byte, claim common.Hash) []string {
		return append([]string{"--datadir", datadir, "--l1.head", x.L1Head().Hash().Hex(), "--l2.agreed-prestate", common.Bytes2Hex(pre),
			"--l2.claim", claim.Hex(), "--l2.blocknumber", game, "--log.format", "json"}, flags...)
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			pre, err := x.State(s.t, s.step)
			require.NoError(t, err)
			next := s.step + 1
			if s.t == x.LastTime() {
				next = s.step // the state no longer changes
			}
			claim, err := x.StateHash(s.t, next)
			require.NoError(t, err)

			ours := runFaultproof(t, fp, args(files.ours, pre, claim)...)
			require.Equal(t, 0, ours.verdict, "faultproof: %s", ours.tail())
			theirs := runOpProgram(t, opHost, args(files.theirs, pre, claim)...)
			computed := opProgramComputed(t, theirs.log)
			t.Logf("state %s (+%d step %d): faultproof valid in %s; op-program %s in %s",
				hexutil.Encode(claim[:4]), s.t-g, s.step, ours.took.Round(time.Millisecond), verdictName(theirs.verdict), theirs.took.Round(time.Millisecond))
			if !s.diverges {
				require.Equal(t, 0, theirs.verdict, "op-program: %s", theirs.tail())
				require.Equal(t, claim, computed)
				wrong := runOpProgram(t, opHost, args(files.theirs, pre, sweep.WrongOutput(claim))...)
				require.Equal(t, 1, wrong.verdict, "op-program on a wrong claim: %s", wrong.tail())
				return
			}
			require.Equal(t, 1, theirs.verdict, "op-program: %s", theirs.tail())
			require.NotEqual(t, claim, computed)
			// Keeping the optimistic blocks is wrong for both.
			ts, err := interop.UnmarshalPreState(pre)
			require.NoError(t, err)
			kept := &interop.SuperV1{Timestamp: s.t + 1}
			for i, c := range ts.Super.Chains {
				kept.Chains = append(kept.Chains, interop.ChainOutput{ChainID: c.ChainID, Output: ts.Transition.PendingProgress[i].OutputRoot})
			}
			require.NotEqual(t, kept.Root(), computed, "op-program replaces the block too")
			require.Equal(t, 1, runFaultproof(t, fp, args(files.ours, pre, kept.Root())...).verdict)
			t.Logf("op-program v1.19.0's next super root is %s, faultproof's (kona's) %s", computed, claim)
		})
	}
}

func verdictName(code int) string {
	switch code {
	case 0:
		return "valid"
	case 1:
		return "invalid"
	}
	return "no verdict"
}

// TestOpProgramInteropOnline runs op-program v1.19.0's host online against the interop devnet's server
// (one --l2 per chain, as op-challenger runs it), and faultproof the same way: both decide the devnet's
// transition states valid. The datadirs they write do not replay in the other's host: each program reads
// data the other does not (op-program finds older L2 blocks by number in the EIP-2935 history contract's
// storage, faultproof by walking back headers). Where consolidation replaces blocks, op-program's host
// cannot decide online (it stores the rebuilt blocks' state under raw keys its client does not read, and
// retries for ever); offline on faultproof's datadir op-program gets past the rebuilt blocks (whose state
// faultproof's host stores, as op-program's l2-block-data route does) and stops building its own
// replacement, which has one more deposit than kona's and so reads state faultproof's does not.
func TestOpProgramInteropOnline(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, _, _ := refbuild.OpProgram(t, opProgramVersion)
	fp := faultproofBinary(t)
	x := newInteropDevnet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devnet.ServeInterop(ctx, x, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	files := writeInteropFiles(t, x, dir)
	online := []string{"--l1", srv.L1URL(), "--l1.beacon", srv.BeaconURL(), "--l2", strings.Join(srv.L2URLs(), ",")}

	var replaced devnet.Replacement
	for _, r := range x.Replacements() {
		if r.Round == 0 {
			replaced = r
			break
		}
	}
	before := func(n uint64) uint64 { return x.GenesisTime() + 2*n - 1 }
	lagoon := x.Config().Interop.LagoonAt
	for i, s := range []struct {
		name     string
		t, step  uint64
		replaces bool
	}{
		{"derive chain 901's block with messages", before(lagoon + 2), 0, false},
		{"derive chain 902's block with messages", before(lagoon + 2), 1, false},
		{"consolidation, all messages valid", before(lagoon + 2), interop.ConsolidateStep, false},
		{fmt.Sprintf("consolidation replacing chain %d block %d", replaced.Chain, replaced.Block), before(replaced.Block), interop.ConsolidateStep, true},
	} {
		t.Run(s.name, func(t *testing.T) {
			pre, err := x.State(s.t, s.step)
			require.NoError(t, err)
			claim, err := x.StateHash(s.t, s.step+1)
			require.NoError(t, err)
			args := func(flags []string, datadir string) []string {
				return append([]string{"--datadir", datadir, "--l1.head", x.L1Head().Hash().Hex(), "--l2.agreed-prestate", common.Bytes2Hex(pre),
					"--l2.claim", claim.Hex(), "--l2.blocknumber", fmt.Sprint(x.LastTime()), "--log.format", "json"}, flags...)
			}
			fpDir := filepath.Join(dir, fmt.Sprintf("faultproof-%d", i))
			r := runFaultproof(t, fp, append(args(files.ours, fpDir), online...)...)
			require.Equal(t, 0, r.verdict, "faultproof online: %s", r.tail())
			t.Logf("faultproof online: valid in %s", r.took.Round(time.Millisecond))
			if !s.replaces {
				r = runOpProgram(t, opHost, append(args(files.theirs, filepath.Join(dir, fmt.Sprintf("op-program-%d", i))), online...)...)
				require.Equal(t, 0, r.verdict, "op-program online: %s", r.tail())
				t.Logf("op-program online: valid in %s", r.took.Round(time.Millisecond))
				return
			}
			require.Contains(t, r.log, "Rebuilding an optimistic block the node does not have")
			r = runOpProgram(t, opHost, args(files.theirs, fpDir)...)
			require.Equal(t, 2, r.verdict, "op-program offline on faultproof's datadir: %s", r.tail())
			require.Contains(t, r.log, "Building a deposts-only block", "op-program gets past the rebuilt blocks to its own replacement")
			require.Contains(t, r.log, "not found")
		})
	}
}

// newInteropDevnet is the interop devnet of configuration "interop" (faultproof devnet serve --interop).
func newInteropDevnet(t *testing.T) *devnet.Interop {
	t.Helper()
	n, err := devnet.InteropConfiguration("interop")
	require.NoError(t, err)
	x, err := devnet.NewInterop(n.Config)
	require.NoError(t, err)
	return x
}
