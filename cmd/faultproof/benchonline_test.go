package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
)

// BenchmarkOnlineClaim decides the demo's 6-block honest claim online against the devnet server, into an
// empty datadir each time, with and without the witness fast path (--l2.experimental), and reports the
// requests per derived L2 block beside the time.
func BenchmarkOnlineClaim(b *testing.B) {
	root := log.Root()
	log.SetDefault(log.NewLogger(log.DiscardHandler()))
	defer log.SetDefault(root)
	d, err := devnet.New(devnet.Config{})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	require.NoError(b, err)
	defer srv.Close()
	disputes, err := demoDisputes(d)
	require.NoError(b, err)
	dp := disputes[0]
	blocks := float64(dp.claimBlock - dp.agreed)
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("witness=%v", fast), func(b *testing.B) {
			dir := b.TempDir()
			var total, l2 uint64
			for i := 0; b.Loop(); i++ {
				cfg := demoHostConfig(d, dp)
				cfg.L1URL, cfg.L2URLs, cfg.L1BeaconURL = srv.L1URL(), []string{srv.L2URL()}, srv.BeaconURL()
				if fast {
					cfg.L2Experimental = []string{srv.L2URL()}
				}
				cfg.DataDir, cfg.DataFormat = filepath.Join(dir, fmt.Sprint(i)), kvstore.FormatPebble
				run, err := runOnline(ctx, srv, cfg)
				if err != nil || run.code != dp.want {
					require.FailNow(b, fmt.Sprintf("run %d: exit %d, %v", i, run.code, err))
				}
				total, l2 = run.total, run.l2
			}
			b.ReportMetric(float64(total)/blocks, "requests/block")
			b.ReportMetric(float64(l2)/blocks, "l2-requests/block")
		})
	}
}

// TestOnlineProgressLog: while an online run fetches, the host logs its progress (stored preimages,
// requests) at the progress interval.
func TestOnlineProgressLog(t *testing.T) {
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	disputes, err := demoDisputes(d)
	require.NoError(t, err)
	var buf syncBuffer
	root := log.Root()
	log.SetDefault(log.NewLogger(log.NewTerminalHandlerWithLevel(&buf, log.LevelInfo, false)))
	defer log.SetDefault(root)
	interval := host.ProgressInterval
	host.ProgressInterval = 20 * time.Millisecond
	defer func() { host.ProgressInterval = interval }()

	cfg := demoHostConfig(d, disputes[0])
	cfg.L1URL, cfg.L2URLs, cfg.L1BeaconURL = srv.L1URL(), []string{srv.L2URL()}, srv.BeaconURL()
	cfg.DataDir, cfg.DataFormat = t.TempDir(), kvstore.FormatPebble
	run, err := runOnline(ctx, srv, cfg)
	if err != nil || run.code != 0 {
		require.FailNow(t, fmt.Sprintf("exit %d, %v", run.code, err))
	}
	out := buf.String()
	n := strings.Count(out, "Fetching preimages")
	if n < 2 || !strings.Contains(out, "stored=") || !strings.Contains(out, "requests=") {
		require.FailNow(t, fmt.Sprintf("want progress lines, got %d in:\n%s", n, out))
	}
	// After the run, no more progress lines.
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, n, strings.Count(buf.String(), "Fetching preimages"), "progress logged after the prefetcher closed")
}
