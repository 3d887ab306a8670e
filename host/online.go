package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/rollup"
)

// OnlinePrefetcher is the prefetcher of an online host, with the clients it owns. Close releases them and
// logs the statistics; it also happens by itself when the context given to NewOnlinePrefetcher ends.
type OnlinePrefetcher struct {
	*prefetch.Prefetcher
	log       log.Logger
	closers   []func()
	closeOnce sync.Once
	stop      chan struct{} // ends the progress log
}

// ProgressInterval is how often an online host logs what it has fetched so far while a run goes on.
var ProgressInterval = 10 * time.Second

// logProgress logs the fetch counters every interval while they change, until stop is closed: a claim on
// a real chain can fetch for minutes.
func (o *OnlinePrefetcher) logProgress(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	start := time.Now()
	var last prefetch.StatsSnapshot
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			s := o.Stats().Snapshot()
			if s.Preimages == last.Preimages && s.TotalRPCCalls() == last.TotalRPCCalls() {
				continue
			}
			rate := float64(s.Preimages-last.Preimages) / interval.Seconds()
			o.log.Info("Fetching preimages", "stored", s.Preimages, "bytes", s.Bytes, "requests", s.TotalRPCCalls(),
				"retries", s.Retries, "stored_per_second", int(rate), "elapsed", time.Since(start).Round(time.Second))
			last = s
		}
	}
}

var _ io.Closer = (*OnlinePrefetcher)(nil)

// Close closes the RPC clients and logs what was fetched. It is safe to call more than once.
func (o *OnlinePrefetcher) Close() error {
	o.closeOnce.Do(func() {
		if o.stop != nil {
			close(o.stop)
		}
		for _, c := range o.closers {
			c()
		}
		o.log.Info("Prefetcher stopped", o.Stats().Snapshot().LogFields()...)
	})
	return nil
}

// NewOnlinePrefetcher connects to --l1, --l1.beacon, --l2 (and --l2.experimental) and returns a
// prefetcher storing into kv. It matches Host.NewPrefetcher. Each L2 URL is asked for its chain ID and the
// one of the rollup's L2 chain is used (for a super-root claim, one per chain of the agreed prestate); the
// L1's chain ID must be the rollups' L1 chain.
func NewOnlinePrefetcher(ctx context.Context, logger log.Logger, cfg *Config, kv kvstore.KV) (Prefetcher, error) {
	kind, err := sources.ParseRPCKind(cfg.L1RPCKind)
	if err != nil {
		return nil, err
	}
	var rollups []*rollup.Config // the chains to serve
	switch {
	case cfg.Interop != nil:
		for _, c := range cfg.Interop.Chains {
			rollups = append(rollups, c.Rollup)
		}
		if len(rollups) == 0 {
			return nil, fmt.Errorf("%w: an interop claim needs its chains' configs to fetch online", ErrInteropConfig)
		}
	case cfg.Rollup != nil:
		rollups = []*rollup.Config{cfg.Rollup}
	default:
		return nil, ErrMissingRollupConfig
	}
	stats := prefetch.NewStats()
	opts := sources.Options{OnRequest: stats.CountRPC}
	o := &OnlinePrefetcher{log: logger}
	ok := false
	defer func() {
		if !ok {
			for _, c := range o.closers {
				c()
			}
		}
	}()

	l1RPC, err := sources.Dial(ctx, cfg.L1URL)
	if err != nil {
		return nil, fmt.Errorf("--l1: %w", err)
	}
	o.closers = append(o.closers, l1RPC.Close)
	l1 := sources.NewL1Client(l1RPC, kind, opts)
	l1ID, err := chainIDWithRetry(ctx, l1.ChainID)
	if err != nil {
		return nil, fmt.Errorf("--l1 %s: %w", cfg.L1URL, err)
	}
	if want := rollups[0].L1ChainID; want != nil && want.IsUint64() && want.Uint64() != l1ID {
		return nil, fmt.Errorf("--l1 %s is chain %d, but the rollup's L1 is chain %d", cfg.L1URL, l1ID, want.Uint64())
	}
	beacon, err := sources.NewBeaconClient(cfg.L1BeaconURL, opts)
	if err != nil {
		return nil, fmt.Errorf("--l1.beacon: %w", err)
	}

	// connect dials every URL of a flag and returns the clients by chain ID (a chain given twice is an
	// error), with what each URL is.
	connect := func(flag string, urls []string) (map[uint64]*sources.L2Client, []string, error) {
		out := map[uint64]*sources.L2Client{}
		var seen []string
		for _, url := range urls {
			c, err := sources.Dial(ctx, url)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", flag, err)
			}
			o.closers = append(o.closers, c.Close)
			l2 := sources.NewL2Client(c, opts)
			id, err := chainIDWithRetry(ctx, l2.ChainID)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", flag, url, err)
			}
			if _, dup := out[id]; dup && cfg.Interop != nil {
				return nil, nil, fmt.Errorf("%s: two URLs serve L2 chain %d", flag, id)
			}
			if _, dup := out[id]; !dup {
				out[id] = l2
			}
			seen = append(seen, fmt.Sprintf("%s is chain %d", url, id))
		}
		return out, seen, nil
	}
	l2s, seen, err := connect("--l2", cfg.L2URLs)
	if err != nil {
		return nil, err
	}
	var exps map[uint64]*sources.L2Client
	if len(cfg.L2Experimental) > 0 {
		if exps, _, err = connect("--l2.experimental", cfg.L2Experimental); err != nil {
			return nil, err
		}
	}
	src := prefetch.Sources{L1: l1, Blobs: beacon}
	pcfg := prefetch.Config{Stats: stats}
	var ids []uint64
	for _, r := range rollups {
		id := r.ChainID()
		ids = append(ids, id)
		if _, ok := l2s[id]; !ok {
			return nil, fmt.Errorf("no --l2 URL serves L2 chain %d: %v", id, seen)
		}
	}
	if cfg.Interop == nil {
		id := ids[0]
		src.L2 = l2s[id]
		if len(exps) > 0 {
			exp, ok := exps[id]
			if !ok {
				return nil, fmt.Errorf("no --l2.experimental URL serves L2 chain %d", id)
			}
			src.L2Experimental = exp
		}
		pcfg.L2Head, pcfg.L2ChainID, pcfg.Rollup = cfg.L2Head, id, cfg.Rollup
	} else {
		src.L2ByChain, src.L2ExperimentalByChain = map[uint64]prefetch.L2Source{}, map[uint64]prefetch.L2Source{}
		for _, id := range ids {
			src.L2ByChain[id] = l2s[id]
			if exp, ok := exps[id]; ok {
				src.L2ExperimentalByChain[id] = exp
			}
		}
		if pcfg.Interop, err = prefetchInterop(cfg); err != nil {
			return nil, err
		}
	}

	p, err := prefetch.New(logger, kv, src, pcfg)
	if err != nil {
		return nil, err
	}
	o.Prefetcher = p
	ok = true
	o.stop = make(chan struct{})
	go o.logProgress(ProgressInterval)
	go func() {
		<-ctx.Done()
		o.Close()
	}()
	logger.Info("Online prefetching enabled", "l1", cfg.L1URL, "l1_chain", l1ID, "l1_rpckind", kind, "beacon", cfg.L1BeaconURL,
		"trust_rpc", cfg.L1TrustRPC, "l2", len(cfg.L2URLs), "l2_chains", ids, "l2_experimental", len(exps))
	return o, nil
}

// chainIDWithRetry asks a node for its chain ID, a few times, so that a node still starting up does not
// fail the run.
func chainIDWithRetry(ctx context.Context, get func(context.Context) (uint64, error)) (uint64, error) {
	var id uint64
	err := prefetch.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Second}.Do(ctx, nil, func(ctx context.Context) error {
		var err error
		id, err = get(ctx)
		return err
	})
	if err != nil {
		return 0, errors.Join(errors.New("cannot read the chain ID"), err)
	}
	return id, nil
}
