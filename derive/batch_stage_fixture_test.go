package derive_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

// The batch stage fixtures: an L1 chain with a block every btL1Spacing seconds from btGenesisTime, an L2
// chain with a block every 2 seconds from the same time, whose block n has L1 origin n/5 (so L2 time >=
// L1 time), and a rollup config with a small sequencing window.
const (
	btGenesisTime = 100
	btL1Spacing   = 10
	btBlockTime   = 2
	btSeqWindow   = 4
	btDrift       = 30
)

func btU64(v uint64) *uint64 { return &v }

// btLog is the stages' logger in tests: nothing is written.
var btLog = log.NewLogger(log.DiscardHandler())

func btConfig() *rollup.Config {
	return &rollup.Config{
		BlockTime:         btBlockTime,
		SeqWindowSize:     btSeqWindow,
		MaxSequencerDrift: btDrift,
		L2ChainID:         big.NewInt(901),
		Genesis: rollup.Genesis{
			L1:     btL1(0).ID(),
			L2:     rollup.BlockID{Hash: btL2Hash(0), Number: 0},
			L2Time: btGenesisTime,
		},
		RegolithTime: btU64(0), CanyonTime: btU64(0), DeltaTime: btU64(0), EcotoneTime: btU64(0),
	}
}

func btHoloceneConfig() *rollup.Config {
	cfg := btConfig()
	cfg.FjordTime, cfg.GraniteTime, cfg.HoloceneTime = btU64(0), btU64(0), btU64(0)
	return cfg
}

func btHash(kind string, n uint64) common.Hash {
	return crypto.Keccak256Hash([]byte(kind), binary.BigEndian.AppendUint64(nil, n))
}

func btL1(n uint64) derive.L1BlockRef {
	return derive.L1BlockRef{Hash: btHash("l1", n), Number: n, ParentHash: btHash("l1", n-1), Time: btGenesisTime + btL1Spacing*n}
}

func btL1s(from, to uint64) []derive.L1BlockRef {
	var out []derive.L1BlockRef
	for n := from; n <= to; n++ {
		out = append(out, btL1(n))
	}
	return out
}

func btL2Hash(n uint64) common.Hash { return btHash("l2", n) }

// btL2 is block n of the fixture's safe chain.
func btL2(n uint64) derive.L2BlockRef {
	origin := n / 5
	seq := uint64(0)
	if n > 0 && (n-1)/5 == origin {
		seq = n - origin*5
	}
	return derive.L2BlockRef{
		Hash: btL2Hash(n), Number: n, ParentHash: btL2Hash(n - 1), Time: btGenesisTime + btBlockTime*n,
		L1Origin: btL1(origin).ID(), SequenceNumber: seq,
	}
}

// btTx returns a signed transaction of the given derivetest kind, fixed by seed.
func btTx(seed int64, kind int) hexutil.Bytes {
	return derivetest.RandomTx(rand.New(rand.NewSource(seed)), big.NewInt(901), kind)
}

// btChain is a fake safe L2 chain: block refs and the user transactions of each block (after one deposit).
type btChain struct {
	refs  map[uint64]derive.L2BlockRef
	txs   map[uint64][]hexutil.Bytes
	fail  bool // every read fails
	reads int
}

func newBTChain(head uint64) *btChain {
	c := &btChain{refs: map[uint64]derive.L2BlockRef{}, txs: map[uint64][]hexutil.Bytes{}}
	for n := uint64(0); n <= head; n++ {
		c.refs[n] = btL2(n)
		c.txs[n] = []hexutil.Bytes{btTx(int64(n), derivetest.DynamicFee)}
	}
	return c
}

var errBTChain = errors.New("fake L2 source failure")

func (c *btChain) L2BlockRefByNumber(n uint64) (derive.L2BlockRef, error) {
	c.reads++
	ref, ok := c.refs[n]
	if c.fail || !ok {
		return derive.L2BlockRef{}, fmt.Errorf("%w: block %d", errBTChain, n)
	}
	return ref, nil
}

func (c *btChain) PayloadByNumber(n uint64) (*types.Block, error) {
	c.reads++
	ref, ok := c.refs[n]
	if c.fail || !ok {
		return nil, fmt.Errorf("%w: block %d", errBTChain, n)
	}
	txs := []*types.Transaction{types.NewTx(&types.DepositTx{
		SourceHash: btHash("deposit", n), From: common.Address{1}, Gas: 1_000_000, IsSystemTransaction: false,
		Data: []byte{1, 2, 3},
	})}
	for _, raw := range c.txs[n] {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			return nil, err
		}
		txs = append(txs, &tx)
	}
	h := &types.Header{Number: new(big.Int).SetUint64(n), Time: ref.Time, ParentHash: ref.ParentHash}
	return types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: txs}), nil
}

// add appends the block derived from batch on parent, as the engine would, replacing any block there.
func (c *btChain) add(parent derive.L2BlockRef, b *derive.SingularBatch) derive.L2BlockRef {
	seq := uint64(0)
	if b.EpochNum == parent.L1Origin.Number {
		seq = parent.SequenceNumber + 1
	}
	ref := derive.L2BlockRef{
		Hash:           btL2Hash(parent.Number + 1), // by number: tests predict parent hashes
		Number:         parent.Number + 1,
		ParentHash:     parent.Hash,
		Time:           b.Timestamp,
		L1Origin:       b.Epoch(),
		SequenceNumber: seq,
	}
	c.refs[ref.Number] = ref
	c.txs[ref.Number] = b.Transactions
	return ref
}

// btChannel is a channel's batches; btSource serves the channels of each L1 block in order.
type btChannel []*derive.BatchData

type btSource struct {
	l1       []derive.L1BlockRef
	idx      int
	channels map[uint64][]btChannel // by L1 block number
	ch, pos  int                    // position in the current L1 block's channels
	flushes  int
	read     int
	// cfg, if set, makes btRun switch a BatchMux to the Holocene stage as the pipeline does.
	cfg *rollup.Config
}

func newBTSource(l1 []derive.L1BlockRef) *btSource {
	return &btSource{l1: l1, channels: map[uint64][]btChannel{}}
}

// post adds a channel to L1 block n.
func (s *btSource) post(n uint64, batches ...*derive.BatchData) {
	s.channels[n] = append(s.channels[n], btChannel(batches))
}

func (s *btSource) Origin() derive.L1BlockRef { return s.l1[s.idx] }

func (s *btSource) NextBatch() (*derive.BatchData, error) {
	chs := s.channels[s.Origin().Number]
	for s.ch < len(chs) && s.pos >= len(chs[s.ch]) {
		s.ch, s.pos = s.ch+1, 0
	}
	if s.ch >= len(chs) {
		return nil, io.EOF
	}
	b := chs[s.ch][s.pos]
	s.pos++
	s.read++
	return b, nil
}

func (s *btSource) FlushChannel() {
	s.flushes++
	s.ch, s.pos = s.ch+1, 0
}

// advance moves to the next L1 block; false at the end.
func (s *btSource) advance() bool {
	if s.idx+1 >= len(s.l1) {
		return false
	}
	s.idx++
	s.ch, s.pos = 0, 0
	return true
}

// resetTo points the source at L1 block n.
func (s *btSource) resetTo(n uint64) {
	for i, b := range s.l1 {
		if b.Number == n {
			s.idx, s.ch, s.pos = i, 0, 0
			return
		}
	}
	panic("no such L1 block")
}

// btOut is a derived batch and its lastInSpan flag.
type btOut struct {
	batch *derive.SingularBatch
	last  bool
	at    uint64 // L1 origin number when it was derived
}

// btRun drives stage from safe until the source has no more L1 blocks, and returns the derived batches.
// Each batch is applied to chain.
func btRun(t *testing.T, stage derive.SingularBatchProvider, src *btSource, chain *btChain, safe derive.L2BlockRef) ([]btOut, derive.L2BlockRef) {
	t.Helper()
	var out []btOut
	for range 10_000 {
		b, last, err := stage.NextBatch(safe)
		switch {
		case err == nil:
			require.Equal(t, safe.Hash, b.ParentHash, "batch parent")
			require.Equal(t, safe.Time+btBlockTime, b.Timestamp, "batch timestamp")
			out = append(out, btOut{batch: b, last: last, at: src.Origin().Number})
			safe = chain.add(safe, b)
		case errors.Is(err, derive.ErrNotEnoughData):
		case errors.Is(err, io.EOF):
			prev := src.Origin()
			if !src.advance() {
				return out, safe
			}
			if m, ok := stage.(*derive.BatchMux); ok && src.cfg != nil && derive.HoloceneTransform(src.cfg, prev, src.Origin()) {
				m.TransformHolocene()
			}
		default:
			require.FailNow(t, fmt.Sprintf("NextBatch: %v", err))
		}
	}
	require.FailNow(t, "stage does not make progress")
	return nil, safe
}

// btSingular is the batch of the L2 block at timestamp ts after parent hash parent, on L1 epoch n.
func btSingular(parent common.Hash, ts, epoch uint64, txs ...hexutil.Bytes) *derive.SingularBatch {
	return &derive.SingularBatch{ParentHash: parent, EpochNum: epoch, EpochHash: btL1(epoch).Hash, Timestamp: ts, Transactions: txs}
}

// btSpan builds a span batch from singular batches (the first one's parent hash is the parent check).
func btSpan(t *testing.T, cfg *rollup.Config, originChanged bool, batches ...*derive.SingularBatch) *derive.BatchData {
	t.Helper()
	raw, err := derive.EncodeSpanBatch(cfg, batches, originChanged)
	require.NoError(t, err)
	return derive.NewSpanBatchData(raw)
}

func btSingularData(b *derive.SingularBatch) *derive.BatchData { return derive.NewSingularBatchData(b) }
