package derive

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// BatcherData returns the data of the batcher transactions of an L1 block, in block order (specs:
// derivation.md "L1 Retrieval", ecotone/derivation.md "Blob Retrieval"): transactions to the batch inbox,
// of type 0-3 or a deposit (nested chains), sent by the batcher. From Ecotone (by the L1 block's time) a
// blob transaction contributes its blobs instead of its calldata; a blob that does not decode is skipped.
//
// signer recovers senders (nil: types.LatestSignerForChainID of the L1 chain, as op-node). An error of
// the signer that wraps ErrCritical (data to recover a sender was unavailable) stops derivation; any other
// marks the transaction as not the batcher's.
func BatcherData(cfg *rollup.Config, l1 L1Fetcher, blobs BlobFetcher, block L1BlockRef, batcher common.Address, signer types.Signer, logger log.Logger) ([][]byte, error) {
	_, txs, err := l1.TransactionsByHash(block.Hash)
	if err != nil {
		return nil, fmt.Errorf("transactions of l1 block %s: %w", block, err)
	}
	if signer == nil {
		signer = types.LatestSignerForChainID(cfg.L1ChainID)
	}
	blobSource := cfg.IsEcotone(block.Time)
	var out [][]byte
	blobIndex := uint64(0) // position among all of the block's blobs
	for _, tx := range txs {
		hashes := tx.BlobHashes()
		first := blobIndex
		blobIndex += uint64(len(hashes))
		if ok, err := isBatcherTx(tx, signer, cfg.BatchInboxAddress, batcher, logger); err != nil {
			return nil, fmt.Errorf("l1 block %s: %w", block, err)
		} else if !ok {
			continue
		}
		if !blobSource || tx.Type() != types.BlobTxType {
			out = append(out, tx.Data())
			continue
		}
		for i, h := range hashes {
			if blobs == nil {
				return nil, fmt.Errorf("%w: blob batcher transaction in %s but no blob source", ErrCritical, block)
			}
			blob, err := blobs.GetBlob(block.Time, first+uint64(i), h)
			if err != nil {
				return nil, fmt.Errorf("blob %s of l1 block %s: %w", h, block, err)
			}
			data, err := DecodeBlob(blob)
			if err != nil {
				logger.Warn("Ignoring blob that does not decode", "blob", h, "block", block, "err", err)
				continue
			}
			out = append(out, data)
		}
	}
	return out, nil
}

func isBatcherTx(tx *types.Transaction, signer types.Signer, inbox, batcher common.Address, logger log.Logger) (bool, error) {
	if tx.Type() > types.BlobTxType && tx.Type() != types.DepositTxType {
		return false, nil
	}
	if to := tx.To(); to == nil || *to != inbox {
		return false, nil
	}
	// Recovering the sender is costly: only for transactions to the inbox.
	sender, err := types.Sender(signer, tx)
	if errors.Is(err, ErrCritical) {
		return false, fmt.Errorf("sender of batch inbox transaction %s: %w", tx.Hash(), err)
	}
	if err != nil {
		logger.Warn("Batch inbox transaction with an invalid signature", "tx", tx.Hash(), "err", err)
		return false, nil
	}
	if sender != batcher {
		logger.Debug("Batch inbox transaction from another sender", "tx", tx.Hash(), "sender", sender)
		return false, nil
	}
	return true, nil
}

// L1Retrieval hands out the batcher data of the traversal's current L1 block, one transaction at a time.
type L1Retrieval struct {
	cfg       *rollup.Config
	log       log.Logger
	traversal *L1Traversal
	l1        L1Fetcher
	blobs     BlobFetcher
	data      [][]byte
	loaded    bool         // whether data holds the current origin's batcher data
	signer    types.Signer // recovers batcher transaction senders; nil: the L1 chain's latest signer
}

// NewL1Retrieval reads batcher data from the blocks traversal visits.
func NewL1Retrieval(cfg *rollup.Config, logger log.Logger, traversal *L1Traversal, l1 L1Fetcher, blobs BlobFetcher) *L1Retrieval {
	return &L1Retrieval{cfg: cfg, log: logger, traversal: traversal, l1: l1, blobs: blobs}
}

// Origin is the L1 block being read.
func (r *L1Retrieval) Origin() L1BlockRef { return r.traversal.Origin() }

// NextData returns the next batcher transaction's data; io.EOF when the current L1 block has no more.
func (r *L1Retrieval) NextData() ([]byte, error) {
	if !r.loaded {
		data, err := BatcherData(r.cfg, r.l1, r.blobs, r.traversal.Origin(), r.traversal.SystemConfig().BatcherAddr, r.signer, r.log)
		if err != nil {
			return nil, err
		}
		r.data, r.loaded = data, true
	}
	if len(r.data) == 0 {
		return nil, io.EOF
	}
	d := r.data[0]
	r.data = r.data[1:]
	return d, nil
}

// Advance moves to the next L1 block; io.EOF at the L1 head.
func (r *L1Retrieval) Advance() error {
	if err := r.traversal.Advance(); err != nil {
		return err
	}
	r.data, r.loaded = nil, false
	return nil
}

// Reset restarts at origin; the origin's own data is read again.
func (r *L1Retrieval) Reset(origin L1BlockRef, sysCfg rollup.SystemConfig) {
	r.traversal.Reset(origin, sysCfg)
	r.data, r.loaded = nil, false
}
