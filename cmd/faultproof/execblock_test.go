package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
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
	parentArgs := func(parent string) []string {
		return []string{"exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", parent, "--attributes", f.attrs, "--witness", f.witness}
	}
	tests := []struct {
		name    string
		args    []string
		errText string
	}{
		{"witness missing one node", f.args("--witness", missingPath), root.Hex()},
		{"wrong parent header", parentArgs(wrongParent), "but its hash field says"},
		{"parent number 2^64", parentArgs(edit(f.parent, `"number":"0x1"`, `"number":"0x10000000000000000"`)), "number 18446744073709551616 is out of range"},
		{"parent number 2^64-1", parentArgs(edit(f.parent, `"number":"0x1"`, `"number":"0xffffffffffffffff"`)), "number 18446744073709551615 is out of range: the block built on it must have a 64-bit number"},
		{"parent null", parentArgs(edit(f.parent, string(mustRead(t, f.parent)), "null")), "null, not a header"},
		{"attributes without parent", []string{"exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--attributes", f.attrs, "--witness", f.witness}, "--attributes needs --parent"},
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
			if strings.HasPrefix(tt.name, "parent number") {
				require.Contains(t, lastError(stderr), "faultproof: --parent ")
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func TestBenchNativeReportsBlockNumbers(t *testing.T) {
	stdout, stderr, code := runCLI(t, "bench", "native", "--l2.blocks", "4", "--rounds", "1")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "native block re-execution (cold, 4 blocks x 1 rounds")
	require.Contains(t, stdout, "oracle reads")
	require.Contains(t, stdout, "peak memory")
}

// execDevnet is the demo's devnet (every fork from Regolith to Karst) served over JSON-RPC, shared by the
// tests that replay its blocks from the node.
var execDevnet struct {
	once sync.Once
	d    *devnet.Devnet
	srv  *devnet.Server
	err  error
}

func testExecDevnet(t *testing.T) (*devnet.Devnet, *devnet.Server) {
	t.Helper()
	execDevnet.once.Do(func() {
		d, err := devnet.New(devnet.Config{})
		if err != nil {
			execDevnet.err = err
			return
		}
		// The server lives as long as the test process.
		execDevnet.d = d
		execDevnet.srv, execDevnet.err = devnet.Serve(context.Background(), d, "127.0.0.1:0")
	})
	require.NoError(t, execDevnet.err)
	return execDevnet.d, execDevnet.srv
}

// devnetConfigArgs writes the devnet's rollup config and L2 genesis config and returns the flags naming them.
func devnetConfigArgs(t *testing.T, d *devnet.Devnet) []string {
	dir := t.TempDir()
	return []string{"--rollup.config", writeJSONFile(t, filepath.Join(dir, "rollup.json"), d.Rollup()),
		"--l2.genesis", writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": d.L2ChainConfig()})}
}

// rpcJSON calls method on the node and returns the raw result.
func rpcJSON(t *testing.T, url, method string, args ...any) json.RawMessage {
	t.Helper()
	c, err := rpc.Dial(url)
	require.NoError(t, err)
	defer c.Close()
	var raw json.RawMessage
	require.NoError(t, c.CallContext(context.Background(), &raw, method, args...))
	return raw
}

// TestExecBlockFromNode replays every block of the devnet (each fork's activation among them) in one
// command against its JSON-RPC server: block, parent and debug_executionWitness fetched, what the
// witness lacks fetched with debug_dbGet, and the rebuild compared with the block's own hash.
func TestExecBlockFromNode(t *testing.T) {
	d, srv := testExecDevnet(t)
	cfg := devnetConfigArgs(t, d)
	head := d.L2Head().NumberU64()
	for n := uint64(1); n <= head; n++ {
		args := append([]string{"exec-block", "--l2", srv.L2URL(), "--number", fmt.Sprint(n)}, cfg...)
		stdout, stderr, code := runCLI(t, args...)
		require.Equal(t, 0, code, "block %d: %s", n, stderr)
		want := d.L2Block(n)
		require.Contains(t, stdout, "hash "+want.Hash().Hex()+"\nexpected "+want.Hash().Hex()+"\n", "block %d", n)
		require.Contains(t, stdout, fmt.Sprintf("gasUsed %d\nstateRoot %s\n", want.GasUsed(), want.Root().Hex()), "block %d", n)
	}
	stdout, stderr, code := runCLI(t, append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "latest"}, cfg...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "hash "+d.L2Head().Hash().Hex())

	// An explicit --expect wins over the block's hash: a mismatch exits 1 and still prints the result.
	other := common.Hash{1}
	stdout, stderr, code = runCLI(t, append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "0x5", "--expect", other.Hex()}, cfg...)...)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stdout, "hash "+d.L2Block(5).Hash().Hex()+"\nexpected "+other.Hex())
}

// TestExecBlockFromBlockFile rebuilds blocks given as eth_getBlockByNumber(N, true) JSON with the node's
// witness, across the forks whose extraData layouts differ (empty before Holocene, version 0 with the
// EIP-1559 parameters from Holocene, version 1 with the minimum base fee from Jovian, Karst unchanged). The
// parent comes from the witness, or from --parent.
func TestExecBlockFromBlockFile(t *testing.T) {
	d, srv := testExecDevnet(t)
	cfg := devnetConfigArgs(t, d)
	dir := t.TempDir()
	datadir := filepath.Join(dir, "preimages")
	kv, _, err := kvstore.Open(datadir, kvstore.FormatFile)
	require.NoError(t, err)
	for k, v := range d.Preimages() {
		require.NoError(t, kv.Put(k, v))
	}
	require.NoError(t, kv.Close())
	rcfg := d.Rollup()
	for _, n := range []uint64{1, 9, 44, 45, 46, 55, 56, 57, 62, 63, d.L2Head().NumberU64()} {
		block := filepath.Join(dir, fmt.Sprintf("block-%d.json", n))
		require.NoError(t, os.WriteFile(block, rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", hexutil.EncodeUint64(n), true), 0o644))
		witness := filepath.Join(dir, fmt.Sprintf("witness-%d.json", n))
		require.NoError(t, os.WriteFile(witness, rpcJSON(t, srv.L2URL(), "debug_executionWitness", hexutil.EncodeUint64(n)), 0o644))
		want := d.L2Block(n)
		stdout, stderr, code := runCLI(t, append([]string{"exec-block", "--block", block, "--witness", witness, "--datadir", datadir}, cfg...)...)
		require.Equal(t, 0, code, "block %d (%s): %s", n, rcfg.ForkAt(want.Time()), stderr)
		require.Contains(t, stdout, "hash "+want.Hash().Hex()+"\nexpected "+want.Hash().Hex(), "block %d", n)
	}

	// With --parent, and an explicit --expect that differs.
	n := uint64(57)
	parent := writeJSONFile(t, filepath.Join(dir, "parent.json"), d.L2Block(n-1).Header())
	block, witness := filepath.Join(dir, "block-57.json"), filepath.Join(dir, "witness-57.json")
	_, stderr, code := runCLI(t, append([]string{"exec-block", "--block", block, "--parent", parent, "--witness", witness, "--datadir", datadir}, cfg...)...)
	require.Equal(t, 0, code, stderr)
	_, stderr, code = runCLI(t, append([]string{"exec-block", "--block", block, "--witness", witness, "--datadir", datadir, "--expect", common.Hash{2}.Hex()}, cfg...)...)
	require.Equal(t, 1, code, stderr)

	// A block whose header was changed (and its hash left out): the rebuild says which fields differ.
	var fields map[string]any
	require.NoError(t, json.Unmarshal(rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", hexutil.EncodeUint64(n), true), &fields))
	delete(fields, "hash")
	fields["stateRoot"] = common.Hash{3}.Hex()
	fields["gasUsed"] = hexutil.Uint64(d.L2Block(n).GasUsed() + 1)
	changed := writeJSONFile(t, filepath.Join(dir, "changed.json"), fields)
	stdout, stderr, code := runCLI(t, append([]string{"exec-block", "--block", changed, "--witness", witness, "--datadir", datadir}, cfg...)...)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stdout, "hash "+d.L2Block(n).Hash().Hex())
	require.Contains(t, lastError(stderr), "header fields that differ: stateRoot, gasUsed")
}

// TestExecBlockAttributesFromBlock derives each devnet block's attributes from its RPC JSON and compares
// them with the attributes derivation gave op-geth's engine for it, field by field. Where derivation gave
// zero EIP-1559 parameters (the chain's defaults), the block's extraData holds the defaults themselves.
func TestExecBlockAttributesFromBlock(t *testing.T) {
	d, srv := testExecDevnet(t)
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		blk, err := decodeBlockJSON(rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", hexutil.EncodeUint64(n), true))
		require.NoError(t, err, "block %d", n)
		got, err := attributesFromBlock(d.L2ChainConfig(), blk)
		require.NoError(t, err, "block %d", n)
		want := *d.L2Attributes(n)
		if d.L2ChainConfig().IsHolocene(want.Timestamp) {
			require.Len(t, got.EIP1559Params, 8, "block %d", n)
			if bytes.Equal(want.EIP1559Params, make([]byte, 8)) {
				cfg := d.L2ChainConfig()
				want.EIP1559Params = eip1559.EncodeHolocene1559Params(cfg.BaseFeeChangeDenominator(want.Timestamp), cfg.ElasticityMultiplier())
			}
		}
		require.False(t, want.Withdrawals == nil && d.L2ChainConfig().IsShanghai(new(big.Int).SetUint64(n), want.Timestamp), "block %d: derivation gave no withdrawals list after Canyon", n)
		require.Equal(t, &want, got, "block %d (%s)", n, d.Rollup().ForkAt(want.Timestamp))
	}
}

// TestExecBlockKonaAttributes: attributes without a withdrawals list, as kona's fixtures hold them, are
// the empty list from Canyon on; a list with withdrawals in it, or any list before Canyon, is refused.
func TestExecBlockKonaAttributes(t *testing.T) {
	b := testL2Chain(t)
	for _, n := range []uint64{3, 12, 18} { // Canyon's first block, Holocene, Karst
		f := newExecBlockFixture(t, b, n)
		var attrs map[string]any
		data, err := os.ReadFile(f.attrs)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &attrs))
		require.Contains(t, attrs, "withdrawals")
		delete(attrs, "withdrawals")
		kona := writeJSONFile(t, filepath.Join(f.dir, "kona.json"), attrs)
		stdout, stderr, code := runCLI(t, "exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", f.parent,
			"--attributes", kona, "--witness", f.witness, "--datadir", writeDatadir(t, b, filepath.Join(f.dir, "preimages")), "--expect", f.hash.Hex())
		require.Equal(t, 0, code, "block %d: %s", n, stderr)
		require.Contains(t, stdout, "hash "+f.hash.Hex())

		attrs["withdrawals"] = []map[string]string{{"index": "0x0", "validatorIndex": "0x1", "address": common.Address{9}.Hex(), "amount": "0x10"}}
		bad := writeJSONFile(t, filepath.Join(f.dir, "withdrawals.json"), attrs)
		_, stderr, code = runCLI(t, "exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", f.parent,
			"--attributes", bad, "--witness", f.witness)
		require.Equal(t, 2, code, stderr)
		require.Contains(t, lastError(stderr), "1 withdrawals: OP Stack blocks carry no withdrawals")
	}
	f := newExecBlockFixture(t, b, 2) // before Canyon
	var attrs map[string]any
	data, err := os.ReadFile(f.attrs)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &attrs))
	attrs["withdrawals"] = []any{}
	early := writeJSONFile(t, filepath.Join(f.dir, "early.json"), attrs)
	_, stderr, code := runCLI(t, "exec-block", "--rollup.config", f.rollup, "--l2.genesis", f.genesis, "--parent", f.parent, "--attributes", early, "--witness", f.witness)
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastError(stderr), "a withdrawals list before canyon")
}

// TestExecBlockBadBlockInput: a malformed --block, bad --l2/--number values and conflicting flags each get
// a one-line error naming the problem and exit 2, never a panic or the help text.
func TestExecBlockBadBlockInput(t *testing.T) {
	d, srv := testExecDevnet(t)
	cfg := devnetConfigArgs(t, d)
	dir := t.TempDir()
	n := uint64(46)
	full := rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", hexutil.EncodeUint64(n), true)
	witness := filepath.Join(dir, "witness.json")
	require.NoError(t, os.WriteFile(witness, rpcJSON(t, srv.L2URL(), "debug_executionWitness", hexutil.EncodeUint64(n)), 0o644))
	file := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}
	// edited returns the block JSON with one field changed (nil: removed).
	edited := func(name, field string, value any) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(full, &m))
		if value == nil {
			delete(m, field)
		} else {
			m[field] = value
		}
		return writeJSONFile(t, filepath.Join(dir, name), m)
	}
	editedTx := func(name, field string, value any) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(full, &m))
		tx := m["transactions"].([]any)[0].(map[string]any)
		if value == nil {
			delete(tx, field)
		} else {
			tx[field] = value
		}
		return writeJSONFile(t, filepath.Join(dir, name), m)
	}
	hashesOnly := file("hashes.json", rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", hexutil.EncodeUint64(n), false))
	genesis := file("genesis-block.json", rpcJSON(t, srv.L2URL(), "eth_getBlockByNumber", "0x0", true))
	withdrawal := []map[string]string{{"index": "0x0", "validatorIndex": "0x1", "address": common.Address{9}.Hex(), "amount": "0x10"}}

	block := func(path string, extra ...string) []string {
		return append(append([]string{"exec-block", "--block", path, "--witness", witness}, cfg...), extra...)
	}
	tests := []struct {
		name    string
		args    []string
		errText string
	}{
		{"bad JSON", block(file("bad.json", full[:len(full)/2])), "--block " + filepath.Join(dir, "bad.json") + ": block header: unexpected end of JSON input"},
		{"null", block(file("null.json", []byte("null"))), "no block (empty or null JSON)"},
		{"not an object", block(file("array.json", []byte(`[1,2]`))), "block header: json: cannot unmarshal array"},
		{"missing header field", block(edited("no-root.json", "stateRoot", nil)), "missing required field 'stateRoot'"},
		{"missing transactions", block(edited("no-txs.json", "transactions", nil)), "missing field 'transactions'"},
		{"number of the wrong type", block(edited("number-type.json", "number", 46)), "block header: json: cannot unmarshal non-string into Go struct field Header.number"},
		{"transactions of the wrong type", block(edited("txs-type.json", "transactions", "0x00")), "block body: json: cannot unmarshal string"},
		{"transactions as hashes", block(hashesOnly), "transaction 0 is only a hash: fetch the block with its transactions"},
		{"transaction missing a field", block(editedTx("tx-field.json", "sourceHash", nil)), "transaction 0: missing required field 'sourceHash'"},
		{"transaction changed", block(editedTx("tx-changed.json", "gas", "0x1")), "transaction 0 hashes to"},
		{"header changed", block(edited("gas-limit.json", "gasLimit", "0x1")), "but the block's hash field says"},
		{"genesis block", block(genesis), "block 0 is the genesis block"},
		{"number of 2^64", block(edited("huge.json", "number", "0x10000000000000000")), "block number 18446744073709551616 does not fit 64 bits"},
		{"withdrawals", block(edited("withdrawals.json", "withdrawals", withdrawal)), "1 withdrawals: OP Stack blocks carry no withdrawals"},
		{"parent of another block", block(edited("parent.json", "hash", nil), "--parent", writeJSONFile(t, filepath.Join(dir, "p.json"), d.L2Block(n-2).Header())), "but the block's parent is"},
		{"parent not in the witness", append([]string{"exec-block", "--block", edited("full.json", "size", "0x1"), "--witness", file("empty-witness.json", []byte(`{"state":[]}`))}, cfg...), "(give --parent if the witness lacks it)"},
		{"attributes with block", block(witness, "--attributes", witness), "--attributes and --block are mutually exclusive"},
		{"none of the three", append([]string{"exec-block", "--witness", witness}, cfg...), "one of --attributes, --block or --l2 is required"},
		{"number without l2", block(witness, "--number", "5"), "--number needs --l2"},
		{"l2 without number", append([]string{"exec-block", "--l2", srv.L2URL()}, cfg...), "--l2 needs --number"},
		{"l2 with witness", append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "5", "--witness", witness}, cfg...), "--l2 fetches the witness"},
		{"bad number", append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "five"}, cfg...), `--number "five" is not a block number`},
		{"number 0", append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "0"}, cfg...), "--number 0 is the genesis block"},
		{"block the node lacks", append([]string{"exec-block", "--l2", srv.L2URL(), "--number", "100000"}, cfg...), "has no block 100000"},
		{"node of another chain", []string{"exec-block", "--network", "op-sepolia", "--l2", srv.L2URL(), "--number", "5"}, "serves chain 901, but the rollup config is for chain 11155420"},
		{"no node", append([]string{"exec-block", "--l2", "http://127.0.0.1:1", "--number", "5"}, cfg...), "--l2 http://127.0.0.1:1: L2 chain ID"},
		{"unknown flag", block(witness, "--frobnicate"), "flag provided but not defined: -frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			require.Equal(t, 2, code, stderr)
			require.NotContains(t, stderr, "panic")
			require.NotContains(t, stderr, "USAGE")
			require.Contains(t, lastError(stderr), tt.errText)
		})
	}
}
