package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
)

// Metrics exposes a host's counters to Prometheus on /metrics:
//
//	faultproof_host_preimages_served_total         preimages served to the program
//	faultproof_host_preimage_bytes_served_total    bytes of those preimages
//	faultproof_host_hints_total                    hints received from the program
//	faultproof_host_rpc_calls_total{method=...}    RPC / beacon requests sent (online)
//	faultproof_host_rpc_retries_total              fetch attempts repeated after a failure (online)
//	faultproof_host_rpc_failures_total             fetches that failed for good (online)
//	faultproof_host_preimages_stored_total         preimages the prefetcher wrote to the store (online)
//	faultproof_host_preimage_bytes_stored_total    bytes of those preimages (online)
//	faultproof_host_run_done                       1 once the run has finished
//
// While a program runs in process, served preimages and hints are counted on the program's side of the
// channels; with --exec or --server they appear when the run ends (from Host.Stats). Online counters come
// from the prefetcher's Stats as it works, read at each scrape.
type Metrics struct {
	preimages atomic.Uint64
	bytes     atomic.Uint64
	hints     atomic.Uint64
	done      atomic.Bool

	mu       sync.Mutex
	prefetch *prefetch.Stats

	registry *prometheus.Registry
}

// NewMetrics returns zeroed metrics, registered in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	counter := func(name, help string, value func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(value()) })
	}
	stats := func(field func(prefetch.StatsSnapshot) uint64) func() uint64 {
		return func() uint64 { return field(m.prefetchSnapshot()) }
	}
	m.registry.MustRegister(
		counter("faultproof_host_preimages_served_total", "Preimages served to the program.", m.preimages.Load),
		counter("faultproof_host_preimage_bytes_served_total", "Bytes of the preimages served to the program.", m.bytes.Load),
		counter("faultproof_host_hints_total", "Hints received from the program.", m.hints.Load),
		rpcCalls{m},
		counter("faultproof_host_rpc_retries_total", "Fetch attempts repeated after a failure.", stats(func(s prefetch.StatsSnapshot) uint64 { return s.Retries })),
		counter("faultproof_host_rpc_failures_total", "Fetches that failed for good.", stats(func(s prefetch.StatsSnapshot) uint64 { return s.Failures })),
		counter("faultproof_host_preimages_stored_total", "Preimages the prefetcher wrote to the store.", stats(func(s prefetch.StatsSnapshot) uint64 { return s.Preimages })),
		counter("faultproof_host_preimage_bytes_stored_total", "Bytes of the preimages the prefetcher wrote to the store.", stats(func(s prefetch.StatsSnapshot) uint64 { return s.Bytes })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faultproof_host_run_done", Help: "1 once the run has finished."}, func() float64 {
			if m.done.Load() {
				return 1
			}
			return 0
		}),
	)
	return m
}

// Instrument makes h report to m. Call it before h.Run, and Finish after.
func (m *Metrics) Instrument(h *Host) {
	if prog := h.program; prog != nil {
		h.program = func(ctx context.Context, preimageCh, hintCh io.ReadWriter) error {
			return prog(ctx, &countingPreimageCh{ReadWriter: preimageCh, m: m}, &countingHintCh{ReadWriter: hintCh, m: m})
		}
	}
	if newPrefetcher := h.NewPrefetcher; newPrefetcher != nil {
		h.NewPrefetcher = func(ctx context.Context, logger log.Logger, cfg *Config, kv kvstore.KV) (Prefetcher, error) {
			p, err := newPrefetcher(ctx, logger, cfg, kv)
			if s, ok := p.(interface{ Stats() *prefetch.Stats }); ok && err == nil {
				m.mu.Lock()
				m.prefetch = s.Stats()
				m.mu.Unlock()
			}
			return p, err
		}
	}
}

// Finish records the final counts of h's run; call it after h.Run has returned.
func (m *Metrics) Finish(h *Host) {
	p, b, hints := h.Stats()
	m.preimages.Store(p)
	m.bytes.Store(b)
	m.hints.Store(hints)
	m.done.Store(true)
}

// Handler serves the metrics in Prometheus' exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// prefetchSnapshot is the prefetcher's counts now (zero before it starts, or offline).
func (m *Metrics) prefetchSnapshot() prefetch.StatsSnapshot {
	m.mu.Lock()
	ps := m.prefetch
	m.mu.Unlock()
	if ps == nil {
		return prefetch.StatsSnapshot{}
	}
	return ps.Snapshot()
}

// rpcCalls collects faultproof_host_rpc_calls_total, one counter per method the prefetcher has called.
type rpcCalls struct{ m *Metrics }

var rpcCallsDesc = prometheus.NewDesc("faultproof_host_rpc_calls_total", "RPC and beacon API requests sent, by method.", []string{"method"}, nil)

func (rpcCalls) Describe(ch chan<- *prometheus.Desc) { ch <- rpcCallsDesc }

func (c rpcCalls) Collect(ch chan<- prometheus.Metric) {
	for method, n := range c.m.prefetchSnapshot().RPCCalls {
		ch <- prometheus.MustNewConstMetric(rpcCallsDesc, prometheus.CounterValue, float64(n), method)
	}
}

// countingPreimageCh counts, on the program's side, the preimages it reads: an 8-byte big-endian length
// followed by the value.
type countingPreimageCh struct {
	io.ReadWriter
	m *Metrics

	mu        sync.Mutex
	hdr       [8]byte
	hdrN      int
	remaining uint64
}

func (c *countingPreimageCh) Read(p []byte) (int, error) {
	n, err := c.ReadWriter.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	b := p[:n]
	for len(b) > 0 {
		if c.hdrN < len(c.hdr) {
			k := copy(c.hdr[c.hdrN:], b)
			c.hdrN += k
			b = b[k:]
			if c.hdrN == len(c.hdr) {
				c.remaining = uint64(c.hdr[0])<<56 | uint64(c.hdr[1])<<48 | uint64(c.hdr[2])<<40 | uint64(c.hdr[3])<<32 |
					uint64(c.hdr[4])<<24 | uint64(c.hdr[5])<<16 | uint64(c.hdr[6])<<8 | uint64(c.hdr[7])
				if c.remaining == 0 {
					c.m.preimages.Add(1)
					c.hdrN = 0
				}
			}
			continue
		}
		k := min(uint64(len(b)), c.remaining)
		c.remaining -= k
		b = b[k:]
		c.m.bytes.Add(k)
		if c.remaining == 0 {
			c.m.preimages.Add(1)
			c.hdrN = 0
		}
	}
	return n, err
}

// countingHintCh counts hints by their one-byte acknowledgements.
type countingHintCh struct {
	io.ReadWriter
	m *Metrics
}

func (c *countingHintCh) Read(p []byte) (int, error) {
	n, err := c.ReadWriter.Read(p)
	c.m.hints.Add(uint64(n))
	return n, err
}

// MetricsServer serves Metrics over HTTP.
type MetricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// StartMetricsServer listens on addr (host:port; port 0 picks a free one) and serves m on /metrics.
func StartMetricsServer(logger log.Logger, addr string, m *Metrics) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	s := &MetricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("Metrics server failed", "err", err)
		}
	}()
	logger.Info("Serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return s, nil
}

// Addr is the address the server listens on.
func (s *MetricsServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *MetricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
