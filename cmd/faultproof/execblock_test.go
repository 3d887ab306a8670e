package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
)

// execBlockFixture writes the files exec-block reads for block n of a devnet chain.
type execBlockFixture struct {
	dir, rollup, genesis, parent, attrs, witness string
	hash                                         common.Hash
	w                                            *stateless.ExtWitness
}

func writeJSONFile(t *testing.T, path string, v any) string {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func newExecBlockFixture(t *testing.T, b *devnet.L2Builder, n uint64) *execBlockFixture {
	dir := t.TempDir()
	w, err := b.ExecutionWitness(n)
	require.NoError(t, err)
	return &execBlockFixture{
		dir:     dir,
		rollup:  writeJSONFile(t, filepath.Join(dir, "rollup.json"), b.Rollup()),
		genesis: writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": b.Config()}),
		parent:  writeJSONFile(t, filepath.Join(dir, "parent.json"), b.Block(n-1).Header()),
		attrs:   writeJSONFile(t, filepath.Join(dir, "attributes.json"), b.Attributes(n)),
		witness: writeJSONFile(t, filepath.Join(dir, "witness.json"), w),
		hash:    b.Block(n).Hash(),
		w:       w,
	}
}

func (f *execBlockFixture) args(extra ...string) []string {
	return append([]string{"exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", f.parent,
		"--attributes", f.attrs}, extra...)
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	cmd := faultproofCmd(t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	code = exitCode(waitTimeout(cmd, 300*time.Second))
	return out.String(), errOut.String(), code
}

var execBlockChain struct {
	b   *devnet.L2Builder
	err error
}

func testL2Chain(t *testing.T) *devnet.L2Builder {
	if execBlockChain.b == nil && execBlockChain.err == nil {
		b, err := devnet.NewL2Builder()
		if err == nil {
			err = b.Build(18)
		}
		execBlockChain.b, execBlockChain.err = b, err
	}
	require.NoError(t, execBlockChain.err)
	return execBlockChain.b
}

// writeDatadir stores every preimage of the chain in a directory-format datadir.
func writeDatadir(t *testing.T, b *devnet.L2Builder, dir string) string {
	values, err := b.Preimages()
	require.NoError(t, err)
	kv, _, err := kvstore.Open(dir, kvstore.FormatDirectory)
	require.NoError(t, err)
	for k, v := range values {
		require.NoError(t, kv.Put(k, v))
	}
	require.NoError(t, kv.Close())
	return dir
}

// TestExecBlockFromOpGethWitness re-executes blocks from the witness op-geth recorded while building
// them. op-geth leaves out the trie nodes that prove an account absent (its state reader stops before it
// records them), so blocks after the first few read those from a datadir; the first two blocks need
// nothing beyond op-geth's witness.
func TestExecBlockFromOpGethWitness(t *testing.T) {
	b := testL2Chain(t)
	datadir := writeDatadir(t, b, filepath.Join(t.TempDir(), "preimages"))
	for n := uint64(1); n <= 18; n++ {
		f := newExecBlockFixture(t, b, n)
		args := f.args("--witness", f.witness, "--expect", f.hash.Hex())
		if n > 2 {
			args = append(args, "--datadir", datadir)
		}
		stdout, stderr, code := runCLI(t, args...)
		require.Equal(t, 0, code, "block %d: %s", n, stderr)
		require.Contains(t, stdout, "hash "+f.hash.Hex(), "block %d", n)
	}
}

func TestExecBlockExpectMismatchExits1(t *testing.T) {
	f := newExecBlockFixture(t, testL2Chain(t), 2)
	stdout, stderr, code := runCLI(t, f.args("--witness", f.witness, "--expect", common.Hash{1}.Hex())...)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stdout, "hash "+f.hash.Hex())
}

func TestExecBlockFromDatadir(t *testing.T) {
	b := testL2Chain(t)
	datadir := writeDatadir(t, b, filepath.Join(t.TempDir(), "preimages"))
	for _, n := range []uint64{4, 10, 13, 16} {
		f := newExecBlockFixture(t, b, n)
		_, stderr, code := runCLI(t, f.args("--datadir", datadir, "--expect", f.hash.Hex())...)
		require.Equal(t, 0, code, "block %d: %s", n, stderr)
	}
}

func TestExecBlockWithNetworkIsCheckedAgainstRegistry(t *testing.T) {
	f := newExecBlockFixture(t, testL2Chain(t), 3)
	// The devnet chain is not op-sepolia: its parent header is not a block op-sepolia can build on.
	_, stderr, code := runCLI(t, "exec-block", "--network", "op-sepolia", "--parent", f.parent, "--attributes", f.attrs, "--witness", f.witness)
	require.Equal(t, 2, code)
	require.NotContains(t, stderr, "panic")
}

func TestExecBlockBadInput(t *testing.T) {
	b := testL2Chain(t)
	f := newExecBlockFixture(t, b, 2) // a block op-geth's witness covers whole
	edit := func(path string, from, to string) string {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Contains(t, string(data), from)
		out := filepath.Join(t.TempDir(), filepath.Base(path))
		require.NoError(t, os.WriteFile(out, []byte(strings.Replace(string(data), from, to, 1)), 0o644))
		return out
	}
	// The witness without the parent's state root node.
	root := b.Block(1).Root()
	var state []hexutil.Bytes
	for _, n := range f.w.State {
		if crypto.Keccak256Hash(n) != root {
			state = append(state, n)
		}
	}
	require.Len(t, state, len(f.w.State)-1)
	missing := *f.w
	missing.State = state
	missingPath := writeJSONFile(t, filepath.Join(f.dir, "witness-missing.json"), missing)

	wrongParent := edit(f.parent, `"gasLimit":"0x1c9c380"`, `"gasLimit":"0x1c9c381"`)
	tests := []struct {
		name    string
		args    []string
		errText string
	}{
		{"witness missing one node", f.args("--witness", missingPath), root.Hex()},
		{"wrong parent header", []string{"exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", wrongParent, "--attributes", f.attrs, "--witness", f.witness}, "but its hash field says"},
		{"malformed attributes", []string{"exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", f.parent, "--attributes", edit(f.attrs, `"timestamp"`, `"timestamp":"zz","x"`), "--witness", f.witness}, "payload attributes"},
		{"unknown fork in the config", []string{"exec-block", "--rollup.config", edit(f.rollup, `"block_time"`, `"future_time":5,"block_time"`), "--l2.genesis", f.genesis, "--parent", f.parent, "--attributes", f.attrs, "--witness", f.witness}, "unknown fork"},
		{"no witness or datadir", f.args(), "one of --witness or --datadir is required"},
		{"missing datadir", f.args("--datadir", filepath.Join(f.dir, "nope")), "datadir"},
		{"unknown chain without genesis", []string{"exec-block", "--rollup.config", f.rollup, "--parent", f.parent, "--attributes", f.attrs, "--witness", f.witness}, "--l2.genesis is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			require.Equal(t, 2, code, stderr)
			require.NotContains(t, stderr, "panic")
			require.Contains(t, lastError(stderr), tt.errText)
		})
	}
}

func TestBenchReportsBlockNumbers(t *testing.T) {
	stdout, stderr, code := runCLI(t, "bench", "--l2.blocks", "4", "--rounds", "1")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "native block re-execution (cold, 4 blocks x 1 rounds")
	require.Contains(t, stdout, "oracle reads")
	require.Contains(t, stdout, "peak memory")
}
