package prefetch

import (
	"context"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage/layout"
)

// The program finds old L1 blocks by walking parent hashes back from the L1 head, one l1-block-header
// hint per block, and a real L1 head can be hundreds of blocks past the data of a claim. So when the
// program asks for the parent of the lowest header the walk stored, the next ones are fetched with it in
// the same batch request, by number (the hash of a block is not known before its child is): walkFirstAhead
// of them at first, twice as many each time all of them chained, up to walkMaxAhead. A header asked for
// by number is stored only if it is the parent of the header stored before it: a node that answers from
// another fork (after a reorg) or lies only wastes the rest of its batch.
const (
	walkFirstAhead = 8
	walkMaxAhead   = 256
	// walkMaxFailures is how many small batches in a row may fail as a whole before the node is taken
	// not to serve batches, and headers are fetched one at a time.
	walkMaxFailures = 2
)

// headerBatchSource is an L1 source that fetches a header and the headers at the numbers below it in one
// request (sources.L1Client).
type headerBatchSource interface {
	HeaderAndAncestors(ctx context.Context, hash common.Hash, number uint64, count int) (*types.Header, []*types.Header, error)
}

// l1Walk is where the walk back is; guarded by Prefetcher.fetchMu.
type l1Walk struct {
	lowest   *types.Header // the lowest header stored by the last fetch: a fetch of its parent continues the walk
	ahead    int           // headers to fetch by number with the next one of the walk
	limit    int           // at most this many (lowered when a larger batch failed, as past a node's batch limit)
	failures int           // batches of at most walkFirstAhead that failed as a whole, in a row
	off      bool          // the node does not take batches
}

// l1HeaderWalk adds the header of the L1 block hash to b and, when the fetch continues a walk back, the
// ancestors that came with it and chain to it.
func (p *Prefetcher) l1HeaderWalk(ctx context.Context, hash common.Hash, b *batch) error {
	w := &p.walk
	if w.limit == 0 {
		w.limit = walkMaxAhead
	}
	continues := w.lowest != nil && w.lowest.ParentHash == hash && w.lowest.Number.Sign() > 0
	if !continues {
		w.ahead = walkFirstAhead
	}
	var (
		header *types.Header
		below  []*types.Header
		asked  int
	)
	if src, ok := p.src.L1.(headerBatchSource); ok && continues && !w.off {
		number := w.lowest.Number.Uint64() - 1
		asked = int(min(uint64(min(w.ahead, w.limit)), number))
		var err error
		if header, below, err = src.HeaderAndAncestors(ctx, hash, number, asked); err != nil {
			p.walkFailed(asked, err)
			header, below, asked = nil, nil, 0 // the header alone, below
		}
	}
	if header == nil {
		var err error
		if header, err = p.src.L1.HeaderByHash(ctx, hash); err != nil {
			return err
		}
	}
	if err := addHeader(b, hash, header); err != nil {
		return err
	}
	child, chained := header, 0
	for _, h := range below {
		if h.Hash() != child.ParentHash {
			break // does not chain (another fork's, or a lie): dropped with the rest
		}
		if err := addHeader(b, child.ParentHash, h); err != nil {
			return err
		}
		child, chained = h, chained+1
	}
	w.lowest = child
	if asked > 0 {
		w.failures = 0
		if chained == asked {
			w.ahead = min(2*asked, w.limit)
		} else {
			w.ahead = 1 // a header of another fork, or fewer answers than asked: start small again
		}
		p.log.Debug("Fetched L1 headers in one batch", "number", header.Number, "asked", 1+asked, "stored", 1+chained)
	}
	return nil
}

// walkFailed notes a batch of asked ancestors that failed: a large one lowers the limit, as past a node's
// batch size limit; small ones that fail as a whole in a row turn batches off.
func (p *Prefetcher) walkFailed(asked int, err error) {
	w := &p.walk
	switch {
	case !errors.Is(err, sources.ErrBatchFailed):
		p.log.Debug("L1 header batch failed, fetching the header alone", "err", err)
	case asked > walkFirstAhead:
		w.limit = asked / 2
		w.ahead = w.limit
		p.log.Debug("L1 header batch failed, asking for fewer headers", "ancestors", asked, "limit", w.limit, "err", err)
	default:
		w.failures++
		if w.failures >= walkMaxFailures {
			w.off = true
			p.log.Warn("L1 node does not answer batch requests, fetching L1 headers one at a time", "err", err)
		}
	}
}

// addHeader adds a header as the preimage of its block hash (commit checks keccak(enc) == hash).
func addHeader(b *batch, hash common.Hash, h *types.Header) error {
	enc, err := rlp.EncodeToBytes(h)
	if err != nil {
		return err
	}
	layout.Header(b.add, hash, enc)
	return nil
}
