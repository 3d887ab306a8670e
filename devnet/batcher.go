package devnet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// batcher posts L2 blocks to L1: the blocks built since channels were last opened go in new channels,
// whose frames are posted in order and never interleaved with another channel's (Holocene requires both),
// the newest channel's over a few L1 blocks (BatcherConfig). A faulty batcher also makes the attacks of
// Config.Faults.
type batcher struct {
	rollup  *rollup.Config
	cfg     BatcherConfig
	seed    uint64
	l1      *l1Chain // the L1 blocks, as L1 origins of attacks
	pending []*l2Built
	cuts    [][]*l2Built // groups of blocks that must end a channel, to open before pending
	waited  uint64       // L1 blocks since channels were last opened
	queue   []*channel   // channels with frames still to post, oldest first
	opened  uint64
	infos   []BatchInfo // of every L2 block batched, by number - 1

	// handedOver is, by L2 block number, the L1 block where the latest posting of the block's batch ended:
	// its channel's last frame, or the last frame the batcher meant to post of it.
	handedOver map[uint64]uint64
	faults     []Fault // not made yet
	holdUntil  uint64  // nothing is posted before this L1 block (a channel left to time out)
	// rejected makes a transaction the engine rejects; attackTxs are the transactions of batches the
	// sequencer did not make, with the block they claim to be for (their senders' preimages).
	rejected  func() ([]byte, error)
	attackTxs []batchTx
	// futureRightParent keeps the right parent hash in FaultFutureTimestamp's batch from Holocene on.
	futureRightParent bool
	// urgent: the channels opened next post all their frames at once (after a reorg or a stall, the
	// batcher catches up before the sequencing windows of the blocks end).
	urgent bool
}

// channel is a channel being posted.
type channel struct {
	index  uint64
	id     derive.ChannelID
	frames []derive.Frame
	next   int // first frame not posted yet
	posts  int // L1 blocks it was posted in so far
	blob   bool
	brotli bool
	blocks []uint64 // the L2 blocks whose honest batches it holds
	mode   channelMode
	lateAt uint64 // modeLate: the L1 block of the last frame
	urgent bool   // all frames in the L1 block that opens it: the batcher is catching up
}

// channelMode is how a channel's frames are posted.
type channelMode int

const (
	modeNormal     channelMode = iota
	modeAtOnce                 // every frame in the L1 block that opens it (an attack's channel)
	modeReversed               // every frame at once, last first
	modeDuplicated             // every frame at once, each followed by another with the same number
	modeUnfinished             // all but the last frame, which never comes
	modeLate                   // all but the last frame, then the last at lateAt
)

// batcherTx is the payload of one batcher transaction: calldata, or one blob per payload.
type batcherTx struct {
	blob     bool
	payloads [][]byte
}

func newBatcher(rcfg *rollup.Config, cfg Config, l1 *l1Chain, rejected func() ([]byte, error)) *batcher {
	return &batcher{
		rollup: rcfg, cfg: cfg.Batcher, seed: cfg.Seed, l1: l1, handedOver: map[uint64]uint64{},
		faults: slices.Clone(cfg.Faults), rejected: rejected, futureRightParent: cfg.HoloceneFutureRightParent,
	}
}

func (b *batcher) add(blk *l2Built) { b.pending = append(b.pending, blk) }

// cut ends the channel with the blocks added so far: they go in a channel of their own.
func (b *batcher) cut() {
	if len(b.pending) > 0 {
		b.cuts = append(b.cuts, b.pending)
		b.pending = nil
	}
}

func (b *batcher) idle() bool { return len(b.pending) == 0 && len(b.cuts) == 0 && len(b.queue) == 0 }

// setInfo records where the batch of L2 block n was posted.
func (b *batcher) setInfo(n uint64, info BatchInfo) {
	for uint64(len(b.infos)) < n {
		b.infos = append(b.infos, BatchInfo{})
	}
	b.infos[n-1] = info
}

// newChannel starts the next channel, to be posted from the L1 block at l1Time on: blobs and brotli as
// BatcherConfig and the forks allow (two in three channels are brotli-compressed from Fjord).
func (b *batcher) newChannel(l1Time uint64) *channel {
	idx := b.opened
	b.opened++
	var id derive.ChannelID
	copy(id[:], crypto.Keccak256(binary.BigEndian.AppendUint64([]byte("faultproof devnet channel/"), b.seed), binary.BigEndian.AppendUint64(nil, idx)))
	ecotone := b.rollup.IsEcotone(l1Time)
	blob := false
	switch b.cfg.DA {
	case DAAlternate:
		blob = ecotone && idx%2 == 1
	case DABlobs:
		blob = ecotone
	}
	return &channel{index: idx, id: id, blob: blob, brotli: b.rollup.IsFjord(l1Time) && idx%3 != 0, urgent: b.urgent}
}

// fill compresses batches into the channel and cuts it in frames: about FramesPerChannel, at least
// minFrames.
func (b *batcher) fill(ch *channel, batches []*derive.BatchData, minFrames int) error {
	algo := derive.Zlib
	if ch.brotli {
		algo = derive.Brotli
	}
	// The Bedrock limit is the lower one: the channel fits whichever applies when it is read.
	co, err := derive.NewChannelOut(ch.id, algo, b.rollup.MaxRLPBytesPerChannel(b.rollup.Genesis.L2Time))
	if err != nil {
		return err
	}
	for _, batch := range batches {
		if err := co.AddBatch(batch); err != nil {
			return fmt.Errorf("channel %d: %w", ch.index, err)
		}
	}
	if err := co.Close(); err != nil {
		return err
	}
	data, err := co.Data()
	if err != nil {
		return err
	}
	parts := max(b.cfg.FramesPerChannel, minFrames)
	if minFrames > 1 {
		parts = min(parts, len(data)) // every frame carries data
	}
	if ch.frames, err = co.Frames(derive.FrameV0OverheadSize + max((len(data)+parts-1)/parts, 1)); err != nil {
		return fmt.Errorf("channel %d: %w", ch.index, err)
	}
	if len(ch.frames) < minFrames {
		return fmt.Errorf("channel %d: %d frames, need %d", ch.index, len(ch.frames), minFrames)
	}
	return nil
}

// honestBatches are the batches of blocks in channel idx: singular batches for the blocks whose L1 origin
// is before Delta (span batches are dropped below that), then as BatcherConfig.Batches says. span[i] says
// whether block i is in a span batch.
func (b *batcher) honestBatches(blocks []*l2Built, idx uint64) (batches []*derive.BatchData, span []bool, err error) {
	i := 0
	for ; i < len(blocks) && !b.rollup.IsDelta(blocks[i].origin.Time); i++ {
	}
	singularTo := i // blocks before it go in singular batches
	var spans [][]*l2Built
	rest := blocks[i:]
	switch b.cfg.Batches {
	case BatchesDefault:
		if len(rest) >= 4 {
			spans = [][]*l2Built{rest[:len(rest)/2], rest[len(rest)/2:]}
		} else if len(rest) > 0 {
			spans = [][]*l2Built{rest}
		}
	case BatchesSingular:
		singularTo = len(blocks)
	case BatchesSpan:
		if len(rest) > 0 {
			spans = [][]*l2Built{rest}
		}
	case BatchesMixed:
		switch idx % 3 {
		case 0:
			singularTo = len(blocks)
		case 1:
			if len(rest) > 0 {
				spans = [][]*l2Built{rest}
			}
		case 2:
			singularTo = i + len(rest)/2
			if tail := blocks[singularTo:]; len(tail) > 0 {
				spans = [][]*l2Built{tail}
			}
		}
	}
	for _, blk := range blocks[:singularTo] {
		batches = append(batches, derive.NewSingularBatchData(blk.batch))
		span = append(span, false)
	}
	for _, s := range spans {
		raw, err := spanBatch(b.rollup, s)
		if err != nil {
			return nil, nil, err
		}
		batches = append(batches, raw)
		for range s {
			span = append(span, true)
		}
	}
	return batches, span, nil
}

// spanBatch is one span batch of blocks.
func spanBatch(rcfg *rollup.Config, blocks []*l2Built) (*derive.BatchData, error) {
	singulars := make([]*derive.SingularBatch, len(blocks))
	for j, blk := range blocks {
		singulars[j] = blk.batch
	}
	raw, err := derive.EncodeSpanBatch(rcfg, singulars, blocks[0].seq == 0)
	if err != nil {
		return nil, fmt.Errorf("span batch from l2 block %d: %w", blocks[0].block.NumberU64(), err)
	}
	return derive.NewSpanBatchData(raw), nil
}

// openHonest puts blocks in a new channel with their honest batches (and the faults of Config.Faults
// that act on the channel or the batch of one of them), to be posted from L1 block l1Number on.
func (b *batcher) openHonest(blocks []*l2Built, l1Number, l1Time uint64) error {
	ch := b.newChannel(l1Time)
	batched := blocks // the blocks as batched: the sequencer's, or a faulty batcher's instead of one
	minFrames := 1
	for j, blk := range blocks {
		f, ok := b.takeFault(blk.block.NumberU64(), FaultInvalidTx, FaultUnfinishedChannel, FaultChannelTimeout, FaultFramesReordered, FaultFramesDuplicated)
		if !ok {
			continue
		}
		switch f.Kind {
		case FaultInvalidTx:
			bad, err := b.invalidBlock(blk)
			if err != nil {
				return fmt.Errorf("fault %s: %w", f, err)
			}
			batched = slices.Clone(batched)
			batched[j] = bad
		case FaultUnfinishedChannel:
			ch.mode, minFrames = modeUnfinished, 2
		case FaultChannelTimeout:
			ch.mode, minFrames = modeLate, 2
			ch.lateAt = l1Number + b.rollup.ChannelTimeout(l1Time) + 1
			b.holdUntil = ch.lateAt
		case FaultFramesReordered:
			ch.mode, minFrames = modeReversed, 2
		case FaultFramesDuplicated:
			ch.mode = modeDuplicated
		}
	}
	batches, span, err := b.honestBatches(batched, ch.index)
	if err != nil {
		return fmt.Errorf("channel %d: %w", ch.index, err)
	}
	if err := b.fill(ch, batches, minFrames); err != nil {
		return err
	}
	for j, blk := range blocks {
		n := blk.block.NumberU64()
		ch.blocks = append(ch.blocks, n)
		b.setInfo(n, BatchInfo{
			Channel: ch.id, Span: span[j], Blob: ch.blob, Brotli: ch.brotli, FirstL1: l1Number,
			L1Origin: blk.origin.Number.Uint64(), SeqNumber: blk.seq, Invalid: blk.invalid, Sequenced: true,
		})
	}
	b.queue = append(b.queue, ch)
	return nil
}

// invalidBlock is blk with a batch that carries a transaction the engine rejects instead of the
// sequencer's, for FaultInvalidTx.
func (b *batcher) invalidBlock(blk *l2Built) (*l2Built, error) {
	tx, err := b.rejected()
	if err != nil {
		return nil, err
	}
	b.attackTxs = append(b.attackTxs, batchTx{blk.block, tx})
	batch := *blk.batch
	batch.Transactions = []hexutil.Bytes{tx}
	bad := *blk
	bad.batch = &batch
	return &bad, nil
}

// takeFault returns, and forgets, the first fault of one of kinds aimed at L2 block n.
func (b *batcher) takeFault(n uint64, kinds ...FaultKind) (Fault, bool) {
	for i, f := range b.faults {
		if f.Block == n && slices.Contains(kinds, f.Kind) {
			b.faults = slices.Delete(b.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

// openGroup opens the channels of blocks, posted together from L1 block l1Number: the batches a faulty
// batcher adds or leaves out, and the honest ones split over BatcherConfig.Channels channels.
func (b *batcher) openGroup(blocks []*l2Built, l1Number, l1Time uint64) error {
	// Withheld blocks: the block and the rest of its epoch are never posted.
	for i, blk := range blocks {
		if _, ok := b.takeFault(blk.block.NumberU64(), FaultWithhold); ok {
			end := i
			for end < len(blocks) && blocks[end].origin.Number.Cmp(blk.origin.Number) == 0 {
				end++
			}
			blocks = append(blocks[:i:i], blocks[end:]...)
			break
		}
	}
	for i, blk := range blocks {
		f, ok := b.takeFault(blk.block.NumberU64(), FaultWrongParent, FaultOldOrigin, FaultFutureTimestamp, FaultSpanOverlap)
		if !ok {
			continue
		}
		before, after := blocks[:i], blocks[i:]
		attack, err := b.attackBatch(f, blocks, i, l1Number, l1Time)
		if err != nil {
			return fmt.Errorf("fault %s: %w", f, err)
		}
		if f.Kind == FaultFutureTimestamp {
			if err := b.openAttack(attack, l1Time); err != nil {
				return err
			}
			attack = nil
		}
		if err := b.openSplit(before, l1Number, l1Time); err != nil {
			return err
		}
		if attack != nil {
			if err := b.openAttack(attack, l1Time); err != nil {
				return err
			}
		}
		if f.Kind == FaultSpanOverlap {
			return b.openOverlap(blocks[i-2:], 2, l1Number, l1Time)
		}
		return b.openGroup(after, l1Number, l1Time) // further faults in the rest
	}
	return b.openSplit(blocks, l1Number, l1Time)
}

// openSplit opens channels for blocks, split over BatcherConfig.Channels channels of about equal size.
func (b *batcher) openSplit(blocks []*l2Built, l1Number, l1Time uint64) error {
	parts := min(b.cfg.Channels, len(blocks))
	for k := 0; k < parts; k++ {
		part := blocks[k*len(blocks)/parts : (k+1)*len(blocks)/parts]
		if err := b.openHonest(part, l1Number, l1Time); err != nil {
			return err
		}
	}
	return nil
}

// openAttack opens a channel of batches the sequencer did not make, posted at once.
func (b *batcher) openAttack(batches []*derive.BatchData, l1Time uint64) error {
	ch := b.newChannel(l1Time)
	ch.mode = modeAtOnce
	if err := b.fill(ch, batches, 1); err != nil {
		return err
	}
	b.queue = append(b.queue, ch)
	return nil
}

// openOverlap opens one channel with a span batch of blocks whose first overlap blocks are already
// batched: the honest batch that follows FaultSpanOverlap.
func (b *batcher) openOverlap(blocks []*l2Built, overlap int, l1Number, l1Time uint64) error {
	ch := b.newChannel(l1Time)
	raw, err := spanBatch(b.rollup, blocks)
	if err != nil {
		return err
	}
	if err := b.fill(ch, []*derive.BatchData{raw}, 1); err != nil {
		return err
	}
	for _, blk := range blocks[overlap:] {
		n := blk.block.NumberU64()
		ch.blocks = append(ch.blocks, n)
		b.setInfo(n, BatchInfo{
			Channel: ch.id, Span: true, Blob: ch.blob, Brotli: ch.brotli, FirstL1: l1Number,
			L1Origin: blk.origin.Number.Uint64(), SeqNumber: blk.seq, Invalid: blk.invalid, Sequenced: true,
		})
	}
	b.queue = append(b.queue, ch)
	return nil
}

// attackBatch is the batch a faulty batcher posts for blocks[i] (see FaultKind), included in L1 block
// l1Number at l1Time.
func (b *batcher) attackBatch(f Fault, blocks []*l2Built, i int, l1Number, l1Time uint64) ([]*derive.BatchData, error) {
	blk := blocks[i]
	empty := *blk.batch
	empty.Transactions = nil
	switch f.Kind {
	case FaultWrongParent:
		empty.ParentHash = crypto.Keccak256Hash([]byte("faultproof devnet: not the parent"), blk.batch.ParentHash[:])
	case FaultOldOrigin:
		window := b.rollup.SeqWindowSize
		if l1Number < window+1 {
			return nil, fmt.Errorf("L1 block %d carries the batch: no L1 block is outside its sequencing window of %d blocks yet", l1Number, window)
		}
		old := b.l1.blocks[l1Number-window-1]
		empty.EpochNum, empty.EpochHash = old.NumberU64(), old.Hash()
	case FaultFutureTimestamp:
		if i == 0 {
			return nil, fmt.Errorf("l2 block %d is the first of its channels: no batch before it to overtake", f.Block)
		}
		if b.rollup.IsHolocene(l1Time) && !b.futureRightParent {
			// With its right parent, a pipeline reset at the parent would take the batch (see FaultFutureTimestamp).
			empty.ParentHash = crypto.Keccak256Hash([]byte("faultproof devnet: not the parent"), blk.batch.ParentHash[:])
		}
	case FaultSpanOverlap:
		if i < 2 {
			return nil, fmt.Errorf("l2 block %d has %d blocks before it in its channels, need 2", f.Block, i)
		}
		if !b.rollup.IsDelta(blocks[i-2].origin.Time) {
			return nil, fmt.Errorf("l2 block %d: no span batches before Delta", f.Block-2)
		}
		// The two safe blocks with other transactions, the block with none.
		var other []*derive.SingularBatch
		for _, prev := range blocks[i-2 : i] {
			changed := *prev.batch
			if len(changed.Transactions) > 0 {
				changed.Transactions = nil
			} else {
				tx, err := b.strangerTx()
				if err != nil {
					return nil, err
				}
				changed.Transactions = []hexutil.Bytes{tx}
			}
			other = append(other, &changed)
		}
		other = append(other, &empty)
		raw, err := derive.EncodeSpanBatch(b.rollup, other, blocks[i-2].seq == 0)
		if err != nil {
			return nil, err
		}
		return []*derive.BatchData{derive.NewSpanBatchData(raw)}, nil
	}
	return []*derive.BatchData{derive.NewSingularBatchData(&empty)}, nil
}

// strangerTx is a signed transfer from an account that has no funds on L2: a transaction for a batch
// that must never be executed.
func (b *batcher) strangerTx() ([]byte, error) {
	from := devKey(b.seed, "stranger")
	chainID := b.rollup.L2ChainID
	tx, err := types.SignNewTx(from.key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(params.GWei), Gas: params.TxGas,
		To: &common.Address{0x57}, Value: big.NewInt(1),
	})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// post returns the batcher transactions of the L1 block l1Number at l1Time, and the spam transaction
// payload, if any, to put before them: a look-alike of the next frame from another sender, which derivation
// must ignore (it would otherwise corrupt the channel). Every BatcherConfig.ChannelEvery L1 blocks, the
// blocks built since go in new channels. The newest channel's frames are posted over FrameSpread L1
// blocks (with the default of two: about two thirds now, the rest then), unless the next L1 block
// activates Holocene, which drops channels still incomplete (holocene/derivation.md); older channels post
// all their remaining frames first.
func (b *batcher) post(l1Number, l1Time uint64, spam bool) (txs []batcherTx, spamPayload []byte, err error) {
	if l1Number < b.holdUntil {
		return nil, nil, nil
	}
	b.waited++
	if b.waited >= b.cfg.ChannelEvery {
		b.waited = 0
		groups := b.cuts
		if len(b.pending) > 0 {
			groups = append(groups, b.pending)
		}
		b.cuts, b.pending = nil, nil
		for _, blocks := range groups {
			if err := b.openGroup(blocks, l1Number, l1Time); err != nil {
				return nil, nil, err
			}
		}
		if len(groups) > 0 {
			b.urgent = false
		}
	}
	holoceneNext := !b.rollup.IsHolocene(l1Time) && b.rollup.IsHolocene(l1Time+L1BlockTime)
	blobsLeft := maxBlobsPerL1Block
	for ci, ch := range b.queue {
		if spam && ci == 0 && ch.next > 0 && ch.next < len(ch.frames) {
			garbage := crypto.Keccak256(ch.id[:], []byte("spam"))
			look := ch.frames[ch.next]
			look.Data = append([]byte{}, garbage...)
			if spamPayload, err = derive.BatcherTxData(look); err != nil {
				return nil, nil, err
			}
		}
		frames, done := b.framesToPost(ch, ci == len(b.queue)-1, holoceneNext, l1Number)
		if len(frames) > 0 {
			ch.posts++
		}
		payloads, err := b.payloads(ch, frames)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case len(payloads) == 0:
		case ch.blob && blobsLeft > 0:
			payloads, err = mergePayloads(payloads, min(params.BlobTxMaxBlobs, blobsLeft))
			if err != nil {
				return nil, nil, err
			}
			blobsLeft -= len(payloads)
			txs = append(txs, batcherTx{blob: true, payloads: payloads})
		default: // calldata (a blob channel when the block has no room for more blobs)
			for _, p := range payloads {
				txs = append(txs, batcherTx{payloads: [][]byte{p}})
			}
		}
		if done {
			for _, n := range ch.blocks {
				b.infos[n-1].LastL1 = l1Number
				b.handedOver[n] = l1Number
			}
		}
	}
	for len(b.queue) > 0 && b.queue[0].next == len(b.queue[0].frames) {
		b.queue = b.queue[1:]
	}
	return txs, spamPayload, nil
}

// maxBlobsPerL1Block is the devnet L1's blob limit per block (Osaka's blob schedule).
const maxBlobsPerL1Block = 9

// framesToPost are the frames of ch to post in L1 block l1Number, in order, and whether the batcher is
// then done with the channel (its last frame posted, or the rest never to be).
func (b *batcher) framesToPost(ch *channel, newest, holoceneNext bool, l1Number uint64) ([]derive.Frame, bool) {
	all := len(ch.frames)
	switch ch.mode {
	case modeAtOnce:
		out := ch.frames[ch.next:]
		ch.next = all
		return out, false
	case modeReversed:
		out := slices.Clone(ch.frames[ch.next:])
		slices.Reverse(out)
		ch.next = all
		return out, true
	case modeDuplicated:
		var out []derive.Frame
		for _, f := range ch.frames[ch.next:] {
			dup := f
			dup.Data = crypto.Keccak256(ch.id[:], binary.BigEndian.AppendUint16(nil, f.FrameNumber), []byte("duplicate"))
			out = append(out, f, dup)
		}
		ch.next = all
		return out, true
	case modeUnfinished:
		out := ch.frames[ch.next : all-1]
		ch.next = all
		return out, true
	case modeLate:
		if ch.next < all-1 {
			out := ch.frames[ch.next : all-1]
			ch.next = all - 1
			return out, false
		}
		if l1Number < ch.lateAt {
			return nil, false
		}
		ch.next = all
		return ch.frames[all-1:], true
	}
	end := all
	if spread := b.cfg.FrameSpread; newest && all > 1 && !holoceneNext && !ch.urgent && ch.posts < spread-1 {
		if spread == 2 {
			end = min((2*all+2)/3, all-1)
		} else {
			end = min(max(ch.next+1, (all*(ch.posts+1)+spread-1)/spread), all-1)
		}
	}
	out := ch.frames[ch.next:end]
	ch.next = end
	return out, end == all
}

// payloads are the batcher transaction payloads of frames: in half the channels the first carries two
// frames, the others one.
func (b *batcher) payloads(ch *channel, frames []derive.Frame) ([][]byte, error) {
	var payloads [][]byte
	for len(frames) > 0 {
		k := 1
		if len(payloads) == 0 && len(frames) > 1 && ch.index%4 < 2 && ch.mode == modeNormal {
			k = 2
		}
		p, err := derive.BatcherTxData(frames[:k]...)
		if err != nil {
			return nil, err
		}
		payloads = append(payloads, p)
		frames = frames[k:]
	}
	return payloads, nil
}

// mergePayloads joins consecutive payloads so that there are at most n: a payload is a version byte and
// frames, so two payloads join by dropping the second's version byte.
func mergePayloads(payloads [][]byte, n int) ([][]byte, error) {
	if n < 1 {
		return nil, fmt.Errorf("no room for a payload")
	}
	for len(payloads) > n {
		k := len(payloads) - 2
		payloads[k] = append(slices.Clip(payloads[k]), payloads[k+1][1:]...)
		payloads = payloads[:k+1]
	}
	return payloads, nil
}

// stalled reports whether derivation, with L1 up to l1Head, did not take L2 block n although the batcher
// handed its batch over in full by then.
func (b *batcher) stalled(n, l1Head uint64) bool {
	at, ok := b.handedOver[n]
	return ok && at <= l1Head && l1Head >= b.holdUntil
}

// repostFrom makes the batcher post the blocks again from L2 block n on: derivation did not take n
// although its batch was handed over in full. Channels not posted yet are dropped.
func (b *batcher) repostFrom(n uint64, unsafe []*l2Built) {
	b.forget(n)
	b.pending = slices.Clone(unsafe)
}

// forget drops every batch of L2 blocks from n on not posted in full yet: after a reorg of the unsafe
// chain at n, or before posting them again. The next channels open in the next L1 block and post at once.
func (b *batcher) forget(n uint64) {
	b.urgent = true
	b.waited = b.cfg.ChannelEvery
	b.pending = slices.DeleteFunc(b.pending, func(blk *l2Built) bool { return blk.block.NumberU64() >= n })
	var cuts [][]*l2Built
	for _, c := range b.cuts {
		c = slices.DeleteFunc(c, func(blk *l2Built) bool { return blk.block.NumberU64() >= n })
		if len(c) > 0 {
			cuts = append(cuts, c)
		}
	}
	b.cuts = cuts
	b.queue = slices.DeleteFunc(b.queue, func(ch *channel) bool {
		drop := slices.ContainsFunc(ch.blocks, func(m uint64) bool { return m >= n })
		if drop && ch.mode == modeLate {
			b.holdUntil = 0 // no late frame to wait for
		}
		return drop
	})
	for m := range b.handedOver {
		if m >= n {
			delete(b.handedOver, m)
		}
	}
	if uint64(len(b.infos)) >= n {
		b.infos = b.infos[:n-1]
	}
}

// blobRecord is a blob posted on L1.
type blobRecord struct {
	blob       *kzg4844.Blob
	commitment kzg4844.Commitment
	l1Block    uint64
}

// blobSidecar packs payloads in blobs with their commitments and proofs.
func blobSidecar(payloads [][]byte) (*types.BlobTxSidecar, []*kzg4844.Blob, error) {
	var (
		blobs       []kzg4844.Blob
		ptrs        []*kzg4844.Blob
		commitments []kzg4844.Commitment
		proofs      []kzg4844.Proof
	)
	for _, p := range payloads {
		blob, err := derive.EncodeBlob(p)
		if err != nil {
			return nil, nil, err
		}
		commitment, err := kzg4844.BlobToCommitment(blob)
		if err != nil {
			return nil, nil, err
		}
		proof, err := kzg4844.ComputeBlobProof(blob, commitment)
		if err != nil {
			return nil, nil, err
		}
		blobs, ptrs = append(blobs, *blob), append(ptrs, blob)
		commitments, proofs = append(commitments, commitment), append(proofs, proof)
	}
	return types.NewBlobTxSidecar(types.BlobSidecarVersion0, blobs, commitments, proofs), ptrs, nil
}

// versionedHash is the EIP-4844 versioned hash of a commitment.
func versionedHash(c *kzg4844.Commitment) common.Hash {
	return common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), c))
}
