package derive

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/faultproof/faultproof/rollup"
)

// L1Fetcher is derivation's view of L1 (the program implements it over the preimage oracle).
type L1Fetcher interface {
	HeaderByHash(hash common.Hash) (*types.Header, error)
	TransactionsByHash(hash common.Hash) (*types.Header, types.Transactions, error)
	ReceiptsByHash(hash common.Hash) (*types.Header, types.Receipts, error)
}

// BlobFetcher returns a blob by versioned hash, checked against it; l1Time and index say where it was
// posted.
type BlobFetcher interface {
	GetBlob(l1Time uint64, index uint64, versionedHash common.Hash) (*kzg4844.Blob, error)
}

// ErrL1NotFound is returned for an L1 block above the L1 head: the program may not read past it.
var ErrL1NotFound = errors.New("l1 block is above the l1 head")

// L1Chain is the canonical L1 chain up to the L1 head, found by walking parent hashes back from the head:
// the head is the only L1 block the program is told about, so anything older must be one of its ancestors.
type L1Chain struct {
	l1     L1Fetcher
	head   L1BlockRef
	byNum  map[uint64]L1BlockRef
	lowest L1BlockRef // the lowest block found so far; walks resume from it
}

// NewL1Chain opens the chain ending at head.
func NewL1Chain(l1 L1Fetcher, head common.Hash) (*L1Chain, error) {
	h, err := l1.HeaderByHash(head)
	if err != nil {
		return nil, fmt.Errorf("l1 head %s: %w", head, err)
	}
	ref := L1BlockRefOf(h)
	return &L1Chain{l1: l1, head: ref, byNum: map[uint64]L1BlockRef{ref.Number: ref}, lowest: ref}, nil
}

// Head is the L1 head.
func (c *L1Chain) Head() L1BlockRef { return c.head }

// BlockByNumber returns the canonical L1 block n.
func (c *L1Chain) BlockByNumber(n uint64) (L1BlockRef, error) {
	if n > c.head.Number {
		return L1BlockRef{}, fmt.Errorf("%w: %d > %d", ErrL1NotFound, n, c.head.Number)
	}
	if ref, ok := c.byNum[n]; ok {
		return ref, nil
	}
	for c.lowest.Number > n {
		h, err := c.l1.HeaderByHash(c.lowest.ParentHash)
		if err != nil {
			return L1BlockRef{}, fmt.Errorf("l1 block %d: %w", c.lowest.Number-1, err)
		}
		c.lowest = L1BlockRefOf(h)
		c.byNum[c.lowest.Number] = c.lowest
	}
	return c.byNum[n], nil
}

// BlockByHash returns an L1 block that must be canonical (an ancestor of the head, or the head).
func (c *L1Chain) BlockByHash(id rollup.BlockID) (L1BlockRef, error) {
	ref, err := c.BlockByNumber(id.Number)
	if err != nil {
		return L1BlockRef{}, err
	}
	if ref.Hash != id.Hash {
		return L1BlockRef{}, fmt.Errorf("%w: l1 block %s is not canonical (canonical is %s)", ErrReset, id, ref.Hash)
	}
	return ref, nil
}

// L1Traversal is the first pipeline stage: the L1 origin the pipeline reads, advanced one block at a time
// up to the L1 head, and the system config as of that block (batcher address for retrieval).
type L1Traversal struct {
	cfg    *rollup.Config
	chain  *L1Chain
	l1     L1Fetcher
	origin L1BlockRef
	sysCfg rollup.SystemConfig
}

// NewL1Traversal starts at origin with the system config as of origin.
func NewL1Traversal(cfg *rollup.Config, l1 L1Fetcher, chain *L1Chain) *L1Traversal {
	return &L1Traversal{cfg: cfg, chain: chain, l1: l1}
}

// Reset restarts traversal at origin.
func (t *L1Traversal) Reset(origin L1BlockRef, sysCfg rollup.SystemConfig) {
	t.origin, t.sysCfg = origin, sysCfg
}

// Origin is the current L1 block.
func (t *L1Traversal) Origin() L1BlockRef { return t.origin }

// SystemConfig is the system config as of the current L1 block.
func (t *L1Traversal) SystemConfig() rollup.SystemConfig { return t.sysCfg }

// Advance moves to the next L1 block and applies its system config updates; io.EOF at the L1 head.
func (t *L1Traversal) Advance() error {
	next, err := t.chain.BlockByNumber(t.origin.Number + 1)
	if errors.Is(err, ErrL1NotFound) {
		return io.EOF
	}
	if err != nil {
		return err
	}
	if next.ParentHash != t.origin.Hash {
		return fmt.Errorf("%w: l1 block %s does not build on the origin %s", ErrReset, next, t.origin)
	}
	_, receipts, err := t.l1.ReceiptsByHash(next.Hash)
	if err != nil {
		return fmt.Errorf("receipts of l1 block %s: %w", next, err)
	}
	if err := ProcessSystemConfigUpdates(t.cfg, &t.sysCfg, receipts, next.Time); err != nil {
		return fmt.Errorf("%w: system config updates in l1 block %s: %w", ErrCritical, next, err)
	}
	t.origin = next
	return nil
}
