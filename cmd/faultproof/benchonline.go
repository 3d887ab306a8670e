package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

var benchOnlineCommand = &cli.Command{
	Name:  "online",
	Usage: "RPC calls and wall time per derived L2 block of the online host, with and without the witness fast path",
	Description: `Serves the devnet over JSON-RPC and the beacon API on 127.0.0.1 and decides the demo's disputes online
into an empty datadir each time, once with --l2 only (every state node is a debug_dbGet) and once with the
same node as --l2.experimental (the program's l2-payload-witness hint becomes one debug_executePayload per
block). Reports requests, round trips (HTTP requests: a batch is one) and wall time per derived L2 block,
medians over --rounds, and their ratio. --rpc.latency delays every request, as a node across a network
would. --l1.past puts the L1 head that many empty blocks past the data (a devnet for each value): the
program walks back from the head to the data.`,
	Flags: append([]cli.Flag{
		&cli.IntFlag{Name: "rounds", Usage: "Runs of each dispute in each mode; the median is reported", Value: 3},
		&cli.DurationFlag{Name: "rpc.latency", Usage: "Delay added to every request to the devnet's nodes", Value: 0},
		&cli.Uint64SliceFlag{Name: "l1.past", Usage: "Empty L1 blocks between the data and the L1 head; one devnet for each", Value: cli.NewUint64Slice(0, 100, 500)},
	}, logFlags...),
	Before: setupLogging,
	Action: runBenchOnline,
}

// onlineRun is what one online run of a dispute cost.
type onlineRun struct {
	code     int
	elapsed  time.Duration
	total    uint64 // requests to L1, L2 and beacon
	trips    uint64 // HTTP requests to L1, L2 and beacon (a batch is one)
	l1Trips  uint64
	l2       uint64 // requests to L2
	dbGet    uint64
	executes uint64 // debug_executePayload
}

func runBenchOnline(ctx *cli.Context) error {
	rounds, latency := ctx.Int("rounds"), ctx.Duration("rpc.latency")
	if rounds < 1 || latency < 0 {
		return errors.New("--rounds must be at least 1 and --rpc.latency not negative")
	}
	defer quietLogs(ctx)()
	dir, err := os.MkdirTemp("", "faultproof-bench-online-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b := &onlineBench{w: tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0), dir: dir, rounds: rounds, latency: latency}
	fmt.Fprintf(b.w, "CLAIM\tBLOCKS\tL1 PAST\tWITNESS\tREQUESTS\tL2\tdbGet\texecutePayload\tREQ/BLOCK\tL2/BLOCK\tTRIPS\tL1 TRIPS\tTIME\tTIME/BLOCK\tVERDICT\n")
	for _, past := range ctx.Uint64Slice("l1.past") {
		if err := b.runDevnet(ctx.Context, past); err != nil {
			return err
		}
		debug.FreeOSMemory() // the devnet's memory is not counted in the next one's peak
	}
	if err := b.w.Flush(); err != nil {
		return err
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("\nwitness fast path, ratios without/with (medians of %d, rpc latency %s):\n", rounds, latency)
	for _, r := range b.ratios {
		fmt.Println("  " + r)
	}
	fmt.Printf("peak memory (max RSS, devnet + server + host + program, the %d devnets one after another): %.1f MiB\n",
		len(ctx.Uint64Slice("l1.past")), float64(ru.Maxrss)/1024)
	return nil
}

// onlineBench is the table of bench online, filled one devnet at a time.
type onlineBench struct {
	w       *tabwriter.Writer
	dir     string
	rounds  int
	latency time.Duration
	runs    int
	ratios  []string
}

// runDevnet serves a devnet whose L1 head is past empty blocks after the data and decides its disputes.
func (b *onlineBench) runDevnet(ctx context.Context, past uint64) error {
	d, err := devnet.New(devnet.Config{L1BlocksPast: past})
	if err != nil {
		return err
	}
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, e := range []*devnet.Endpoint{srv.L1(), srv.L2(), srv.Beacon()} {
		e.SetLatency(b.latency)
	}
	disputes, err := demoDisputes(d)
	if err != nil {
		return err
	}
	w, rounds, dir := b.w, b.rounds, b.dir
	for _, dp := range disputes {
		blocks := uint64(0)
		if dp.claimBlock > dp.agreed {
			blocks = dp.claimBlock - dp.agreed
		}
		var med [2]onlineRun
		for mode, fast := range []bool{false, true} {
			var all []onlineRun
			for r := 0; r < rounds; r++ {
				b.runs++
				fmt.Fprintf(os.Stderr, "%s, L1 head %d blocks past, witness fast path %v, round %d...\n", dp.name, past, fast, r+1)
				cfg := demoHostConfig(d, dp)
				cfg.L1URL, cfg.L2URLs, cfg.L1BeaconURL = srv.L1URL(), []string{srv.L2URL()}, srv.BeaconURL()
				if fast {
					cfg.L2Experimental = []string{srv.L2URL()}
				}
				cfg.DataDir, cfg.DataFormat = filepath.Join(dir, fmt.Sprintf("run-%d", b.runs)), kvstore.FormatPebble
				run, err := runOnline(ctx, srv, cfg)
				if err != nil {
					return fmt.Errorf("%s: %w", dp.name, err)
				}
				if run.code != dp.want {
					return fmt.Errorf("%s: verdict %s, want %s", dp.name, verdict(run.code), verdict(dp.want))
				}
				all = append(all, run)
				_ = os.RemoveAll(cfg.DataDir)
			}
			m := medianRun(all)
			med[mode] = m
			perBlock := func(v float64) string {
				if blocks == 0 {
					return "-"
				}
				return fmt.Sprintf("%.1f", v/float64(blocks))
			}
			timePerBlock := "-"
			if blocks > 0 {
				timePerBlock = (m.elapsed / time.Duration(blocks)).Round(time.Microsecond * 100).String()
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", dp.name, blocks, past, yesNo(fast),
				m.total, m.l2, m.dbGet, m.executes, perBlock(float64(m.total)), perBlock(float64(m.l2)), m.trips, m.l1Trips,
				m.elapsed.Round(time.Millisecond), timePerBlock, verdict(m.code))
		}
		if blocks > 0 {
			b.ratios = append(b.ratios, fmt.Sprintf("%s, L1 head %d past: without/with: L2 requests %.2f, all requests %.2f, wall time %.2f",
				dp.name, past, float64(med[0].l2)/float64(med[1].l2), float64(med[0].total)/float64(med[1].total),
				med[0].elapsed.Seconds()/med[1].elapsed.Seconds()))
		}
	}
	return nil
}

// runOnline decides one dispute with the host online against srv, the program in process, and counts the
// requests srv received.
func runOnline(ctx context.Context, srv *devnet.Server, cfg *host.Config) (onlineRun, error) {
	h := host.New(log.Root(), cfg, inProcessProgram)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	before := srv.Requests()
	tripsBefore, l1TripsBefore := roundTrips(srv), srv.L1().RoundTrips()
	start := time.Now()
	err := h.Run(ctx)
	run := onlineRun{elapsed: time.Since(start)}
	var exit *host.ExitError
	switch {
	case errors.As(err, &exit) && exit.Code == preimage.ExitInvalid:
		run.code = exit.Code
	case err != nil:
		return run, err
	}
	after := srv.Requests()
	run.trips, run.l1Trips = uint64(roundTrips(srv)-tripsBefore), uint64(srv.L1().RoundTrips()-l1TripsBefore)
	for _, side := range []struct {
		b, a map[string]uint64
		l2   bool
	}{{before.L1, after.L1, false}, {before.L2, after.L2, true}, {before.Beacon, after.Beacon, false}} {
		for k, v := range side.a {
			n := v - side.b[k]
			run.total += n
			if side.l2 {
				run.l2 += n
			}
		}
	}
	run.dbGet = after.L2["debug_dbGet"] - before.L2["debug_dbGet"]
	run.executes = after.L2["debug_executePayload"] - before.L2["debug_executePayload"]
	return run, nil
}

// roundTrips is how many HTTP requests srv's nodes received.
func roundTrips(srv *devnet.Server) int {
	return srv.L1().RoundTrips() + srv.L2().RoundTrips() + srv.Beacon().RoundTrips()
}

// medianRun is the run with the median wall time; the request counts are the same in every round.
func medianRun(runs []onlineRun) onlineRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b onlineRun) int { return int(a.elapsed - b.elapsed) })
	return s[len(s)/2]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
