// Package batches_test checks faultproof's batch validity rules and batch stages (derive/batch_*.go) against
// op-node's (op-node/rollup/derive: CheckBatch, BatchQueue, BatchStage, BatchMux) on seeded random inputs
// around the rule boundaries, and on the inputs where the specs and op-node disagree (divergence_test.go);
// and the pipeline from batcher data to batches, both sides in lockstep on mutated streams (pipeline*_test.go,
// the differential fuzzer FuzzPipelineDiff). faultproof follows op-node: any difference fails.
package batches_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

const genesisTime = 1_000_000

var chainID = big.NewInt(10)

func u64p(v uint64) *uint64 { return &v }

// iterations scales a loop count down in -short mode.
func iterations(full int) int {
	if testing.Short() {
		return max(1, full/10)
	}
	return full
}

func hashOf(parts ...any) common.Hash {
	var buf []byte
	for _, p := range parts {
		switch v := p.(type) {
		case uint64:
			buf = binary.BigEndian.AppendUint64(buf, v)
		case int:
			buf = binary.BigEndian.AppendUint64(buf, uint64(v))
		case string:
			buf = append(buf, v...)
		case common.Hash:
			buf = append(buf, v[:]...)
		case []byte:
			buf = append(buf, v...)
		default:
			panic(fmt.Sprintf("hashOf %T", p))
		}
	}
	return crypto.Keccak256Hash(buf)
}

// forkTimes is a fork schedule, in the order of rollup.Forks (without Regolith..Ecotone, active at genesis),
// plus Lagoon.
type forkTimes struct {
	delta, fjord, granite, holocene, isthmus, jovian, karst, lagoon *uint64
}

func (f forkTimes) String() string {
	s := ""
	for _, x := range []struct {
		n string
		t *uint64
	}{{"delta", f.delta}, {"fjord", f.fjord}, {"granite", f.granite}, {"holocene", f.holocene},
		{"isthmus", f.isthmus}, {"jovian", f.jovian}, {"karst", f.karst}, {"lagoon", f.lagoon}} {
		if x.t != nil {
			s += fmt.Sprintf(" %s=%d", x.n, *x.t)
		}
	}
	return s
}

// params of a chain: both configs are built from them.
type chainParams struct {
	blockTime, seqWindow, drift uint64
	forks                       forkTimes
	genesisL1                   eth.BlockID
	genesisL2                   common.Hash

	// Optional: the channel timeout before Granite (0: 50), the L2 chain ID (nil: chainID) and the L2
	// genesis time (0: genesisTime).
	channelTimeout uint64
	l2ChainID      *big.Int
	l2Time         uint64
	// canyon is Canyon's activation time (nil: genesis). Regolith and Ecotone are active at genesis.
	canyon *uint64
}

func (p *chainParams) canyonTime() *uint64 {
	if p.canyon == nil {
		return u64p(0)
	}
	return p.canyon
}

func (p *chainParams) chainTimes() (channelTimeout uint64, id *big.Int, l2Time uint64) {
	channelTimeout, id, l2Time = p.channelTimeout, p.l2ChainID, p.l2Time
	if channelTimeout == 0 {
		channelTimeout = 50
	}
	if id == nil {
		id = chainID
	}
	if l2Time == 0 {
		l2Time = genesisTime
	}
	return channelTimeout, id, l2Time
}

// genesisTime is the L2 genesis time.
func (p *chainParams) genesisTime() uint64 {
	_, _, t := p.chainTimes()
	return t
}

func (p *chainParams) ours() *rollup.Config {
	timeout, id, l2Time := p.chainTimes()
	return &rollup.Config{
		BlockTime: p.blockTime, SeqWindowSize: p.seqWindow, MaxSequencerDrift: p.drift, L2ChainID: id,
		ChannelTimeoutBedrock: timeout, L1ChainID: big.NewInt(1),
		Genesis: rollup.Genesis{
			L1:     rollup.BlockID{Hash: p.genesisL1.Hash, Number: p.genesisL1.Number},
			L2:     rollup.BlockID{Hash: p.genesisL2, Number: 0},
			L2Time: l2Time,
		},
		RegolithTime: u64p(0), CanyonTime: p.canyonTime(), EcotoneTime: u64p(0),
		DeltaTime: p.forks.delta, FjordTime: p.forks.fjord, GraniteTime: p.forks.granite,
		HoloceneTime: p.forks.holocene, IsthmusTime: p.forks.isthmus, JovianTime: p.forks.jovian,
		KarstTime: p.forks.karst, LagoonTime: p.forks.lagoon,
	}
}

func (p *chainParams) op() *oprollup.Config {
	timeout, id, l2Time := p.chainTimes()
	return &oprollup.Config{
		BlockTime: p.blockTime, SeqWindowSize: p.seqWindow, MaxSequencerDrift: p.drift, L2ChainID: id,
		ChannelTimeoutBedrock: timeout, L1ChainID: big.NewInt(1),
		Genesis: oprollup.Genesis{
			L1:     p.genesisL1,
			L2:     eth.BlockID{Hash: p.genesisL2, Number: 0},
			L2Time: l2Time,
		},
		RegolithTime: u64p(0), CanyonTime: p.canyonTime(), EcotoneTime: u64p(0),
		DeltaTime: p.forks.delta, FjordTime: p.forks.fjord, GraniteTime: p.forks.granite,
		HoloceneTime: p.forks.holocene, IsthmusTime: p.forks.isthmus, JovianTime: p.forks.jovian,
		KarstTime: p.forks.karst, LagoonTime: p.forks.lagoon,
	}
}

// l1Chain is a random L1 chain from genesisTime on.
func randomL1(rng *rand.Rand, n int, maxGap int) []eth.L1BlockRef {
	out := make([]eth.L1BlockRef, n)
	t := uint64(genesisTime)
	for i := range out {
		if i > 0 {
			t += uint64(1 + rng.Intn(maxGap))
		}
		out[i] = eth.L1BlockRef{Hash: hashOf("l1", i, rng.Uint64()), Number: uint64(i), Time: t}
		if i > 0 {
			out[i].ParentHash = out[i-1].Hash
		}
	}
	return out
}

func ourL1(b eth.L1BlockRef) derive.L1BlockRef {
	return derive.L1BlockRef{Hash: b.Hash, Number: b.Number, ParentHash: b.ParentHash, Time: b.Time}
}

func ourL1s(bs []eth.L1BlockRef) []derive.L1BlockRef {
	out := make([]derive.L1BlockRef, len(bs))
	for i, b := range bs {
		out[i] = ourL1(b)
	}
	return out
}

func ourL2(r eth.L2BlockRef) derive.L2BlockRef {
	return derive.L2BlockRef{Hash: r.Hash, Number: r.Number, ParentHash: r.ParentHash, Time: r.Time,
		L1Origin: rollup.BlockID{Hash: r.L1Origin.Hash, Number: r.L1Origin.Number}, SequenceNumber: r.SequenceNumber}
}

// txPool holds transactions of the kinds batches carry: geth-decodable signed ones (for L2 blocks) and
// the odd ones (for batches only).
type txPool struct {
	signed []hexutil.Bytes
	odd    []hexutil.Bytes
}

func newTxPool(seed int64) *txPool {
	rng := rand.New(rand.NewSource(seed))
	p := &txPool{}
	for range 6 {
		for _, kind := range []int{derivetest.LegacyUnprotected, derivetest.LegacyProtected, derivetest.AccessList,
			derivetest.DynamicFee, derivetest.SetCode} {
			p.signed = append(p.signed, derivetest.RandomTx(rng, chainID, kind))
		}
	}
	p.odd = []hexutil.Bytes{
		derivetest.RandomTx(rng, chainID, derivetest.PostExec),
		{0x7E, 0xc0},             // deposit
		{},                       // empty
		{0x03, 0xc1, 0x80},       // blob type
		{0x05, 0xc0},             // future type
		{0x7F, 0xc0},             // future type
		{0x80, 0x01},             // neither a type nor legacy
		{0xff, 0xff, 0xff, 0xff}, // neither
	}
	return p
}

// txs picks n transactions; odd ones with probability oddPct percent.
func (p *txPool) txs(rng *rand.Rand, n int, oddPct int) []hexutil.Bytes {
	var out []hexutil.Bytes
	for range n {
		if rng.Intn(100) < oddPct {
			out = append(out, p.odd[rng.Intn(len(p.odd))])
		} else {
			out = append(out, p.signed[rng.Intn(len(p.signed))])
		}
	}
	return out
}

// signedOnly are transactions with geth-decodable ones only.
func (p *txPool) signedTxs(rng *rand.Rand, n int) []hexutil.Bytes { return p.txs(rng, n, 0) }

// l2Chain is an L2 chain both sides read: block refs and user transactions, and the L1 blocks for the
// L1-info deposits op-node reads L1 origins from.
type l2Chain struct {
	params *chainParams
	opCfg  *oprollup.Config
	l1     map[uint64]eth.L1BlockRef
	refs   []eth.L2BlockRef
	txs    [][]hexutil.Bytes
	// known maps the content hash of a block (blockHash) to its real hash, for chains whose batches were
	// made on real blocks (the devnet's).
	known map[common.Hash]common.Hash
}

// blockHash is the hash of an L2 block of the given content (as the sequencer and the engine compute it).
func blockHash(parent common.Hash, ts uint64, epoch eth.BlockID, txs []hexutil.Bytes) common.Hash {
	parts := []any{"l2", parent, ts, epoch.Hash}
	for _, tx := range txs {
		parts = append(parts, []byte(tx))
	}
	return hashOf(parts...)
}

func newL2Chain(p *chainParams, l1 []eth.L1BlockRef) *l2Chain {
	c := &l2Chain{params: p, opCfg: p.op(), l1: map[uint64]eth.L1BlockRef{}}
	for _, b := range l1 {
		c.l1[b.Number] = b
	}
	c.refs = []eth.L2BlockRef{{Hash: p.genesisL2, Number: 0, Time: p.genesisTime(), L1Origin: p.genesisL1}}
	c.txs = [][]hexutil.Bytes{nil}
	return c
}

func (c *l2Chain) head() eth.L2BlockRef { return c.refs[len(c.refs)-1] }

// add appends a block on the head, replacing the blocks after parent.
func (c *l2Chain) add(parent eth.L2BlockRef, ts uint64, epoch eth.BlockID, txs []hexutil.Bytes) eth.L2BlockRef {
	c.refs, c.txs = c.refs[:parent.Number+1], c.txs[:parent.Number+1]
	seq := uint64(0)
	if epoch.Number == parent.L1Origin.Number {
		seq = parent.SequenceNumber + 1
	}
	h := blockHash(parent.Hash, ts, epoch, txs)
	if real, ok := c.known[h]; ok {
		h = real
	}
	ref := eth.L2BlockRef{Hash: h, Number: parent.Number + 1, ParentHash: parent.Hash,
		Time: ts, L1Origin: epoch, SequenceNumber: seq}
	c.refs = append(c.refs, ref)
	c.txs = append(c.txs, txs)
	return ref
}

func (c *l2Chain) ref(n uint64) (eth.L2BlockRef, error) {
	if n >= uint64(len(c.refs)) {
		return eth.L2BlockRef{}, fmt.Errorf("no L2 block %d", n)
	}
	return c.refs[n], nil
}

// l1Info is op-node's eth.BlockInfo of an L1 block, with what the L1-info deposit reads.
type l1Info struct {
	eth.BlockInfo
	ref eth.L1BlockRef
}

func (i l1Info) Hash() common.Hash                        { return i.ref.Hash }
func (i l1Info) NumberU64() uint64                        { return i.ref.Number }
func (i l1Info) Time() uint64                             { return i.ref.Time }
func (i l1Info) BaseFee() *big.Int                        { return big.NewInt(7) }
func (i l1Info) BlobBaseFee(*params.ChainConfig) *big.Int { return big.NewInt(1) }
func (i l1Info) ExcessBlobGas() *uint64                   { return nil }
func (i l1Info) ParentHash() common.Hash                  { return i.ref.ParentHash }
func (i l1Info) ParentBeaconRoot() *common.Hash           { return nil }
func (i l1Info) HeaderRLP() ([]byte, error)               { return nil, nil }
func (i l1Info) BlobGasUsed() *uint64                     { return nil }
func (i l1Info) GasLimit() uint64                         { return 0 }
func (i l1Info) GasUsed() uint64                          { return 0 }
func (i l1Info) Coinbase() common.Address                 { return common.Address{} }
func (i l1Info) Root() common.Hash                        { return common.Hash{} }
func (i l1Info) MixDigest() common.Hash                   { return common.Hash{} }
func (i l1Info) ReceiptHash() common.Hash                 { return common.Hash{} }
func (i l1Info) WithdrawalsRoot() *common.Hash            { return nil }
func (i l1Info) Extra() []byte                            { return nil }

// opFetcher is op-node's view of the chain.
type opFetcher struct{ c *l2Chain }

func (f opFetcher) L2BlockRefByNumber(_ context.Context, n uint64) (eth.L2BlockRef, error) {
	return f.c.ref(n)
}

func (f opFetcher) PayloadByNumber(_ context.Context, n uint64) (*eth.ExecutionPayloadEnvelope, error) {
	ref, err := f.c.ref(n)
	if err != nil {
		return nil, err
	}
	var txs []eth.Data
	if n > 0 {
		origin, ok := f.c.l1[ref.L1Origin.Number]
		if !ok || origin.Hash != ref.L1Origin.Hash {
			return nil, fmt.Errorf("unknown L1 origin %s of L2 block %d", ref.L1Origin, n)
		}
		dep, err := opderive.L1InfoDeposit(f.c.opCfg, nil, eth.SystemConfig{}, ref.SequenceNumber, l1Info{ref: origin}, ref.Time)
		if err != nil {
			return nil, err
		}
		enc, err := dep.MarshalBinary()
		if err != nil {
			return nil, err
		}
		txs = append(txs, enc)
	}
	for _, tx := range f.c.txs[n] {
		txs = append(txs, eth.Data(tx))
	}
	return &eth.ExecutionPayloadEnvelope{ExecutionPayload: &eth.ExecutionPayload{
		BlockHash: ref.Hash, BlockNumber: eth.Uint64Quantity(ref.Number), ParentHash: ref.ParentHash,
		Timestamp: eth.Uint64Quantity(ref.Time), Transactions: txs,
	}}, nil
}

// ourFetcher is faultproof's view of the chain.
type ourFetcher struct{ c *l2Chain }

func (f ourFetcher) L2BlockRefByNumber(n uint64) (derive.L2BlockRef, error) {
	ref, err := f.c.ref(n)
	return ourL2(ref), err
}

func (f ourFetcher) PayloadByNumber(n uint64) (*types.Block, error) {
	ref, err := f.c.ref(n)
	if err != nil {
		return nil, err
	}
	txs := []*types.Transaction{types.NewTx(&types.DepositTx{SourceHash: hashOf("dep", n), Gas: 1, Data: []byte{1}})}
	for _, raw := range f.c.txs[n] {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(raw); err != nil {
			return nil, fmt.Errorf("L2 block %d: %w", n, err)
		}
		txs = append(txs, &tx)
	}
	h := &types.Header{Number: new(big.Int).SetUint64(n), Time: ref.Time, ParentHash: ref.ParentHash}
	return types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: txs}), nil
}
