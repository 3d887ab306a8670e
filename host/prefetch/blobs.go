package prefetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// maxBlobPlans bounds how many L1 blocks' expected blobs are remembered.
const maxBlobPlans = 16

// blobCache lets one beacon request bring all the blobs the program will read from an L1 block. The
// program reads a block's transactions before its blobs, so when the l1-transactions route fetches a
// block, the blob transactions sent to the batch inbox say which blobs will be asked for (a superset:
// the sender is not checked). The first l1-blob hint for that block fetches them all; the others wait
// here, already checked against their versioned hashes, for their own hints. Only the blobs of the last
// request are kept.
type blobCache struct {
	plans map[uint64][]common.Hash // L1 block timestamp -> versioned hashes of blobs sent to the inbox
	order []uint64                 // the timestamps in plans, oldest first
	spare map[common.Hash]*sources.Blob
}

// plan records the blobs the batch inbox received in the L1 block at time with the given transactions.
func (c *blobCache) plan(cfg *rollup.Config, time uint64, txs [][]byte) {
	if cfg == nil {
		return
	}
	var hashes []common.Hash
	for _, enc := range txs {
		if len(enc) == 0 || enc[0] != types.BlobTxType {
			continue
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(enc); err != nil {
			continue
		}
		if to := tx.To(); to != nil && *to == cfg.BatchInboxAddress {
			hashes = append(hashes, tx.BlobHashes()...)
		}
	}
	if len(hashes) == 0 {
		return
	}
	if c.plans == nil {
		c.plans = map[uint64][]common.Hash{}
	}
	if _, ok := c.plans[time]; !ok {
		c.order = append(c.order, time)
		if len(c.order) > maxBlobPlans {
			delete(c.plans, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.plans[time] = hashes
}

// blob returns the blob with versioned hash vh of the L1 block at ts: one fetched along with an earlier
// blob, or from the beacon node together with the other blobs of the block the store does not have yet.
func (p *Prefetcher) blob(ctx context.Context, ts uint64, vh common.Hash) (*sources.Blob, error) {
	if b, ok := p.blobs.spare[vh]; ok {
		delete(p.blobs.spare, vh)
		return b, nil
	}
	want := []common.Hash{vh}
	for _, h := range p.blobs.plans[ts] {
		if h == vh || slices.Contains(want, h) {
			continue
		}
		if _, err := p.stored(preimage.Sha256Key(h).PreimageKey(), false); err == nil {
			continue // fetched before
		}
		want = append(want, h)
	}
	blobs, err := p.src.Blobs.BlobsByHashes(ctx, ts, want)
	if err != nil && len(want) > 1 && rejected(err) {
		// A node that refuses several hashes at once, or serves a bad blob for another one, may still
		// serve this one.
		p.log.Debug("Fetching blobs together failed, fetching one", "blob", vh, "others", len(want)-1, "err", err)
		blobs, err = p.src.Blobs.BlobsByHashes(ctx, ts, want[:1])
	}
	if err != nil {
		return nil, err
	}
	p.blobs.spare = nil
	var found *sources.Blob
	for _, b := range blobs {
		switch {
		case b.VersionedHash == vh:
			found = b
		case slices.Contains(want, b.VersionedHash):
			if p.blobs.spare == nil {
				p.blobs.spare = map[common.Hash]*sources.Blob{}
			}
			p.blobs.spare[b.VersionedHash] = b
		}
	}
	if found == nil {
		return nil, fmt.Errorf("blob %s at L1 time %d: %w", vh, ts, sources.ErrNotFound)
	}
	return found, nil
}

// rejected reports whether a beacon node answered a request with an error status or bad data (rather
// than not answering).
func rejected(err error) bool {
	var status *sources.HTTPStatusError
	if errors.As(err, &status) {
		return status.Status >= http.StatusBadRequest && status.Status < http.StatusInternalServerError
	}
	return errors.Is(err, sources.ErrInvalidResponse)
}
