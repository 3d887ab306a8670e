package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
)

// OnlineOptions say what 'bench online' runs.
type OnlineOptions struct {
	Rounds  int           // runs of each dispute in each mode; the median is reported
	Latency time.Duration // delay added to every request to the devnet's nodes
	// L1Past are the numbers of empty L1 blocks between the data and the L1 head, one devnet each (none:
	// one devnet, its L1 head at the data).
	L1Past  []uint64
	Claims  string // run only the claims whose names contain this
	Program host.ProgramFunc
}

// OnlineRun is what one online run of a dispute cost.
type OnlineRun struct {
	Code     int
	Elapsed  time.Duration
	Total    uint64 // requests to L1, L2 and beacon
	Trips    uint64 // HTTP requests to L1, L2 and beacon (a batch is one)
	L1Trips  uint64 // HTTP requests to L1
	L2       uint64 // requests to L2
	DBGet    uint64 // debug_dbGet
	Executes uint64 // debug_executePayload
}

// OnlineResult is what one dispute cost online on one devnet: the median runs without and with the
// witness fast path.
type OnlineResult struct {
	Claim      string
	Blocks     uint64 // L2 blocks derived
	L1Past     uint64 // empty L1 blocks between the data and the L1 head
	Slow, Fast OnlineRun
}

// OnlineReport is what Online measured.
type OnlineReport struct {
	Rounds  int
	Latency time.Duration
	Results []OnlineResult
	PeakRSS int64 // bytes, the whole process so far: devnets, server, host and program
}

// Online serves devnets over JSON-RPC and the beacon API on 127.0.0.1, one after another (the default
// devnet with its L1 head o.L1Past blocks past the data), and decides the demo's disputes online into an
// empty datadir each time, once with --l2 only (every state node is a debug_dbGet) and once with the same
// node as --l2.experimental (one debug_executePayload per block). It writes the requests, round trips and
// wall time per derived L2 block, medians over the rounds, and their ratios to out; progress goes to
// progress.
func Online(ctx context.Context, o OnlineOptions, out, progress io.Writer) error {
	r, err := RunOnlineBench(ctx, o, progress)
	if err != nil {
		return err
	}
	return r.WriteTable(out)
}

// RunOnlineBench measures what Online writes.
func RunOnlineBench(ctx context.Context, o OnlineOptions, progress io.Writer) (*OnlineReport, error) {
	if o.Rounds < 1 || o.Latency < 0 {
		return nil, errors.New("--rounds must be at least 1 and --rpc.latency not negative")
	}
	pasts := o.L1Past
	if len(pasts) == 0 {
		pasts = []uint64{0}
	}
	dir, err := os.MkdirTemp("", "faultproof-bench-online-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	b := &onlineBench{o: o, progress: progress, dir: dir, report: &OnlineReport{Rounds: o.Rounds, Latency: o.Latency}}
	for _, past := range pasts {
		if err := b.runDevnet(ctx, past); err != nil {
			return nil, err
		}
		debug.FreeOSMemory() // the devnet's memory is not counted in the next one's peak
	}
	b.report.PeakRSS = peakRSS()
	return b.report, nil
}

// WriteTable writes r as 'faultproof bench online' shows it.
func (r *OnlineReport) WriteTable(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "CLAIM\tBLOCKS\tL1 PAST\tWITNESS\tREQUESTS\tL2\tdbGet\texecutePayload\tREQ/BLOCK\tL2/BLOCK\tTRIPS\tL1 TRIPS\tTIME\tTIME/BLOCK\tVERDICT\n")
	var ratios []string
	pasts := map[uint64]bool{}
	for _, res := range r.Results {
		pasts[res.L1Past] = true
		blocks := res.Blocks
		perBlock := func(v float64) string {
			if blocks == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", v/float64(blocks))
		}
		for i, m := range []OnlineRun{res.Slow, res.Fast} {
			timePerBlock := "-"
			if blocks > 0 {
				timePerBlock = (m.Elapsed / time.Duration(blocks)).Round(time.Microsecond * 100).String()
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", res.Claim, blocks, res.L1Past, yesNo(i == 1),
				m.Total, m.L2, m.DBGet, m.Executes, perBlock(float64(m.Total)), perBlock(float64(m.L2)), m.Trips, m.L1Trips,
				m.Elapsed.Round(time.Millisecond), timePerBlock, demo.Verdict(m.Code))
		}
		if blocks > 0 {
			ratios = append(ratios, fmt.Sprintf("%s, L1 head %d past: without/with: L2 requests %.2f, all requests %.2f, wall time %.2f",
				res.Claim, res.L1Past, float64(res.Slow.L2)/float64(res.Fast.L2), float64(res.Slow.Total)/float64(res.Fast.Total),
				res.Slow.Elapsed.Seconds()/res.Fast.Elapsed.Seconds()))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwitness fast path, ratios without/with (medians of %d, rpc latency %s):\n", r.Rounds, r.Latency)
	for _, line := range ratios {
		fmt.Fprintln(out, "  "+line)
	}
	_, err := fmt.Fprintf(out, "peak memory (max RSS, devnet + server + host + program, the %d devnets one after another): %.1f MiB\n",
		len(pasts), float64(r.PeakRSS)/(1<<20))
	return err
}

// onlineBench is the report of Online, filled one devnet at a time.
type onlineBench struct {
	o        OnlineOptions
	progress io.Writer
	dir      string
	runs     int
	report   *OnlineReport
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
		e.SetLatency(b.o.Latency)
	}
	disputes, err := demo.Disputes(d)
	if err != nil {
		return err
	}
	for _, dp := range disputes {
		if !strings.Contains(dp.Name, b.o.Claims) {
			continue
		}
		var med [2]OnlineRun
		for mode, fast := range []bool{false, true} {
			var all []OnlineRun
			for r := 0; r < b.o.Rounds; r++ {
				b.runs++
				fmt.Fprintf(b.progress, "%s, L1 head %d blocks past, witness fast path %v, round %d...\n", dp.Name, past, fast, r+1)
				cfg := demo.HostConfig(d, dp)
				cfg.L1URL, cfg.L2URLs, cfg.L1BeaconURL = srv.L1URL(), []string{srv.L2URL()}, srv.BeaconURL()
				if fast {
					cfg.L2Experimental = []string{srv.L2URL()}
				}
				cfg.DataDir, cfg.DataFormat = filepath.Join(b.dir, fmt.Sprintf("run-%d", b.runs)), kvstore.FormatPebble
				run, err := RunOnline(ctx, srv, cfg, b.o.Program)
				if err != nil {
					return fmt.Errorf("%s: %w", dp.Name, err)
				}
				if run.Code != dp.Want {
					return fmt.Errorf("%s: verdict %s, want %s", dp.Name, demo.Verdict(run.Code), demo.Verdict(dp.Want))
				}
				all = append(all, run)
				_ = os.RemoveAll(cfg.DataDir)
			}
			med[mode] = medianRun(all)
		}
		b.report.Results = append(b.report.Results, OnlineResult{Claim: dp.Name, Blocks: dp.Blocks(), L1Past: past, Slow: med[0], Fast: med[1]})
	}
	return nil
}

// RunOnline decides one dispute with the host online against srv, the program in process, and counts the
// requests srv received.
func RunOnline(ctx context.Context, srv *devnet.Server, cfg *host.Config, program host.ProgramFunc) (OnlineRun, error) {
	h := host.New(log.Root(), cfg, program)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	before := srv.Requests()
	tripsBefore, l1TripsBefore := roundTrips(srv), srv.L1().RoundTrips()
	start := time.Now()
	code, err := demo.ExitCode(h.Run(ctx))
	run := OnlineRun{Code: code, Elapsed: time.Since(start)}
	if err != nil {
		return run, err
	}
	after := srv.Requests()
	run.Trips, run.L1Trips = uint64(roundTrips(srv)-tripsBefore), uint64(srv.L1().RoundTrips()-l1TripsBefore)
	for _, side := range []struct {
		b, a map[string]uint64
		l2   bool
	}{{before.L1, after.L1, false}, {before.L2, after.L2, true}, {before.Beacon, after.Beacon, false}} {
		for k, v := range side.a {
			n := v - side.b[k]
			run.Total += n
			if side.l2 {
				run.L2 += n
			}
		}
	}
	run.DBGet = after.L2["debug_dbGet"] - before.L2["debug_dbGet"]
	run.Executes = after.L2["debug_executePayload"] - before.L2["debug_executePayload"]
	return run, nil
}

// roundTrips is how many HTTP requests srv's nodes received.
func roundTrips(srv *devnet.Server) int {
	return srv.L1().RoundTrips() + srv.L2().RoundTrips() + srv.Beacon().RoundTrips()
}

// medianRun is the run with the median wall time; the request counts are the same in every round.
func medianRun(runs []OnlineRun) OnlineRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b OnlineRun) int { return int(a.Elapsed - b.Elapsed) })
	return s[len(s)/2]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
