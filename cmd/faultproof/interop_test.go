package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
)

var interopCLIDevnet = sync.OnceValues(func() (*devnet.Devnet, error) {
	return devnet.New(devnet.Config{L2Blocks: 8, Forks: devnet.AllForksAtGenesis()})
})

// interopFixture writes a devnet's chain as a dependency set of one: its configs, a dependency set file
// and a datadir with its preimages.
type interopFixture struct {
	d                               *devnet.Devnet
	rollup, genesis, l1, depset, dd string
}

func newInteropFixture(t *testing.T) *interopFixture {
	d, err := interopCLIDevnet()
	require.NoError(t, err)
	dir := t.TempDir()
	f := &interopFixture{d: d,
		rollup:  writeJSONFile(t, filepath.Join(dir, "rollup.json"), d.Rollup()),
		genesis: writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": d.L2ChainConfig()}),
		l1:      writeJSONFile(t, filepath.Join(dir, "l1.json"), d.L1ChainConfig()),
		dd:      filepath.Join(dir, "preimages"),
	}
	ds, err := interop.NewDependencySet([]uint64{d.Rollup().ChainID()}, 0)
	require.NoError(t, err)
	f.depset = writeJSONFile(t, filepath.Join(dir, "depset.json"), ds)
	kv, _, err := kvstore.Open(f.dd, kvstore.FormatPebble) // pebble: thousands of files would take seconds to write
	require.NoError(t, err)
	for k, v := range d.Preimages() {
		require.NoError(t, kv.Put(k, v))
	}
	require.NoError(t, kv.Close())
	return f
}

func (f *interopFixture) args(prestate []byte, claim common.Hash, game uint64) []string {
	return []string{"run", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--l1.chainconfig", f.l1,
		"--depset.config", f.depset, "--datadir", f.dd, "--l1.head", f.d.L1Head().Hash().Hex(),
		"--l2.agreed-prestate", hexutil.Encode(prestate), "--l2.claim", claim.Hex(), "--l2.blocknumber", itoa(game)}
}

func runFaultproof(t *testing.T, args ...string) (int, string) {
	cmd := faultproofCmd(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := waitTimeout(startOrFail(t, cmd), 2*time.Minute)
	return exitCode(err), stderr.String()
}

// TestInteropRunOffline decides super-root claims with op-program's interop flags, from a datadir.
func TestInteropRunOffline(t *testing.T) {
	f := newInteropFixture(t)
	d, id := f.d, f.d.Rollup().ChainID()
	n := uint64(3)
	s := interop.NewSuperV1(d.L2Block(n).Time()+1, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(n)})
	next := &interop.TransitionState{SuperRoot: s.Marshal(), PendingProgress: []interop.OptimisticBlock{{BlockHash: d.L2Block(n + 1).Hash(), OutputRoot: d.OutputRoot(n + 1)}}, Step: 1}
	code, out := runFaultproof(t, f.args(s.Marshal(), next.Hash(), s.Timestamp+5)...)
	require.Equal(t, 0, code, out)
	code, out = runFaultproof(t, f.args(s.Marshal(), s.Root(), s.Timestamp+5)...)
	require.Equal(t, 1, code, out)
	// op-program's other name for the game timestamp.
	args := f.args(s.Marshal(), next.Hash(), s.Timestamp+5)
	args[slices.Index(args, "--l2.blocknumber")] = "--l2.sequencenumber"
	code, out = runFaultproof(t, args...)
	require.Equal(t, 0, code, out)
	// The consolidation step gives the next super root.
	last := next
	for last.Step < interop.ConsolidateStep {
		last = last.Next(nil)
	}
	code, out = runFaultproof(t, f.args(last.Marshal(), interop.NewSuperV1(s.Timestamp+1, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(n + 1)}).Root(), s.Timestamp+5)...)
	require.Equal(t, 0, code, out)
}

// TestInteropBadInput: bad interop input is a one-line error and exit code 2.
func TestInteropBadInput(t *testing.T) {
	f := newInteropFixture(t)
	d, id := f.d, f.d.Rollup().ChainID()
	s := interop.NewSuperV1(d.L2Block(2).Time(), interop.ChainOutput{ChainID: id, Output: d.OutputRoot(2)})
	two := interop.NewSuperV1(s.Timestamp, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(2)}, interop.ChainOutput{ChainID: id + 1})
	badVersion := (&interop.TransitionState{SuperRoot: s.Marshal()}).Marshal()
	badVersion[0] = 0xFE
	otherSet := writeJSONFile(t, filepath.Join(t.TempDir(), "depset.json"), map[string]any{"dependencies": map[string]any{"5": map[string]any{}}})
	with := func(args []string, flag, value string) []string {
		out := append([]string(nil), args...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
			}
		}
		return out
	}
	base := f.args(s.Marshal(), common.Hash{1}, s.Timestamp+5)
	for _, c := range []struct {
		name, want string
		args       []string
	}{
		{"transition state with a bad version", "unknown transition state version", f.args(badVersion, common.Hash{1}, s.Timestamp+5)},
		{"dependency set without the chain", "is not in the dependency set", with(base, "--depset.config", otherSet)},
		{"mismatched chain counts", "the agreed prestate has 2 chains", f.args(two.Marshal(), common.Hash{1}, s.Timestamp+5)},
		{"prestate not hex", "--l2.agreed-prestate: not hex-encoded bytes", with(base, "--l2.agreed-prestate", "0xzz")},
		{"no dependency set", "--depset.config is required", with(base, "--depset.config", "")},
		{"depset without interop", "needs --l2.agreed-prestate", []string{"run", "--network", "op-sepolia", "--depset.config", f.depset}},
		{"rollup configs without genesis files", "give one of each per chain", with(base, "--l2.genesis", f.genesis+","+f.genesis)},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := runFaultproof(t, c.args...)
			require.Equal(t, 2, code, out)
			require.NotContains(t, out, "panic")
			require.Contains(t, lastError(out), c.want)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(lastError(out)), "\n")+1)
		})
	}
}

// TestInteropExecProgram: the program built in interop mode decides a super-root claim as a child of the
// host over fds 3-6.
func TestInteropExecProgram(t *testing.T) {
	f := newInteropFixture(t)
	program := filepath.Join(t.TempDir(), "fpp-client-interop")
	out, err := exec.Command("go", "build", "-ldflags=-X=main.programMode=interop", "-o", program, "github.com/faultproof/faultproof/cmd/fpp-client").CombinedOutput()
	require.NoError(t, err, "%s", out)
	d, id := f.d, f.d.Rollup().ChainID()
	s := interop.NewSuperV1(d.L2Block(3).Time()+1, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(3)})
	next := &interop.TransitionState{SuperRoot: s.Marshal(), PendingProgress: []interop.OptimisticBlock{{BlockHash: d.L2Block(4).Hash(), OutputRoot: d.OutputRoot(4)}}, Step: 1}
	args := append([]string{"host", "--exec", program}, f.args(s.Marshal(), next.Hash(), s.Timestamp+5)[1:]...)
	code, stderr := runFaultproof(t, args...)
	require.Equal(t, 0, code, stderr)
	args = append([]string{"host", "--exec", program}, f.args(s.Marshal(), common.Hash{1}, s.Timestamp+5)[1:]...)
	code, stderr = runFaultproof(t, args...)
	require.Equal(t, 1, code, stderr)
}
