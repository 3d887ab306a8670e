package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// serveDevnet serves the default devnet on 127.0.0.1 for the test and returns it with its disputes.
func serveDevnet(tb testing.TB) (*devnet.Devnet, *devnet.Server, []demo.Dispute) {
	d, err := devnet.New(devnet.Config{})
	require.NoError(tb, err)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	require.NoError(tb, err)
	tb.Cleanup(func() { srv.Close() })
	disputes, err := demo.Disputes(d)
	require.NoError(tb, err)
	return d, srv, disputes
}

// onlineConfig is the host config of an online run of dp against srv into an empty datadir.
func onlineConfig(d *devnet.Devnet, srv *devnet.Server, dp demo.Dispute, fast bool, dir string) *host.Config {
	cfg := demo.HostConfig(d, dp)
	cfg.L1URL, cfg.L2URLs, cfg.L1BeaconURL = srv.L1URL(), []string{srv.L2URL()}, srv.BeaconURL()
	if fast {
		cfg.L2Experimental = []string{srv.L2URL()}
	}
	cfg.DataDir, cfg.DataFormat = dir, kvstore.FormatPebble
	return cfg
}

// BenchmarkOnlineClaim decides the demo's 6-block honest claim online against the devnet server, into an
// empty datadir each time, with and without the witness fast path (--l2.experimental), and reports the
// requests per derived L2 block beside the time.
func BenchmarkOnlineClaim(b *testing.B) {
	root := log.Root()
	log.SetDefault(log.NewLogger(log.DiscardHandler()))
	defer log.SetDefault(root)
	d, srv, disputes := serveDevnet(b)
	dp := disputes[0]
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("witness=%v", fast), func(b *testing.B) {
			dir := b.TempDir()
			var total, l2 uint64
			for i := 0; b.Loop(); i++ {
				run, err := RunOnline(context.Background(), srv, onlineConfig(d, srv, dp, fast, filepath.Join(dir, fmt.Sprint(i))), inprocess.Program)
				require.NoError(b, err, "run %d", i)
				require.Equal(b, dp.Want, run.Code, "run %d", i)
				total, l2 = run.Total, run.L2
			}
			b.ReportMetric(float64(total)/float64(dp.Blocks()), "requests/block")
			b.ReportMetric(float64(l2)/float64(dp.Blocks()), "l2-requests/block")
		})
	}
}

// TestRunOnline: the witness fast path brings one debug_executePayload per derived block and fewer L2
// requests; both modes give the honest claim's verdict and count what the server received.
func TestRunOnline(t *testing.T) {
	d, srv, disputes := serveDevnet(t)
	dp := disputes[0]
	var runs [2]OnlineRun
	for i, fast := range []bool{false, true} {
		run, err := RunOnline(context.Background(), srv, onlineConfig(d, srv, dp, fast, t.TempDir()), inprocess.Program)
		require.NoError(t, err)
		require.Equal(t, preimage.ExitValid, run.Code)
		require.Greater(t, run.Total, run.L2, "L1 and beacon requests are counted too")
		require.NotZero(t, run.L1Trips)
		require.Less(t, run.L1Trips, run.Trips, "L2 and beacon round trips are counted too")
		require.LessOrEqual(t, run.Trips, run.Total, "a batch is one round trip")
		runs[i] = run
	}
	slow, fast := runs[0], runs[1]
	require.Zero(t, slow.Executes)
	require.Equal(t, dp.Blocks(), fast.Executes, "one payload execution per derived block")
	require.Less(t, fast.L2, slow.L2)
	require.Less(t, fast.DBGet, slow.DBGet)
	require.Equal(t, slow, medianRun([]OnlineRun{fast, slow, slow}), "the median by wall time")
}

// TestOnlineProgressLog: while an online run fetches, the host logs its progress (stored preimages,
// requests) at the progress interval, and stops when the run ends.
func TestOnlineProgressLog(t *testing.T) {
	d, srv, disputes := serveDevnet(t)
	// A file takes the handler's writes from the prefetcher's goroutines; the test reads it whole.
	logFile, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer logFile.Close()
	logged := func() string {
		data, err := os.ReadFile(logFile.Name())
		require.NoError(t, err)
		return string(data)
	}
	root := log.Root()
	log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(logFile, log.LevelInfo, false)))
	defer log.SetDefault(root)
	interval := host.ProgressInterval
	host.ProgressInterval = 20 * time.Millisecond
	defer func() { host.ProgressInterval = interval }()

	run, err := RunOnline(context.Background(), srv, onlineConfig(d, srv, disputes[0], false, t.TempDir()), inprocess.Program)
	require.NoError(t, err)
	require.Equal(t, preimage.ExitValid, run.Code)
	out := logged()
	n := strings.Count(out, "Fetching preimages")
	require.GreaterOrEqual(t, n, 2, "progress lines in:\n%s", out)
	require.Contains(t, out, "stored=")
	require.Contains(t, out, "requests=")
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, n, strings.Count(logged(), "Fetching preimages"), "progress logged after the prefetcher closed")
}
