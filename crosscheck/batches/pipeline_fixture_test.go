package batches_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
)

// The pipeline fuzzer's seed data: the devnet's stream (a fixture made from the devnet package) and real
// batcher data from op-node's chains (kona's test vectors in the optimism module).

const devnetFixturePath = "testdata/devnet_stream.json.gz"

// pipeFixture is a chain and the batcher data of each of its L1 blocks (L1 retrieval's output).
type pipeFixture struct {
	BlockTime, SeqWindow, Drift, ChannelTimeout uint64
	L2ChainID, L2Time                           uint64
	GenesisL1                                   eth.BlockID
	GenesisL2                                   common.Hash
	Forks                                       map[string]uint64
	L1                                          []eth.L1BlockRef
	Data                                        [][]hexutil.Bytes
	// Known are the L2 blocks after genesis: their content hash (blockHash of the real parent hash,
	// time, L1 origin and user transactions) and real hash.
	Known []struct{ Key, Hash common.Hash }
}

func (fx *pipeFixture) params() *chainParams {
	at := func(name string) *uint64 {
		if t, ok := fx.Forks[name]; ok {
			return u64p(t)
		}
		return nil
	}
	return &chainParams{
		blockTime: fx.BlockTime, seqWindow: fx.SeqWindow, drift: fx.Drift,
		forks: forkTimes{delta: at("delta"), fjord: at("fjord"), granite: at("granite"), holocene: at("holocene"),
			isthmus: at("isthmus"), jovian: at("jovian"), karst: at("karst")},
		genesisL1: fx.GenesisL1, genesisL2: fx.GenesisL2, channelTimeout: fx.ChannelTimeout,
		l2ChainID: new(big.Int).SetUint64(fx.L2ChainID), l2Time: fx.L2Time, canyon: at("canyon"),
	}
}

func (fx *pipeFixture) data(k int) [][]byte {
	if k >= len(fx.Data) {
		return nil
	}
	out := make([][]byte, len(fx.Data[k]))
	for i, d := range fx.Data[k] {
		out[i] = append([]byte(nil), d...)
	}
	return out
}

func (fx *pipeFixture) knownHashes() map[common.Hash]common.Hash {
	m := make(map[common.Hash]common.Hash, len(fx.Known))
	for _, k := range fx.Known {
		m[k.Key] = k.Hash
	}
	return m
}

// devnetSource is the devnet's L1 as derivation's L1Fetcher and BlobFetcher.
type devnetSource struct {
	d      *devnet.Devnet
	byHash map[common.Hash]*types.Block
}

func (s devnetSource) block(h common.Hash) (*types.Block, error) {
	if b, ok := s.byHash[h]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no devnet L1 block %s", h)
}

func (s devnetSource) HeaderByHash(h common.Hash) (*types.Header, error) {
	b, err := s.block(h)
	if err != nil {
		return nil, err
	}
	return b.Header(), nil
}

func (s devnetSource) TransactionsByHash(h common.Hash) (*types.Header, types.Transactions, error) {
	b, err := s.block(h)
	if err != nil {
		return nil, nil, err
	}
	return b.Header(), b.Transactions(), nil
}

func (s devnetSource) ReceiptsByHash(h common.Hash) (*types.Header, types.Receipts, error) {
	b, err := s.block(h)
	if err != nil {
		return nil, nil, err
	}
	return b.Header(), s.d.L1Receipts(b.NumberU64()), nil
}

func (s devnetSource) GetBlob(_, _ uint64, h common.Hash) (*kzg4844.Blob, error) {
	blob, _, _, ok := s.d.Blob(h)
	if !ok {
		return nil, fmt.Errorf("no devnet blob %s", h)
	}
	return blob, nil
}

// devnetFixture reads a devnet's stream: its L1 blocks, the batcher data of each (calldata or blobs, from
// the batcher of the system config as of that block), and its L2 blocks' hashes.
func devnetFixture(d *devnet.Devnet) (*pipeFixture, error) {
	cfg := d.Rollup()
	fx := &pipeFixture{
		BlockTime: cfg.BlockTime, SeqWindow: cfg.SeqWindowSize, Drift: cfg.MaxSequencerDrift,
		ChannelTimeout: cfg.ChannelTimeoutBedrock, L2ChainID: cfg.L2ChainID.Uint64(), L2Time: cfg.Genesis.L2Time,
		GenesisL1: eth.BlockID{Hash: cfg.Genesis.L1.Hash, Number: cfg.Genesis.L1.Number}, GenesisL2: cfg.Genesis.L2.Hash,
		Forks: map[string]uint64{},
	}
	for name, t := range map[string]*uint64{"canyon": cfg.CanyonTime, "delta": cfg.DeltaTime, "fjord": cfg.FjordTime,
		"granite": cfg.GraniteTime, "holocene": cfg.HoloceneTime, "isthmus": cfg.IsthmusTime, "jovian": cfg.JovianTime,
		"karst": cfg.KarstTime} {
		if t != nil {
			fx.Forks[name] = *t
		}
	}
	src := devnetSource{d: d, byHash: map[common.Hash]*types.Block{}}
	head := d.L1Head().NumberU64()
	for n := uint64(0); n <= head; n++ {
		b := d.L1Block(n)
		src.byHash[b.Hash()] = b
	}
	sys := cfg.Genesis.SystemConfig
	for n := uint64(0); n <= head; n++ {
		b := d.L1Block(n)
		ref := derive.L1BlockRefOf(b.Header())
		fx.L1 = append(fx.L1, eth.L1BlockRef{Hash: ref.Hash, Number: ref.Number, ParentHash: ref.ParentHash, Time: ref.Time})
		var data []hexutil.Bytes
		if n > 0 {
			if err := derive.ProcessSystemConfigUpdates(cfg, &sys, d.L1Receipts(n), b.Time()); err != nil {
				return nil, fmt.Errorf("system config of L1 block %d: %w", n, err)
			}
			payloads, err := derive.BatcherData(cfg, src, src, ref, sys.BatcherAddr, nil, quiet)
			if err != nil {
				return nil, fmt.Errorf("batcher data of L1 block %d: %w", n, err)
			}
			for _, p := range payloads {
				data = append(data, p)
			}
		}
		fx.Data = append(fx.Data, data)
	}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		b := d.L2Block(n)
		ref, err := derive.L2BlockRefOf(cfg, b)
		if err != nil {
			return nil, fmt.Errorf("L2 block %d: %w", n, err)
		}
		var txs []hexutil.Bytes
		for _, tx := range b.Transactions() {
			if tx.Type() == types.DepositTxType {
				continue
			}
			enc, err := tx.MarshalBinary()
			if err != nil {
				return nil, err
			}
			txs = append(txs, enc)
		}
		key := blockHash(b.ParentHash(), b.Time(), eth.BlockID{Hash: ref.L1Origin.Hash, Number: ref.L1Origin.Number}, txs)
		fx.Known = append(fx.Known, struct{ Key, Hash common.Hash }{key, b.Hash()})
	}
	return fx, nil
}

var devnetFixtureOnce struct {
	sync.Once
	fx  *pipeFixture
	err error
}

// loadDevnetFixture reads testdata/devnet_stream.json.gz.
func loadDevnetFixture(t testing.TB) *pipeFixture {
	devnetFixtureOnce.Do(func() {
		f, err := os.Open(devnetFixturePath)
		if err != nil {
			devnetFixtureOnce.err = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			devnetFixtureOnce.err = err
			return
		}
		var fx pipeFixture
		if err := json.NewDecoder(zr).Decode(&fx); err != nil {
			devnetFixtureOnce.err = err
			return
		}
		devnetFixtureOnce.fx = &fx
	})
	require.NoError(t, devnetFixtureOnce.err, "%s (regenerate: PIPEDIFF_UPDATE=1 go test ./batches -run TestDevnetStreamFixture)", devnetFixturePath)
	return devnetFixtureOnce.fx
}

// TestDevnetStreamFixture regenerates the fixture (PIPEDIFF_UPDATE=1), or, outside -short, runs the
// pipelines on a devnet made now, so that the fixture cannot hide a change of the devnet.
func TestDevnetStreamFixture(t *testing.T) {
	update := os.Getenv("PIPEDIFF_UPDATE") == "1"
	if !update && testing.Short() {
		t.Skip("makes a devnet (seconds); the fixture is used under -short")
	}
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	fx, err := devnetFixture(d)
	require.NoError(t, err)
	if update {
		f, err := os.Create(devnetFixturePath)
		require.NoError(t, err)
		zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
		require.NoError(t, json.NewEncoder(zw).Encode(fx))
		require.NoError(t, zw.Close())
		require.NoError(t, f.Close())
		t.Logf("wrote %s: %d L1 blocks, %d L2 blocks", devnetFixturePath, len(fx.L1), len(fx.Known))
		return
	}
	for seed := range int64(20) {
		c := devnetCase(fx, seed, nil)
		ours, op, diff, err := pipeRun(c.p, c.feed, c.known, c.supply)
		require.NoError(t, err)
		require.Equal(t, "", diff, "fresh devnet, seed %d: %s", seed, diff)
		require.False(t, seed == 0 && (len(op.chain.refs) != len(fx.Known)+1 || ours.log.err != ""), "fresh devnet: op-node derived %d blocks (the devnet has %d), our error %q", len(op.chain.refs)-1, len(fx.Known), ours.log.err)
	}
}

// realData is batcher data from op-node's chains.
type realData struct {
	batcherTx []byte // a calldata batcher transaction's data: one frame, a whole zlib channel
	spanBatch []byte // an encoded span batch (type byte and content)
}

var realDataOnce struct {
	sync.Once
	d   *realData
	err error
}

// loadRealData reads kona's vectors from the optimism module: rust/kona/crates/protocol/derive/testdata/
// raw_batcher_tx.hex (an EIP-2718 transaction) and rust/kona/crates/protocol/protocol/src/batch/testdata/
// raw_batch.hex (a span batch's content); both binary despite their names.
func loadRealData(t testing.TB) *realData {
	realDataOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum-optimism/optimism").Output()
		if err != nil {
			realDataOnce.err = fmt.Errorf("go list -m github.com/ethereum-optimism/optimism: %w", err)
			return
		}
		dir := strings.TrimSpace(string(out))
		rawTx, err := os.ReadFile(filepath.Join(dir, "rust", "kona", "crates", "protocol", "derive", "testdata", "raw_batcher_tx.hex"))
		if err != nil {
			realDataOnce.err = err
			return
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(rawTx); err != nil {
			realDataOnce.err = err
			return
		}
		span, err := os.ReadFile(filepath.Join(dir, "rust", "kona", "crates", "protocol", "protocol", "src", "batch", "testdata", "raw_batch.hex"))
		if err != nil {
			realDataOnce.err = err
			return
		}
		realDataOnce.d = &realData{batcherTx: tx.Data(), spanBatch: append([]byte{byte(derive.SpanBatchType)}, span...)}
	})
	require.NoError(t, realDataOnce.err)
	return realDataOnce.d
}
