package batches_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"

	"github.com/ethereum-optimism/optimism/op-core/forks"
	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

// The pipeline in lockstep: batcher transaction data (the output of L1 retrieval) goes through op-node's
// stages (frame queue, channel mux, channel-in reader, batch mux) and ours (frame queue, channel bank,
// channel-in reader, batch mux), L1 block by L1 block, each side over its own copy of the L2 chain it
// derives. Every stage boundary is recorded: the frames the frame queue hands out, the channels the channel
// stage hands out, the batches the reader hands out (with the channel flushes), and the batches the batch
// stage derives, with the L1 block each was seen at, and any error. The records must be identical.

// pipeFeed is the batcher data of each L1 block, shared by both sides; data for block k is added just before
// the sides move to it (supply), so that a batcher can follow the safe chain.
type pipeFeed struct {
	l1   []eth.L1BlockRef
	data [][][]byte
}

// pipeCursor walks a feed.
type pipeCursor struct {
	f        *pipeFeed
	idx, pos int
}

func (c *pipeCursor) next() ([]byte, bool) {
	if c.idx >= len(c.f.data) || c.pos >= len(c.f.data[c.idx]) {
		return nil, false
	}
	d := c.f.data[c.idx][c.pos]
	c.pos++
	return d, true
}

func (c *pipeCursor) advance() { c.idx, c.pos = c.idx+1, 0 }

// pipeLog records what crosses each stage boundary on one side.
type pipeLog struct {
	at                                 *int // the L1 block being read
	frames, channels, batches, derived []string
	err                                string
}

func (l *pipeLog) add(to *[]string, format string, args ...any) {
	*to = append(*to, fmt.Sprintf("L1 %d: ", *l.at)+fmt.Sprintf(format, args...))
}

func txsDigest(txs []hexutil.Bytes) string {
	h := crypto.NewKeccakState()
	for _, tx := range txs {
		fmt.Fprintf(h, "%d:", len(tx))
		h.Write(tx)
	}
	return fmt.Sprintf("%d txs %x", len(txs), h.Sum(nil)[:6])
}

func frameString(id [16]byte, num uint16, last bool, data []byte) string {
	return fmt.Sprintf("frame %x:%d last=%v len=%d %x", id[:4], num, last, len(data), crypto.Keccak256(data)[:6])
}

func channelString(data []byte) string {
	return fmt.Sprintf("channel len=%d %x", len(data), crypto.Keccak256(data)[:6])
}

func singularString(parent common.Hash, epoch uint64, epochHash common.Hash, ts uint64, txs []hexutil.Bytes) string {
	return fmt.Sprintf("singular ts=%d epoch=%d %x parent=%x %s", ts, epoch, epochHash[:4], parent[:4], txsDigest(txs))
}

func spanString2(parentCheck, originCheck [20]byte, blocks []string) string {
	return fmt.Sprintf("span pc=%x oc=%x [%s]", parentCheck[:4], originCheck[:4], strings.Join(blocks, " "))
}

// errClass names an error by its derivation severity.
func errClass(critical, reset, temporary bool, err error) string {
	switch {
	case critical:
		return "critical"
	case reset:
		return "reset"
	case temporary:
		return "temporary"
	}
	return "other: " + err.Error()
}

const pipeMaxSteps = 200_000

// engineRefuses reports whether an engine refuses a block with these batch transactions before running
// them: one does not decode, or is a blob transaction (op-geth's engine API, and client/l2). Both sides use
// it on what they derive, as op-node's engine controller and the program's engine would: before Holocene
// (by the L1 block the batch was derived from) the block is dropped, from Holocene it is replaced by a
// deposit-only block and the rest of its channel is flushed.
func engineRefuses(txs []hexutil.Bytes) bool {
	for _, enc := range txs {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(enc); err != nil || tx.Type() == types.BlobTxType {
			return true
		}
	}
	return false
}

// noMetrics is op-node's derivation metrics, unrecorded.
type noMetrics struct{}

func (noMetrics) RecordL1Ref(string, eth.L1BlockRef) {}
func (noMetrics) RecordL2Ref(string, eth.L2BlockRef) {}
func (noMetrics) RecordChannelInputBytes(int)        {}
func (noMetrics) RecordHeadChannelOpened()           {}
func (noMetrics) RecordChannelTimedOut()             {}
func (noMetrics) RecordFrame()                       {}
func (noMetrics) RecordDerivedBatches(string)        {}
func (noMetrics) SetDerivationIdle(bool)             {}
func (noMetrics) RecordPipelineReset()               {}

// ---- our side ----

type ourPipeData struct{ pipeCursor }

func (d *ourPipeData) Origin() derive.L1BlockRef { return ourL1(d.f.l1[d.idx]) }
func (d *ourPipeData) NextData() ([]byte, error) {
	if b, ok := d.next(); ok {
		return b, nil
	}
	return nil, io.EOF
}

type ourPipeFrames struct {
	prev derive.FrameProvider
	log  *pipeLog
}

func (r ourPipeFrames) Origin() derive.L1BlockRef { return r.prev.Origin() }
func (r ourPipeFrames) NextFrame() (derive.Frame, error) {
	f, err := r.prev.NextFrame()
	if err == nil {
		r.log.add(&r.log.frames, "%s", frameString(f.ID, f.FrameNumber, f.IsLast, f.Data))
	}
	return f, err
}

type ourPipeChannels struct {
	prev derive.ChannelProvider
	log  *pipeLog
}

func (r ourPipeChannels) Origin() derive.L1BlockRef { return r.prev.Origin() }
func (r ourPipeChannels) FlushChannel()             { r.prev.FlushChannel() }
func (r ourPipeChannels) NextChannel() ([]byte, error) {
	data, err := r.prev.NextChannel()
	if err == nil {
		r.log.add(&r.log.channels, "%s", channelString(data))
	}
	return data, err
}

type ourPipeBatches struct {
	prev derive.BatchProvider
	log  *pipeLog
	p    *chainParams
}

func (r ourPipeBatches) Origin() derive.L1BlockRef { return r.prev.Origin() }
func (r ourPipeBatches) FlushChannel() {
	r.log.add(&r.log.batches, "flush")
	r.prev.FlushChannel()
}
func (r ourPipeBatches) NextBatch() (*derive.BatchData, error) {
	b, err := r.prev.NextBatch()
	if err != nil {
		return b, err
	}
	if sb, ok := b.Singular(); ok {
		r.log.add(&r.log.batches, "%s", singularString(sb.ParentHash, sb.EpochNum, sb.EpochHash, sb.Timestamp, sb.Transactions))
	} else if raw, ok := b.Span(); ok {
		// op-node's reader derives span batches and drops those that do not derive; ours leaves that to
		// the batch stage. Only the ones that derive are compared here.
		if span, err := derive.DeriveSpanBatch(r.p.ours(), raw); err == nil {
			var blocks []string
			for _, blk := range span.Blocks {
				blocks = append(blocks, fmt.Sprintf("(%d e%d %s)", blk.Timestamp, blk.EpochNum, txsDigest(blk.Transactions)))
			}
			r.log.add(&r.log.batches, "%s", spanString2(span.ParentCheck, span.L1OriginCheck, blocks))
		}
	}
	return b, nil
}

// ourPipe is our pipeline from the frame queue to the batch mux.
type ourPipe struct {
	p      *chainParams
	data   *ourPipeData
	frames *derive.FrameQueue
	bank   *derive.ChannelBank
	reader *derive.ChannelInReader
	mux    *derive.BatchMux
	chain  *l2Chain
	safe   eth.L2BlockRef
	log    pipeLog
	done   bool
}

func newOurPipe(p *chainParams, feed *pipeFeed, known map[common.Hash]common.Hash) *ourPipe {
	cfg, quietLog := p.ours(), log.NewLogger(log.DiscardHandler())
	o := &ourPipe{p: p, data: &ourPipeData{pipeCursor{f: feed}}, chain: newL2Chain(p, feed.l1)}
	o.chain.known = known
	o.log.at = &o.data.idx
	o.frames = derive.NewFrameQueue(cfg, quietLog, o.data)
	o.bank = derive.NewChannelBank(cfg, quietLog, ourPipeFrames{o.frames, &o.log})
	o.reader = derive.NewChannelInReader(cfg, quietLog, ourPipeChannels{o.bank, &o.log})
	o.mux = derive.NewBatchMux(cfg, quietLog, ourPipeBatches{o.reader, &o.log, p}, ourFetcher{o.chain})
	base := ourL1(feed.l1[0])
	o.frames.Reset()
	o.bank.Reset(base)
	o.reader.Reset()
	o.mux.Reset(base)
	o.safe = o.chain.head()
	return o
}

func (o *ourPipe) toEOF() {
	for range pipeMaxSteps {
		if o.done {
			return
		}
		b, last, err := o.mux.NextBatch(ourL2(o.safe))
		switch {
		case err == nil:
			d := derivedOf(b, last, uint64(o.data.idx))
			o.log.add(&o.log.derived, "%s", d)
			txs := b.Transactions
			if engineRefuses(txs) {
				if !o.p.ours().IsHolocene(o.data.Origin().Time) {
					o.log.add(&o.log.derived, "refused: dropped")
					continue
				}
				if err := o.mux.FlushChannel(); err != nil {
					o.log.err = fmt.Sprintf("L1 %d: %s", o.data.idx, errClass(errors.Is(err, derive.ErrCritical), false, false, err))
					o.done = true
					return
				}
				o.log.add(&o.log.derived, "refused: deposits only")
				txs = nil
			}
			o.safe = o.chain.add(o.safe, b.Timestamp, eth.BlockID{Hash: b.EpochHash, Number: b.EpochNum}, txs)
		case errors.Is(err, derive.ErrNotEnoughData):
		case errors.Is(err, io.EOF):
			return
		default:
			o.log.err = fmt.Sprintf("L1 %d: %s", o.data.idx, errClass(errors.Is(err, derive.ErrCritical), errors.Is(err, derive.ErrReset), false, err))
			o.done = true
			return
		}
	}
	o.log.err = "no progress"
	o.done = true
}

// advance moves to the next L1 block and switches the stages at Holocene, as derive.Pipeline does.
func (o *ourPipe) advance() {
	prev := o.data.Origin()
	o.data.advance()
	if derive.HoloceneTransform(o.p.ours(), prev, o.data.Origin()) {
		o.frames.Reset()
		o.bank.TransformHolocene()
		o.mux.TransformHolocene()
	}
}

// ---- op-node's side ----

type opPipeData struct{ pipeCursor }

func (d *opPipeData) Origin() eth.L1BlockRef { return d.f.l1[d.idx] }
func (d *opPipeData) NextData(context.Context) ([]byte, error) {
	if b, ok := d.next(); ok {
		return b, nil
	}
	return nil, io.EOF
}

type opPipeFrames struct {
	prev opderive.NextFrameProvider
	log  *pipeLog
}

func (r opPipeFrames) Origin() eth.L1BlockRef { return r.prev.Origin() }
func (r opPipeFrames) NextFrame(ctx context.Context) (opderive.Frame, error) {
	f, err := r.prev.NextFrame(ctx)
	if err == nil {
		r.log.add(&r.log.frames, "%s", frameString(f.ID, f.FrameNumber, f.IsLast, f.Data))
	}
	return f, err
}

type opPipeChannels struct {
	*opderive.ChannelMux
	log *pipeLog
}

func (r opPipeChannels) NextRawChannel(ctx context.Context) ([]byte, error) {
	data, err := r.ChannelMux.NextRawChannel(ctx)
	// A nil channel without an error is how op-node's channel bank reports that it dropped a timed-out
	// channel (the reader then drops the empty "channel"); a channel read is never nil.
	if err == nil && data != nil {
		r.log.add(&r.log.channels, "%s", channelString(data))
	}
	return data, err
}

type opPipeBatches struct {
	prev *opderive.ChannelInReader
	log  *pipeLog
}

func (r opPipeBatches) Origin() eth.L1BlockRef { return r.prev.Origin() }
func (r opPipeBatches) FlushChannel() {
	r.log.add(&r.log.batches, "flush")
	r.prev.FlushChannel()
}
func (r opPipeBatches) NextBatch(ctx context.Context) (opderive.Batch, error) {
	b, err := r.prev.NextBatch(ctx)
	if err != nil {
		return b, err
	}
	if sb, ok := b.AsSingularBatch(); ok {
		r.log.add(&r.log.batches, "%s", singularString(sb.ParentHash, uint64(sb.EpochNum), sb.EpochHash, sb.Timestamp, sb.Transactions))
	} else if span, ok := b.AsSpanBatch(); ok {
		var blocks []string
		for _, blk := range span.Batches {
			blocks = append(blocks, fmt.Sprintf("(%d e%d %s)", blk.Timestamp, blk.EpochNum, txsDigest(blk.Transactions)))
		}
		r.log.add(&r.log.batches, "%s", spanString2(span.ParentCheck, span.L1OriginCheck, blocks))
	}
	return b, nil
}

// opPipe is op-node's pipeline from the frame queue to the batch mux, reset and transformed at fork
// activations as its DerivationPipeline does.
type opPipe struct {
	cfg    *oprollup.Config
	data   *opPipeData
	frames *opderive.FrameQueue
	chmux  *opderive.ChannelMux
	reader *opderive.ChannelInReader
	mux    *opderive.BatchMux
	chain  *l2Chain
	safe   eth.L2BlockRef
	log    pipeLog
	done   bool
}

func newOpPipe(p *chainParams, feed *pipeFeed, known map[common.Hash]common.Hash) (*opPipe, error) {
	cfg := p.op()
	o := &opPipe{cfg: cfg, data: &opPipeData{pipeCursor{f: feed}}, chain: newL2Chain(p, feed.l1)}
	o.chain.known = known
	o.log.at = &o.data.idx
	spec := oprollup.NewChainSpec(cfg)
	o.frames = opderive.NewFrameQueue(quiet, cfg, o.data)
	o.chmux = opderive.NewChannelMux(quiet, spec, opPipeFrames{o.frames, &o.log}, noMetrics{})
	o.reader = opderive.NewChannelInReader(cfg, quiet, opPipeChannels{o.chmux, &o.log}, noMetrics{})
	o.mux = opderive.NewBatchMux(quiet, cfg, opPipeBatches{o.reader, &o.log}, opFetcher{o.chain})
	ctx, base := context.Background(), feed.l1[0]
	for _, st := range []opderive.ResettableStage{o.frames, o.chmux, o.reader, o.mux} {
		if err := st.Reset(ctx, base, eth.SystemConfig{}); err != io.EOF {
			return nil, fmt.Errorf("op-node reset: %w", err)
		}
	}
	o.safe = o.chain.head()
	return o, nil
}

func (o *opPipe) toEOF() {
	defer func() {
		if r := recover(); r != nil {
			o.log.err = fmt.Sprintf("L1 %d: panic: %v", o.data.idx, r)
			o.done = true
		}
	}()
	for range pipeMaxSteps {
		if o.done {
			return
		}
		b, last, err := o.mux.NextBatch(context.Background(), o.safe)
		switch {
		case err == nil:
			d := derived{ts: b.Timestamp, epoch: uint64(b.EpochNum), epochHash: b.EpochHash, parentHash: b.ParentHash,
				txs: fmt.Sprint(b.Transactions), last: last, at: uint64(o.data.idx)}
			o.log.add(&o.log.derived, "%s", d)
			txs := b.Transactions
			if engineRefuses(txs) {
				if !o.cfg.IsHolocene(o.data.Origin().Time) {
					o.log.add(&o.log.derived, "refused: dropped")
					continue
				}
				if !o.flush() {
					return
				}
				o.log.add(&o.log.derived, "refused: deposits only")
				txs = nil
			}
			o.safe = o.chain.add(o.safe, b.Timestamp, b.Epoch(), txs)
		case errors.Is(err, opderive.NotEnoughData):
		case errors.Is(err, io.EOF):
			return
		default:
			o.log.err = fmt.Sprintf("L1 %d: %s", o.data.idx, errClass(errors.Is(err, opderive.ErrCritical),
				errors.Is(err, opderive.ErrReset), errors.Is(err, opderive.ErrTemporary), err))
			o.done = true
			return
		}
	}
	o.log.err = "no progress"
	o.done = true
}

// flush is op-node's DepositsOnlyAttributes: its batch mux flushes the channel. Its pre-Holocene queue
// panics there, which ends op-program without a verdict: a critical error.
func (o *opPipe) flush() (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			o.log.err = fmt.Sprintf("L1 %d: critical", o.data.idx)
			o.done = true
			ok = false
		}
	}()
	o.mux.FlushChannel()
	return true
}

// advance moves to the next L1 block and transforms the stages at a fork activation, as op-node's
// pipeline does when its origin changes: it reports the first fork that activates between the two origins.
func (o *opPipe) advance() {
	old := o.data.Origin()
	o.data.advance()
	if f := o.cfg.IsActivationBlock(old.Time, o.data.Origin().Time); f != forks.None {
		o.frames.Transform(f)
		o.chmux.Transform(f)
		o.mux.Transform(f)
	}
}

// pipeRun runs both sides over the feed. supply(k, safe, chain) fills the data of L1 block k (k >= 1) with
// op-node's safe head and chain; block 0's data must be in the feed already. It returns the first
// difference, or "".
func pipeRun(p *chainParams, feed *pipeFeed, known map[common.Hash]common.Hash,
	supply func(k int, safe eth.L2BlockRef, chain *l2Chain)) (ours *ourPipe, op *opPipe, diff string, err error) {
	if len(feed.data) == 0 {
		feed.data = make([][][]byte, 1)
	}
	ours = newOurPipe(p, feed, known)
	if op, err = newOpPipe(p, feed, known); err != nil {
		return nil, nil, "", err
	}
	for k := 0; ; k++ {
		ours.toEOF()
		op.toEOF()
		if diff = pipeDiff(&ours.log, &op.log); diff != "" || k+1 >= len(feed.l1) || (ours.done && op.done) {
			return ours, op, diff, nil
		}
		for len(feed.data) <= k+1 {
			feed.data = append(feed.data, nil)
		}
		if supply != nil {
			supply(k+1, op.safe, op.chain)
		}
		ours.advance()
		op.advance()
	}
}

// pipeDiff names the first difference between the records, with the entries around it.
func pipeDiff(ours, op *pipeLog) string {
	for _, s := range []struct {
		name     string
		ours, op []string
	}{
		{"frames", ours.frames, op.frames},
		{"channels", ours.channels, op.channels},
		{"batches read", ours.batches, op.batches},
		{"batches derived", ours.derived, op.derived},
	} {
		n := min(len(s.ours), len(s.op))
		first := -1
		for i := range n {
			if s.ours[i] != s.op[i] {
				first = i
				break
			}
		}
		if first < 0 && len(s.ours) != len(s.op) {
			first = n
		}
		if first < 0 {
			continue
		}
		msg := fmt.Sprintf("%s differ at entry %d (ours %d entries, op-node %d; errors: ours %q, op-node %q)", s.name, first,
			len(s.ours), len(s.op), ours.err, op.err)
		for i := max(0, first-3); i < first+3; i++ {
			var o, p string
			if i < len(s.ours) {
				o = s.ours[i]
			}
			if i < len(s.op) {
				p = s.op[i]
			}
			msg += fmt.Sprintf("\n  %d ours    %s\n  %d op-node %s", i, o, i, p)
		}
		return msg
	}
	if ours.err != op.err {
		return fmt.Sprintf("errors differ: ours %q, op-node %q", ours.err, op.err)
	}
	return ""
}
