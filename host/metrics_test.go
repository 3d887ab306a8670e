package host

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/preimage"
)

type rawHint string

func (h rawHint) Hint() string { return string(h) }

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// TestMetricsServedWhileRunning scrapes /metrics from inside the program, while the host serves it, and
// again after the run.
func TestMetricsServedWhileRunning(t *testing.T) {
	cfg := testConfig(t)
	cfg.DataDir = ""
	store := kvstore.NewMem()
	value := []byte("hello preimage")
	require.NoError(t, store.Put(preimage.Keccak256Key(crypto.Keccak256Hash(value)).PreimageKey(), value))

	m := NewMetrics()
	srv, err := StartMetricsServer(log.New(), "127.0.0.1:0", m)
	require.NoError(t, err)
	defer srv.Close()
	url := "http://" + srv.Addr() + "/metrics"

	var during string
	program := func(ctx context.Context, pre, hint io.ReadWriter) error {
		oracle := preimage.NewOracleClient(pre)
		hw := preimage.NewHintWriter(hint)
		for range 3 {
			if err := hw.Hint(rawHint("l1-block-header 0x01")); err != nil {
				return err
			}
			if _, err := oracle.Get(preimage.Keccak256Key(crypto.Keccak256Hash(value))); err != nil {
				return err
			}
		}
		for _, k := range []preimage.LocalIndexKey{preimage.L1HeadLocalIndex, preimage.L2ClaimLocalIndex} {
			if _, err := oracle.Get(k); err != nil {
				return err
			}
		}
		during = scrape(t, url)
		return nil
	}
	h := New(log.New(), cfg, program)
	h.Store = store
	m.Instrument(h)
	require.NoError(t, h.Run(context.Background()))
	m.Finish(h)

	require.Contains(t, during, "# TYPE faultproof_host_preimages_served_total counter\nfaultproof_host_preimages_served_total 5\n")
	require.Contains(t, during, fmt.Sprintf("faultproof_host_preimage_bytes_served_total %d\n", 3*len(value)+64))
	require.Contains(t, during, "faultproof_host_hints_total 3\n")
	require.Contains(t, during, "faultproof_host_run_done 0\n")

	after := scrape(t, url)
	require.Contains(t, after, "faultproof_host_preimages_served_total 5\n")
	require.Contains(t, after, "faultproof_host_hints_total 3\n")
	require.Contains(t, after, "faultproof_host_run_done 1\n")
}

type statsPrefetcher struct {
	Prefetcher
	stats *prefetch.Stats
}

func (s statsPrefetcher) Stats() *prefetch.Stats { return s.stats }

func TestMetricsReportPrefetcherStats(t *testing.T) {
	m := NewMetrics()
	h := New(log.New(), testConfig(t), nil)
	stats := prefetch.NewStats()
	h.NewPrefetcher = func(ctx context.Context, logger log.Logger, cfg *Config, kv kvstore.KV) (Prefetcher, error) {
		return statsPrefetcher{Prefetcher: NewOfflineSource(log.New(), kv), stats: stats}, nil
	}
	m.Instrument(h)
	_, err := h.NewPrefetcher(context.Background(), log.New(), testConfig(t), kvstore.NewMem())
	require.NoError(t, err)
	stats.CountRPC("eth_getBlockByHash")
	stats.CountRPC("eth_getBlockByHash")
	stats.CountRPC(`/eth/v1/beacon/"blob"`)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	text := rec.Body.String()
	require.Contains(t, text, "faultproof_host_rpc_calls_total{method=\"eth_getBlockByHash\"} 2\n")
	require.Contains(t, text, `faultproof_host_rpc_calls_total{method="/eth/v1/beacon/\"blob\""} 1`+"\n")
	require.Contains(t, text, "faultproof_host_rpc_retries_total 0\n")
	require.Contains(t, text, "faultproof_host_preimages_stored_total 0\n")
}
