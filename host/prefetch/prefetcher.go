// Package prefetch is the online preimage source of the host: it answers the program's preimage requests
// from the store and, on a miss, fetches what the program's last hint announced from L1, the beacon node
// and L2, checks it, stores it, and answers from the store again.
//
// Fetching is lazy: Hint only records the hint; the fetch happens when a requested key is missing. Only
// the last hint is kept, plus the last "bulk" hint (l2-account-proof, l2-payload-witness), which is used
// for the next missing state node or code because it fetches many of them in one request. Failed fetches
// are retried with exponential backoff a bounded number of times.
package prefetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// L1Source is an L1 execution node whose answers are checked (sources.L1Client).
type L1Source interface {
	HeaderByHash(ctx context.Context, hash common.Hash) (*types.Header, error)
	BlockByHash(ctx context.Context, hash common.Hash) (*sources.Block, error)
	ReceiptsByHash(ctx context.Context, hash common.Hash) (*sources.Receipts, error)
	// ReceiptsOf is ReceiptsByHash for a block whose header is known (and checked against its hash).
	ReceiptsOf(ctx context.Context, header *types.Header) (*sources.Receipts, error)
}

// BlobSource is a beacon node (sources.BeaconClient).
type BlobSource interface {
	// BlobsByHashes returns the blobs of the L1 block at l1Timestamp with the given versioned hashes, each
	// checked against its hash, in one request; hashes the node does not have are left out.
	BlobsByHashes(ctx context.Context, l1Timestamp uint64, versionedHashes []common.Hash) ([]*sources.Blob, error)
}

// L2Source is an L2 execution node whose answers are checked (sources.L2Client).
type L2Source interface {
	BlockByHash(ctx context.Context, hash common.Hash) (*sources.Block, error)
	// BlockHashByNumber is the hash of the node's canonical block with a number (unchecked: callers check
	// what they read by it).
	BlockHashByNumber(ctx context.Context, n uint64) (common.Hash, error)
	ReceiptsByHash(ctx context.Context, hash common.Hash) (*sources.Receipts, error)
	ReceiptsOf(ctx context.Context, header *types.Header) (*sources.Receipts, error)
	CodeByHash(ctx context.Context, hash common.Hash) ([]byte, error)
	NodeByHash(ctx context.Context, hash common.Hash) ([]byte, error)
	GetProof(ctx context.Context, addr common.Address, slots []common.Hash, blockHash common.Hash) (*sources.AccountProof, error)
	OutputAt(ctx context.Context, blockHash common.Hash) (*rollup.Output, *types.Header, error)
	ExecutePayload(ctx context.Context, parentHash common.Hash, payloadAttributes json.RawMessage) (*sources.ExecutionWitness, error)
}

// Sources are the nodes the prefetcher fetches from. L2Experimental is optional. A super-root claim has
// one L2 node per chain (L2ByChain, and optionally L2ExperimentalByChain), which hints naming a chain use.
type Sources struct {
	L1             L1Source
	Blobs          BlobSource
	L2             L2Source
	L2Experimental L2Source

	L2ByChain             map[uint64]L2Source
	L2ExperimentalByChain map[uint64]L2Source
}

// Config is what the prefetcher needs beyond its sources.
type Config struct {
	// L2Head is the agreed L2 block (--l2.head): l2-output hints are answered with its output.
	L2Head common.Hash
	// L2ChainID is the chain of the L2 source; hints naming another chain are refused. Zero accepts any.
	L2ChainID uint64
	// Rollup, if set, lets the output of an Isthmus block be cross-checked against the header's
	// withdrawals root, which commits to the same storage root.
	Rollup *rollup.Config
	// Retry is the policy for failed fetches.
	Retry RetryPolicy
	// Stats receives the counters; nil makes a new one (see Prefetcher.Stats).
	Stats *Stats
	// Interop, if set, makes the prefetcher serve a super-root claim (see interop.go).
	Interop *InteropConfig
}

// Prefetcher implements host.Prefetcher over a store and L1/beacon/L2 sources.
type Prefetcher struct {
	log   log.Logger
	kv    kvstore.KV
	check *StoredCheck
	src   Sources
	cfg   Config
	stats *Stats

	mu           sync.Mutex // guards the hints
	lastHint     string
	lastBulkHint string

	fetchMu sync.Mutex // one fetch at a time: the program asks for one preimage at a time anyway
	blobs   blobCache  // guarded by fetchMu, as everything the routes keep between fetches
	walk    l1Walk
}

// New returns a prefetcher that stores into kv. L1, Blobs and L2 (or L2ByChain) must be set.
func New(logger log.Logger, kv kvstore.KV, src Sources, cfg Config) (*Prefetcher, error) {
	if src.L1 == nil || src.Blobs == nil || (src.L2 == nil && len(src.L2ByChain) == 0) {
		return nil, errors.New("prefetcher needs an L1, a beacon and an L2 source")
	}
	if cfg.Stats == nil {
		cfg.Stats = NewStats()
	}
	return &Prefetcher{log: logger, kv: kv, check: NewStoredCheck(kv), src: src, cfg: cfg, stats: cfg.Stats}, nil
}

// Stats are the prefetcher's counters.
func (p *Prefetcher) Stats() *Stats { return p.stats }

// ErrNoHint is returned for a missing preimage when no hint says where to fetch it.
var ErrNoHint = errors.New("no hint announced it")

// isBulk reports whether a hint type fetches many state nodes in one request.
func isBulk(typ string) bool {
	return typ == preimage.HintL2AccountProof || typ == preimage.HintL2PayloadWitness
}

// Hint records hint for the next missing preimage. Nothing is fetched yet, except for l2-block-data,
// which is answered at once, as op-program's and kona's hosts do: the program reads the block after
// another hint, which cannot fetch it (see blockData).
func (p *Prefetcher) Hint(hint string) error {
	typ, _, err := preimage.ParseHint(hint)
	if err != nil {
		return err
	}
	p.stats.inc(p.stats.hints, typ)
	if typ == preimage.HintL2BlockData {
		p.fetchMu.Lock()
		defer p.fetchMu.Unlock()
		return p.fetch(context.Background(), hint, true)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if isBulk(typ) {
		p.lastBulkHint = hint
	} else {
		p.lastHint = hint
	}
	return nil
}

// hints returns the current hints.
func (p *Prefetcher) hints() (last, bulk string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastHint, p.lastBulkHint
}

// takeBulk clears the bulk hint if it is still bulk (a newer one stays for the next miss).
func (p *Prefetcher) takeBulk(bulk string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastBulkHint == bulk {
		p.lastBulkHint = ""
	}
}

// bulkServes reports whether a bulk hint can provide what the last hint announced: state nodes and code.
func bulkServes(lastHint string) bool {
	if lastHint == "" {
		return true
	}
	typ, _, err := preimage.ParseHint(lastHint)
	return err == nil && (typ == preimage.HintL2StateNode || typ == preimage.HintL2Code)
}

// GetPreimage answers key from the store, fetching on a miss what the hints announced. A stored value
// that fails its check (StoredCheck: e.g. a file torn by a crash, or a forged precompile answer or blob
// element) or cannot be checked is logged and handled as a miss: the fetch stores the good value over it.
func (p *Prefetcher) GetPreimage(ctx context.Context, key [32]byte) ([]byte, error) {
	v, err := p.stored(key, false)
	if !missing(err) {
		return v, err
	}
	p.stats.misses.Add(1)

	p.fetchMu.Lock()
	defer p.fetchMu.Unlock()
	// The fetch for an earlier request may have brought this key.
	if v, err = p.stored(key, true); !missing(err) {
		return v, err
	}
	corrupt, unverifiable := errors.Is(err, kvstore.ErrCorrupt), errors.Is(err, ErrUnverifiable)

	hint, bulk := p.hints()
	if bulk != "" && bulkServes(hint) {
		p.takeBulk(bulk)
		if err := p.fetch(ctx, bulk, false); errors.Is(err, errNoExperimental) {
			p.log.Debug("Ignoring bulk hint", "hint", truncate(bulk), "reason", err)
		} else if err != nil {
			// The last hint fetches the same data one node at a time.
			p.log.Warn("Bulk prefetch failed, fetching one by one", "hint", truncate(bulk), "err", err)
		} else if v, err := p.stored(key, false); !missing(err) {
			return v, err
		}
	}
	keyName := fmt.Sprintf("%s key %s", preimage.KeyType(key[0]), common.Hash(key))
	switch {
	case corrupt:
		keyName += " (its stored value is corrupt)"
	case unverifiable:
		keyName += " (its stored value cannot be checked)"
	}
	if hint == "" {
		return nil, fmt.Errorf("preimage %s is missing and %w", keyName, ErrNoHint)
	}
	if err := p.fetch(ctx, hint, true); err != nil {
		return nil, fmt.Errorf("preimage %s: prefetch for hint %q: %w", keyName, truncate(hint), err)
	}
	v, err = p.stored(key, false)
	if missing(err) {
		return nil, fmt.Errorf("preimage %s: hint %q was fetched but did not provide it", keyName, truncate(hint))
	}
	return v, err
}

// missing reports whether a stored read found nothing usable: no value, a corrupt one, or one that cannot
// be checked.
func missing(err error) bool {
	return errors.Is(err, kvstore.ErrNotFound) || errors.Is(err, kvstore.ErrCorrupt) || errors.Is(err, ErrUnverifiable)
}

// stored reads key from the store and checks the value against it (StoredCheck, with the last hint). A
// corrupt value is returned as an error wrapping kvstore.ErrCorrupt, one that cannot be checked as an error
// wrapping ErrUnverifiable; with report either is logged and counted.
func (p *Prefetcher) stored(key [32]byte, report bool) ([]byte, error) {
	if v, ok := p.check.Cached(key); ok {
		return v, nil
	}
	v, err := p.kv.Get(common.Hash(key))
	if err == nil {
		last, _ := p.hints()
		err = p.check.Check(key, v, last)
	}
	if report && (errors.Is(err, kvstore.ErrCorrupt) || errors.Is(err, ErrUnverifiable)) {
		p.stats.corrupt.Add(1)
		msg := "Stored preimage is corrupt, fetching it again"
		if !errors.Is(err, kvstore.ErrCorrupt) {
			msg = "Stored preimage cannot be checked, fetching it again"
		}
		p.log.Warn(msg, "type", preimage.KeyType(key[0]), "key", common.Hash(key), "err", err)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// fetch runs the route of hint, with retries if retry is set.
func (p *Prefetcher) fetch(ctx context.Context, hint string, retry bool) error {
	typ, data, err := preimage.ParseHint(hint)
	if err != nil {
		return Permanent(err)
	}
	p.stats.inc(p.stats.fetches, typ)
	start := time.Now()
	policy := p.cfg.Retry
	if !retry {
		policy.MaxAttempts = 1
	}
	var stored int
	err = policy.Do(ctx, func(attempt int, err error, wait time.Duration) {
		p.stats.retries.Add(1)
		p.log.Warn("Prefetch failed, retrying", "type", typ, "attempt", attempt, "wait", wait, "err", err)
	}, func(ctx context.Context) error {
		b := &batch{}
		if err := p.route(ctx, typ, data, b); err != nil {
			return err
		}
		if err := p.commit(b); err != nil {
			return err
		}
		stored = len(b.items)
		return nil
	})
	if err != nil {
		p.stats.failures.Add(1)
		return err
	}
	p.log.Debug("Prefetched", "type", typ, "preimages", stored, "elapsed", time.Since(start))
	return nil
}

// batch collects a route's preimages; nothing is stored unless all of them check out.
type batch struct {
	items []item
}

type item struct {
	key   [32]byte
	value []byte
}

func (b *batch) add(key preimage.Key, value []byte) {
	b.items = append(b.items, item{key.PreimageKey(), value})
}

// addNode adds a value under its own keccak256 key (trie nodes, code, headers).
func (b *batch) addNode(value []byte) { b.add(preimage.KeccakKeyOf(value), value) }

// commit checks every keccak256 and sha256 preimage against its key, then stores the batch. Blob and
// precompile preimages cannot be checked by key; their routes checked them as a whole.
func (p *Prefetcher) commit(b *batch) error {
	for _, it := range b.items {
		if err := preimage.Verify(it.key, it.value); err != nil {
			return err
		}
	}
	for _, it := range b.items {
		if err := p.kv.Put(common.Hash(it.key), it.value); err != nil {
			return Permanent(fmt.Errorf("store preimage %s: %w", common.Hash(it.key), err))
		}
		p.stats.preimages.Add(1)
		p.stats.bytes.Add(uint64(len(it.value)))
	}
	return nil
}

func truncate(s string) string {
	const max = 160
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
