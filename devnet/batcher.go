package devnet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// batcher posts L2 blocks to L1: the blocks built since the previous L1 block go in a new channel, whose
// frames are posted over two L1 blocks, in order and never interleaved with another channel's (Holocene
// requires both).
type batcher struct {
	rollup  *rollup.Config
	seed    uint64
	pending []*l2Built
	cuts    [][]*l2Built // groups of blocks that must end a channel, to open before pending
	queue   []*channel   // channels with frames still to post, oldest first
	opened  uint64
	infos   []BatchInfo // of every L2 block batched, by number - 1
}

// channel is a channel being posted.
type channel struct {
	index  uint64
	id     derive.ChannelID
	frames []derive.Frame
	next   int // first frame not posted yet
	blob   bool
	brotli bool
	blocks []uint64 // the L2 blocks in it
}

// batcherTx is the payload of one batcher transaction: calldata, or one blob per payload.
type batcherTx struct {
	blob     bool
	payloads [][]byte
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

// openChannel puts blocks in a new channel, to be posted from the L1 block at time l1Time on:
// singular batches for the blocks whose L1 origin is before Delta (span batches are dropped below that),
// then one span batch, or two if there are four blocks or more. Channels alternate between calldata and,
// from Ecotone, blobs; two in three are brotli-compressed from Fjord. The channel is cut in about three
// frames.
func (b *batcher) openChannel(blocks []*l2Built, l1Number, l1Time uint64) error {
	idx := b.opened
	b.opened++
	var id derive.ChannelID
	copy(id[:], crypto.Keccak256(binary.BigEndian.AppendUint64([]byte("faultproof devnet channel/"), b.seed), binary.BigEndian.AppendUint64(nil, idx)))
	ch := &channel{index: idx, id: id, blob: b.rollup.IsEcotone(l1Time) && idx%2 == 1, brotli: b.rollup.IsFjord(l1Time) && idx%3 != 0}
	algo := derive.Zlib
	if ch.brotli {
		algo = derive.Brotli
	}
	// The Bedrock limit is the lower one: the channel fits whichever applies when it is read.
	co, err := derive.NewChannelOut(id, algo, b.rollup.MaxRLPBytesPerChannel(b.rollup.Genesis.L2Time))
	if err != nil {
		return err
	}
	i := 0
	for ; i < len(blocks) && !b.rollup.IsDelta(blocks[i].origin.Time); i++ {
		if err := co.AddBatch(derive.NewSingularBatchData(blocks[i].batch)); err != nil {
			return fmt.Errorf("channel %d: %w", idx, err)
		}
	}
	spanFrom := i
	var spans [][]*l2Built
	if rest := blocks[spanFrom:]; len(rest) >= 4 {
		spans = [][]*l2Built{rest[:len(rest)/2], rest[len(rest)/2:]}
	} else if len(rest) > 0 {
		spans = [][]*l2Built{rest}
	}
	for _, span := range spans {
		singulars := make([]*derive.SingularBatch, len(span))
		for j, blk := range span {
			singulars[j] = blk.batch
		}
		raw, err := derive.EncodeSpanBatch(b.rollup, singulars, span[0].seq == 0)
		if err != nil {
			return fmt.Errorf("channel %d: span batch: %w", idx, err)
		}
		if err := co.AddBatch(derive.NewSpanBatchData(raw)); err != nil {
			return fmt.Errorf("channel %d: %w", idx, err)
		}
	}
	if err := co.Close(); err != nil {
		return err
	}
	data, err := co.Data()
	if err != nil {
		return err
	}
	if ch.frames, err = co.Frames(derive.FrameV0OverheadSize + max((len(data)+2)/3, 1)); err != nil {
		return fmt.Errorf("channel %d: %w", idx, err)
	}
	for j, blk := range blocks {
		ch.blocks = append(ch.blocks, blk.block.NumberU64())
		b.infos = append(b.infos, BatchInfo{
			Channel: id, Span: j >= spanFrom, Blob: ch.blob, Brotli: ch.brotli, FirstL1: l1Number,
			L1Origin: blk.origin.Number.Uint64(), SeqNumber: blk.seq, Invalid: blk.invalid,
		})
	}
	b.queue = append(b.queue, ch)
	return nil
}

// post returns the batcher transactions of the L1 block l1Number at l1Time, and the spam transaction
// payload, if any, to put before them: a look-alike of the next frame from another sender, which derivation
// must ignore (it would otherwise corrupt the channel). The frames of a new channel are posted in this
// block and the next: about two thirds now, the rest then, unless the next L1 block activates Holocene,
// which drops channels still incomplete (holocene/derivation.md).
func (b *batcher) post(l1Number, l1Time uint64, spam bool) (txs []batcherTx, spamPayload []byte, err error) {
	groups := b.cuts
	if len(b.pending) > 0 {
		groups = append(groups, b.pending)
	}
	b.cuts, b.pending = nil, nil
	for _, blocks := range groups {
		if err := b.openChannel(blocks, l1Number, l1Time); err != nil {
			return nil, nil, err
		}
	}
	holoceneNext := !b.rollup.IsHolocene(l1Time) && b.rollup.IsHolocene(l1Time+L1BlockTime)
	for ci, ch := range b.queue {
		if spam && ci == 0 && ch.next > 0 {
			garbage := crypto.Keccak256(ch.id[:], []byte("spam"))
			look := ch.frames[ch.next]
			look.Data = append([]byte{}, garbage...)
			if spamPayload, err = derive.BatcherTxData(look); err != nil {
				return nil, nil, err
			}
		}
		end := len(ch.frames)
		if ci == len(b.queue)-1 && ch.next == 0 && len(ch.frames) > 1 && !holoceneNext {
			end = min((2*len(ch.frames)+2)/3, len(ch.frames)-1)
		}
		frames := ch.frames[ch.next:end]
		ch.next = end
		// Payloads: in half the channels the first carries two frames; the others carry one.
		var payloads [][]byte
		for len(frames) > 0 {
			k := 1
			if len(payloads) == 0 && len(frames) > 1 && ch.index%4 < 2 {
				k = 2
			}
			p, err := derive.BatcherTxData(frames[:k]...)
			if err != nil {
				return nil, nil, err
			}
			payloads = append(payloads, p)
			frames = frames[k:]
		}
		if ch.blob {
			txs = append(txs, batcherTx{blob: true, payloads: payloads})
		} else {
			for _, p := range payloads {
				txs = append(txs, batcherTx{payloads: [][]byte{p}})
			}
		}
		if ch.next == len(ch.frames) {
			for _, n := range ch.blocks {
				b.infos[n-1].LastL1 = l1Number
			}
		}
	}
	for len(b.queue) > 0 && b.queue[0].next == len(b.queue[0].frames) {
		b.queue = b.queue[1:]
	}
	return txs, spamPayload, nil
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
