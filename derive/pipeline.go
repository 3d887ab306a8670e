package derive

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/rollup"
)

// L2Source is the L2 chain as derivation sees it: the safe chain, for the reset walk back, span batch
// overlap checks, and the system config carried by each block.
type L2Source interface {
	L2BlockRefByHash(hash common.Hash) (L2BlockRef, error)
	L2BlockRefByNumber(n uint64) (L2BlockRef, error)
	PayloadByNumber(n uint64) (*types.Block, error)
	SystemConfigByL2Hash(hash common.Hash) (rollup.SystemConfig, error)
}

// DerivedAttributes are the payload attributes of the next L2 block, with where they came from.
type DerivedAttributes struct {
	Attributes  *rollup.PayloadAttributes
	Parent      L2BlockRef
	DerivedFrom L1BlockRef // the L1 block the pipeline was reading
	LastInSpan  bool       // the last block of its span batch (or a singular batch)
}

// Pipeline derives payload attributes from L1, pull-based, one stage per file (specs: derivation.md
// "L2 Chain Derivation Pipeline"): L1 traversal, L1 retrieval, frame queue, channel bank, channel reader,
// batch queue and attributes. It reads L1 and L2 through interfaces only.
type Pipeline struct {
	cfg     *rollup.Config
	l1Cfg   *params.ChainConfig
	log     log.Logger
	l1      L1Fetcher
	l2      L2Source
	chain   *L1Chain
	travers *L1Traversal
	retr    *L1Retrieval
	frames  *FrameQueue
	bank    *ChannelBank
	reader  *ChannelInReader
	batches *BatchMux
	// depSetSize is the size of the chain's interop dependency set (0: not known).
	depSetSize int
}

// NewPipeline builds the pipeline over L1 up to l1Head.
func NewPipeline(cfg *rollup.Config, l1Cfg *params.ChainConfig, logger log.Logger, l1 L1Fetcher, blobs BlobFetcher, l2 L2Source, l1Head common.Hash) (*Pipeline, error) {
	chain, err := NewL1Chain(l1, l1Head)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, l1Cfg: l1Cfg, log: logger, l1: l1, l2: l2, chain: chain}
	p.travers = NewL1Traversal(cfg, l1, chain)
	p.retr = NewL1Retrieval(cfg, logger, p.travers, l1, blobs)
	p.frames = NewFrameQueue(cfg, logger, p.retr)
	p.bank = NewChannelBank(cfg, logger, p.frames)
	p.reader = NewChannelInReader(cfg, logger, p.bank)
	p.batches = NewBatchMux(cfg, logger, p.reader, l2)
	return p, nil
}

// SetL1Signer makes the pipeline recover the senders of batch inbox transactions with signer (see
// BatcherData), e.g. through the preimage oracle's ecrecover precompile.
func (p *Pipeline) SetL1Signer(signer types.Signer) { p.retr.signer = signer }

// SetDependencySetSize tells the pipeline how many chains the chain's interop dependency set holds: the
// Lagoon activation block's upgrade transactions depend on it (see AttributesInput.DependencySetSize).
func (p *Pipeline) SetDependencySetSize(n int) { p.depSetSize = n }

// Origin is the L1 block the pipeline is reading.
func (p *Pipeline) Origin() L1BlockRef { return p.travers.Origin() }

// Reset points the pipeline at the safe head (specs: "Resetting the Pipeline"): derivation restarts from
// the L1 origin of the first L2 block at or below the safe head whose L1 origin is a channel timeout older
// than the safe head's, so that channels still open at the safe head are read whole.
func (p *Pipeline) Reset(safe L2BlockRef) error {
	base := safe
	origin, err := p.chain.BlockByHash(safe.L1Origin)
	if err != nil {
		return fmt.Errorf("l1 origin of the safe head %s: %w", safe, err)
	}
	for base.Number > p.cfg.Genesis.L2.Number && base.L1Origin.Number > p.cfg.Genesis.L1.Number &&
		base.L1Origin.Number+p.cfg.ChannelTimeout(origin.Time) > safe.L1Origin.Number {
		if base, err = p.l2.L2BlockRefByHash(base.ParentHash); err != nil {
			return fmt.Errorf("%w: reset walk back: %w", ErrReset, err)
		}
		if origin, err = p.chain.BlockByHash(base.L1Origin); err != nil {
			return fmt.Errorf("l1 origin of l2 block %s: %w", base, err)
		}
	}
	sysCfg, err := p.l2.SystemConfigByL2Hash(base.Hash)
	if err != nil {
		return fmt.Errorf("system config of l2 block %s: %w", base, err)
	}
	p.log.Info("Pipeline reset", "safe", safe, "base", base, "origin", origin)
	p.retr.Reset(origin, sysCfg)
	p.frames.Reset()
	p.bank.Reset(origin)
	p.reader.Reset()
	p.batches.Reset(origin)
	return nil
}

// NextAttributes derives the attributes of the block after parent (the safe head). io.EOF means L1 up to
// the L1 head holds nothing more for it.
func (p *Pipeline) NextAttributes(parent L2BlockRef) (*DerivedAttributes, error) {
	for {
		batch, last, err := p.batches.NextBatch(parent)
		switch {
		case err == nil:
			attrs, err := p.attributes(parent, batch)
			if err != nil {
				return nil, err
			}
			return &DerivedAttributes{Attributes: attrs, Parent: parent, DerivedFrom: p.Origin(), LastInSpan: last}, nil
		case errors.Is(err, ErrNotEnoughData):
			continue
		case errors.Is(err, io.EOF):
			prev := p.Origin()
			if err := p.retr.Advance(); err != nil {
				return nil, err // io.EOF: the L1 head is reached
			}
			if HoloceneTransform(p.cfg, prev, p.Origin()) {
				p.log.Info("Pipeline: Holocene stages", "origin", p.Origin())
				p.frames.Reset()
				p.bank.TransformHolocene()
				p.batches.TransformHolocene()
			}
		default:
			return nil, err
		}
	}
}

// HoloceneTransform reports whether the pipeline switches its channel bank and batch stage to Holocene's
// when its L1 origin moves from prev to next.
//
// op-node: its pipeline looks for the first fork, in fork order, that activates between the two origins'
// times, and transforms its stages for that fork only. When an earlier fork (Regolith to Granite) activates
// in the same L1 step as Holocene, it keeps the pre-Holocene channel bank and batch queue, with the Holocene
// frame queue and batch rules (by time), until the next reset; op-program resets only at its start. The
// specs switch at Holocene. We follow op-node.
func HoloceneTransform(cfg *rollup.Config, prev, next L1BlockRef) bool {
	for _, f := range rollup.Forks {
		if cfg.IsActive(f, next.Time) && !cfg.IsActive(f, prev.Time) {
			return f == rollup.Holocene
		}
	}
	return false
}

// InvalidPayload says what derivation does when the engine refuses the payload of attrs (op-node's engine
// controller; holocene/derivation.md "Engine Queue"):
//   - attributes with deposits only cannot be replaced: ErrCritical;
//   - attributes derived from an L1 block at or after Holocene are replaced by their deposits alone
//     (returned), and the rest of their span batch and channel is dropped;
//   - before Holocene they are dropped (nil, nil), and derivation goes on from the same parent.
//
// op-node: Holocene is judged by the time of the L1 block the attributes were derived from (not by the L2
// block's timestamp), and where its pipeline kept the pre-Holocene batch queue past Holocene (see
// HoloceneTransform) the flush panics in the queue: ErrCritical here, a failure of op-program alike.
func (p *Pipeline) InvalidPayload(attrs *DerivedAttributes) (*rollup.PayloadAttributes, error) {
	depositsOnly := &rollup.PayloadAttributes{}
	*depositsOnly = *attrs.Attributes
	depositsOnly.Transactions = nil
	for _, tx := range attrs.Attributes.Transactions {
		if len(tx) > 0 && tx[0] == types.DepositTxType {
			depositsOnly.Transactions = append(depositsOnly.Transactions, tx)
		}
	}
	if len(depositsOnly.Transactions) == len(attrs.Attributes.Transactions) {
		return nil, fmt.Errorf("%w: the engine refused a payload with deposits only on %s", ErrCritical, attrs.Parent)
	}
	if !p.cfg.IsHolocene(attrs.DerivedFrom.Time) {
		return nil, nil
	}
	if err := p.batches.FlushChannel(); err != nil {
		return nil, fmt.Errorf("deposit-only replacement (derived from %s): %w", attrs.DerivedFrom, err)
	}
	return depositsOnly, nil
}

// attributes builds the payload attributes of a batch on parent.
func (p *Pipeline) attributes(parent L2BlockRef, batch *SingularBatch) (*rollup.PayloadAttributes, error) {
	epoch := batch.Epoch()
	if epoch.Number != parent.L1Origin.Number && epoch.Number != parent.L1Origin.Number+1 {
		return nil, fmt.Errorf("%w: batch epoch %d is not the parent's (%d) or the next", ErrReset, epoch.Number, parent.L1Origin.Number)
	}
	header, receipts, err := p.l1.ReceiptsByHash(epoch.Hash)
	if err != nil {
		return nil, fmt.Errorf("l1 origin %s of the batch: %w", epoch, err)
	}
	sysCfg, err := p.l2.SystemConfigByL2Hash(parent.Hash)
	if err != nil {
		return nil, fmt.Errorf("system config of the parent %s: %w", parent, err)
	}
	txs := make([][]byte, len(batch.Transactions))
	for i, tx := range batch.Transactions {
		txs[i] = tx
	}
	attrs, _, err := BuildAttributes(p.cfg, p.l1Cfg, &AttributesInput{
		Parent: AttributesParent{Hash: parent.Hash, Number: parent.Number, Time: parent.Time,
			L1Origin: parent.L1Origin, SequenceNumber: parent.SequenceNumber},
		SysCfg:            sysCfg,
		L1Origin:          header,
		L1Receipts:        receipts,
		Timestamp:         batch.Timestamp,
		Transactions:      txs,
		DependencySetSize: p.depSetSize,
	})
	if err != nil {
		return nil, err
	}
	return attrs, nil
}
