package crosscheck

// Real chain data: kona's stateless executor fixtures (rust/kona/crates/proof/executor/testdata in the
// optimism module) are OP Sepolia blocks 26207960-26211680 (April 2025, Holocene), each with the parent
// header, the payload attributes of the block, its hash, and a RocksDB holding every trie node, contract
// code and header that executing it reads (fetched from a real node with debug_dbGet). Our engine must
// rebuild each block through the preimage oracle alone, with the registry's op-sepolia configs, to the real
// block hash.

import (
	"archive/tar"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

const opSepoliaChainID = 11155420

// konaFixture is one block of kona's executor fixtures.
type konaFixture struct {
	Name string
	// raw holds fixture.json's parent header and attributes as kona wrote them.
	raw struct {
		Parent     json.RawMessage `json:"parent_header"`
		Attributes json.RawMessage `json:"executing_payload"`
	}
	Parent      *types.Header             `json:"parent_header"`
	Attributes  *rollup.PayloadAttributes `json:"executing_payload"`
	Expected    common.Hash               `json:"expected_block_hash"`
	RollupChain struct {
		L2ChainID uint64 `json:"l2_chain_id"`
	} `json:"rollup_config"`
	// values are the RocksDB's values: trie nodes, code and headers, by keccak256 key.
	values map[[32]byte][]byte
	// sst says the store has table files besides its write-ahead log, which this reader does not parse.
	sst bool
}

// konaFixtureFiles lists the fixture archives in the optimism module of this test module.
func konaFixtureFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(optimismDir(t), "rust", "kona", "crates", "proof", "executor", "testdata", "block-*.tar.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the optimism module has no kona executor fixtures (rust/kona/crates/proof/executor/testdata)")
	return files
}

// loadKonaFixture reads a fixture archive: fixture.json and the values of the RocksDB's write-ahead log.
func loadKonaFixture(t *testing.T, file string) *konaFixture {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	fx := &konaFixture{Name: strings.TrimSuffix(filepath.Base(file), ".tar.gz"), values: map[[32]byte][]byte{}}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		base := path.Base(hdr.Name)
		if strings.HasPrefix(base, "._") { // macOS resource forks in the archive
			continue
		}
		switch {
		case base == "fixture.json":
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, fx), "fixture.json")
			require.NoError(t, json.Unmarshal(data, &fx.raw), "fixture.json")
		case strings.HasSuffix(base, ".log") && strings.Contains(hdr.Name, "/kv/"):
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			values, err := rocksWALValues(data)
			require.NoError(t, err, "%s: %s", fx.Name, hdr.Name)
			for _, v := range values {
				fx.values[preimage.KeccakKeyOf(v).PreimageKey()] = v
			}
		case strings.HasSuffix(base, ".sst"):
			fx.sst = true
		}
	}
	require.NotNil(t, fx.Parent, "%s: no parent header", fx.Name)
	require.NotNil(t, fx.Attributes, "%s: no payload attributes", fx.Name)
	return fx
}

// rocksWALValues returns the values put by the write batches of a RocksDB write-ahead log (the LevelDB log
// format: 32 KiB blocks of records with a 7-byte header, or 11 bytes for the recyclable types; a record
// split over blocks as FIRST, MIDDLE..., LAST). Deletions are not expected in these fixtures and fail.
func rocksWALValues(data []byte) ([][]byte, error) {
	const blockSize = 32 * 1024
	var (
		values [][]byte
		record []byte
		inRec  bool
	)
	for off := 0; off < len(data); {
		left := blockSize - off%blockSize
		if left < 7 { // block trailer
			off += left
			continue
		}
		if off+7 > len(data) {
			break
		}
		length := int(binary.LittleEndian.Uint16(data[off+4:]))
		typ := data[off+6]
		hdrLen := 7
		if typ >= 5 { // recyclable record types carry the log number
			hdrLen = 11
			typ -= 4
		}
		if typ == 0 && length == 0 { // zero padding up to the block end
			off += left
			continue
		}
		if off+hdrLen+length > len(data) {
			return nil, fmt.Errorf("record at %d runs past the end of the log", off)
		}
		payload := data[off+hdrLen : off+hdrLen+length]
		off += hdrLen + length
		switch typ {
		case 1: // FULL
			record, inRec = payload, false
		case 2: // FIRST
			record, inRec = append([]byte(nil), payload...), true
			continue
		case 3: // MIDDLE
			if !inRec {
				return nil, fmt.Errorf("middle fragment without a first at %d", off)
			}
			record = append(record, payload...)
			continue
		case 4: // LAST
			if !inRec {
				return nil, fmt.Errorf("last fragment without a first at %d", off)
			}
			record, inRec = append(record, payload...), false
		default:
			return nil, fmt.Errorf("record type %d at %d", typ, off)
		}
		vs, err := writeBatchValues(record)
		if err != nil {
			return nil, err
		}
		values = append(values, vs...)
	}
	return values, nil
}

// writeBatchValues decodes a RocksDB write batch: sequence (8 bytes), count (4), then tagged entries.
func writeBatchValues(b []byte) ([][]byte, error) {
	if len(b) < 12 {
		return nil, errors.New("short write batch")
	}
	count := binary.LittleEndian.Uint32(b[8:])
	b = b[12:]
	slice := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errors.New("bad length in write batch")
		}
		s := b[k : k+int(n)]
		b = b[k+int(n):]
		return s, nil
	}
	var values [][]byte
	for i := uint32(0); i < count; i++ {
		if len(b) == 0 {
			return nil, fmt.Errorf("write batch ends after %d of %d entries", i, count)
		}
		tag := b[0]
		b = b[1:]
		if tag == 0x5 { // value in a column family: the family's ID first
			if _, k := binary.Uvarint(b); k > 0 {
				b = b[k:]
			}
			tag = 0x1
		}
		if tag != 0x1 {
			return nil, fmt.Errorf("write batch entry tag %#x is not a put", tag)
		}
		if _, err := slice(); err != nil { // key
			return nil, err
		}
		v, err := slice()
		if err != nil {
			return nil, err
		}
		values = append(values, append([]byte(nil), v...))
	}
	return values, nil
}

// fixtureOracle serves a fixture's values, verified against their keys as the oracle channel does.
type fixtureOracle struct{ values map[[32]byte][]byte }

func (o fixtureOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := o.values[k]
	if !ok {
		return nil, fmt.Errorf("preimage %x is not in the fixture", k)
	}
	return v, preimage.Verify(k, v)
}

func (fixtureOracle) Hint(preimage.Hint) error { return nil }

// nativePrecompiles answers precompile calls with go-ethereum's own implementations, as a host does.
type nativePrecompiles struct {
	contracts vm.PrecompiledContracts
	calls     int
}

func (n *nativePrecompiles) Precompile(addr common.Address, _ uint64, input []byte) ([]byte, bool, error) {
	n.calls++
	p, ok := n.contracts[addr]
	if !ok {
		return nil, false, fmt.Errorf("no precompile at %s", addr)
	}
	out, err := p.Run(input)
	return out, err == nil, nil
}

// TestKonaRealBlocks rebuilds real OP Sepolia blocks with our engine from kona's fixtures.
func TestKonaRealBlocks(t *testing.T) {
	rcfg, l2cfg, err := rollup.FromRegistry(opSepoliaChainID)
	require.NoError(t, err)
	built := 0
	for _, file := range konaFixtureFiles(t) {
		fx := loadKonaFixture(t, file)
		t.Run(fx.Name, func(t *testing.T) {
			if fx.sst {
				t.Skip("the fixture's store has RocksDB table files; only its write-ahead log is read here")
			}
			require.EqualValues(t, opSepoliaChainID, fx.RollupChain.L2ChainID)
			parentRLP, err := rlp.EncodeToBytes(fx.Parent)
			require.NoError(t, err)
			parentHash := crypto.Keccak256Hash(parentRLP)
			fx.values[preimage.Keccak256Key(parentHash).PreimageKey()] = parentRLP
			attrs := fx.Attributes
			if attrs.Withdrawals == nil && rcfg.IsCanyon(attrs.Timestamp) {
				// The engine wants the empty list op-node always sends from Canyon (kona's fixtures leave it
				// out; exec-block reads them as they are: TestKonaExecBlock).
				attrs.Withdrawals = []*types.Withdrawal{}
			}
			o := fixtureOracle{fx.values}
			// Twice: precompiles run by the EVM, then the accelerated ones answered from outside the
			// program as in the VM (here computed natively by a stand-in for the host).
			for _, accelerate := range []bool{false, true} {
				chain, err := l2.NewChain(rcfg, l2cfg, l2.NewOracle(o, o), parentHash)
				require.NoError(t, err)
				host := &nativePrecompiles{contracts: vm.ActivePrecompiledContracts(l2cfg.Rules(new(big.Int).Add(fx.Parent.Number, common.Big1), true, attrs.Timestamp))}
				if accelerate {
					chain.SetPrecompileOracle(host)
				}
				res, err := chain.BuildBlock(parentHash, attrs, vm.Config{})
				require.NoError(t, err)
				require.Equal(t, fx.Expected, res.Block.Hash(), "block %d (%d transactions, fork %s, accelerated precompiles %v)",
					res.Block.NumberU64(), len(res.Block.Transactions()), rcfg.ForkAt(attrs.Timestamp), accelerate)
				if accelerate {
					t.Logf("block %d: %d transactions, %d gas, %s, %d accelerated precompile calls; hash %s as on OP Sepolia",
						res.Block.NumberU64(), len(res.Block.Transactions()), res.Block.GasUsed(), rcfg.ForkAt(attrs.Timestamp),
						host.calls, res.Block.Hash())
				}
			}
			built++
		})
	}
	require.GreaterOrEqual(t, built, 5, "real blocks rebuilt")
}

// TestKonaExecBlock runs 'faultproof exec-block' on kona's fixtures as they are: the parent header and the
// payload attributes of fixture.json untouched (no withdrawals list in them), the fixture's store as the
// witness. Each block must be rebuilt to its real OP Sepolia hash. Then the same block, given as
// eth_getBlockByNumber(N, true) JSON with --block, must be rebuilt from the attributes exec-block derives
// from it (Holocene's EIP-1559 parameters from extraData), with the parent header found in the witness.
func TestKonaExecBlock(t *testing.T) {
	rcfg, l2cfg, err := rollup.FromRegistry(opSepoliaChainID)
	require.NoError(t, err)
	bin := faultproofBinary(t)
	built := 0
	for _, file := range konaFixtureFiles(t) {
		fx := loadKonaFixture(t, file)
		t.Run(fx.Name, func(t *testing.T) {
			if fx.sst {
				t.Skip("the fixture's store has RocksDB table files; only its write-ahead log is read here")
			}
			dir := t.TempDir()
			write := func(name string, data []byte) string {
				path := filepath.Join(dir, name)
				require.NoError(t, os.WriteFile(path, data, 0o644))
				return path
			}
			state := make([]hexutil.Bytes, 0, len(fx.values))
			for _, v := range fx.values {
				state = append(state, v)
			}
			witness, err := json.Marshal(map[string]any{"state": state})
			require.NoError(t, err)
			args := []string{"exec-block", "--network", fmt.Sprint(opSepoliaChainID),
				"--parent", write("parent.json", fx.raw.Parent), "--attributes", write("attributes.json", fx.raw.Attributes),
				"--witness", write("witness.json", witness), "--expect", fx.Expected.Hex()}
			stdout := runExecBlock(t, bin, args...)
			require.Contains(t, stdout, "hash "+fx.Expected.Hex()+"\nexpected "+fx.Expected.Hex())

			// The block itself, as a node serves it; the parent header comes with the witness.
			block := konaBlockJSON(t, rcfg, l2cfg, fx)
			witness, err = json.Marshal(map[string]any{"state": state, "headers": []json.RawMessage{fx.raw.Parent}})
			require.NoError(t, err)
			stdout = runExecBlock(t, bin, "exec-block", "--network", fmt.Sprint(opSepoliaChainID),
				"--block", write("block.json", block), "--witness", write("witness-headers.json", witness))
			require.Contains(t, stdout, "hash "+fx.Expected.Hex()+"\nexpected "+fx.Expected.Hex())
			built++
		})
	}
	require.Equal(t, 7, built, "real blocks rebuilt by exec-block")
}

// konaBlockJSON is the fixture's block in the JSON shape of eth_getBlockByNumber(N, true): header fields,
// hash and full transaction objects. The block is built with our engine and must have the real hash, so
// the JSON is that of the real OP Sepolia block.
func konaBlockJSON(t *testing.T, rcfg *rollup.Config, l2cfg *params.ChainConfig, fx *konaFixture) []byte {
	t.Helper()
	parentRLP, err := rlp.EncodeToBytes(fx.Parent)
	require.NoError(t, err)
	parentHash := crypto.Keccak256Hash(parentRLP)
	values := maps.Clone(fx.values)
	values[preimage.Keccak256Key(parentHash).PreimageKey()] = parentRLP
	o := fixtureOracle{values}
	chain, err := l2.NewChain(rcfg, l2cfg, l2.NewOracle(o, o), parentHash)
	require.NoError(t, err)
	attrs := *fx.Attributes
	attrs.Withdrawals = []*types.Withdrawal{}
	res, err := chain.BuildBlock(parentHash, &attrs, vm.Config{})
	require.NoError(t, err)
	require.Equal(t, fx.Expected, res.Block.Hash())

	var fields map[string]any
	data, err := json.Marshal(res.Block.Header())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &fields))
	txs := make([]any, len(res.Block.Transactions()))
	for i, tx := range res.Block.Transactions() {
		txs[i] = tx
	}
	fields["transactions"] = txs
	fields["withdrawals"] = []any{}
	out, err := json.Marshal(fields)
	require.NoError(t, err)
	return out
}

// runExecBlock runs the binary and returns its stdout; it fails the test unless the binary exits 0.
func runExecBlock(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		require.FailNow(t, fmt.Sprintf("faultproof %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String()))
	}
	return stdout.String()
}
