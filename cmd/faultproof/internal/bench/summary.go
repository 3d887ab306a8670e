package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// The parts of 'faultproof bench', as --skip names them.
const (
	PartNative  = "native"  // block re-execution, and the one-block claim as a whole process
	PartProgram = "program" // the demo's claims inside the VM (needs a checkout to build the program)
	PartOnline  = "online"  // the honest claim online, with and without the witness fast path
)

// Parts are the parts of 'faultproof bench' in the order they run.
var Parts = []string{PartNative, PartProgram, PartOnline}

// SummaryOptions say what 'faultproof bench' runs.
type SummaryOptions struct {
	Src           string                                     // checkout to build the program from
	BuildPrestate func(src, out string) (common.Hash, error) // as 'faultproof prestate --out'
	Exe           string                                     // a faultproof binary; "": the claim runs in process
	Program       host.ProgramFunc                           // the program in process (online, and without Exe)
	Cannon        string                                     // a cannon binary: its steps/s measured on the honest claim
	OpProgram     string                                     // an op-program binary: its native time measured on the one-block claim
	Blocks        int                                        // L2 blocks re-executed natively
	Rounds        int                                        // runs of each native measurement; the median is reported
	Skip          []string                                   // parts not to run
}

// Summary runs every part of 'faultproof bench' not skipped and returns their headline figures beside
// their anchors; progress goes to progress. A part that cannot run here (no checkout to build the program
// from) is skipped with the reason in the report; a measurement that fails is an error.
func Summary(ctx context.Context, o SummaryOptions, progress io.Writer) (*Report, error) {
	if o.Blocks < 1 || o.Rounds < 1 {
		return nil, errors.New("--l2.blocks and --rounds must be at least 1")
	}
	for _, p := range o.Skip {
		if !slices.Contains(Parts, p) {
			return nil, fmt.Errorf("invalid --skip %q: the parts are %s", p, strings.Join(Parts, ", "))
		}
	}
	if o.Cannon != "" {
		if slices.Contains(o.Skip, PartProgram) {
			return nil, errors.New("--cannon measures Cannon on the program's claim: it cannot skip program")
		}
		var err error
		if o.Cannon, err = exec.LookPath(o.Cannon); err != nil {
			return nil, fmt.Errorf("invalid --cannon: %w", err)
		}
	}
	if o.OpProgram != "" {
		if slices.Contains(o.Skip, PartNative) || o.Exe == "" {
			return nil, errors.New("--op-program is timed beside the native claim as a whole process: it cannot skip native")
		}
		var err error
		if o.OpProgram, err = exec.LookPath(o.OpProgram); err != nil {
			return nil, fmt.Errorf("invalid --op-program: %w", err)
		}
	}
	r := newReport(o.Src)
	run := func(part string) bool {
		if slices.Contains(o.Skip, part) {
			r.Skipped = append(r.Skipped, Skipped{part, "--skip " + part})
			return false
		}
		return true
	}

	dir, err := os.MkdirTemp("", "faultproof-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// The native claim and the program share one devnet, built when the first of them needs it.
	var dd *demoData
	demoDevnet := func() (*demoData, error) {
		if dd != nil {
			return dd, nil
		}
		d, err := newDemoData(dir, progress)
		dd = d
		return d, err
	}

	if run(PartNative) {
		fmt.Fprintf(progress, "native: re-executing %d blocks x %d rounds...\n", o.Blocks, o.Rounds)
		resetPeakRSS()
		nat, err := RunNative(o.Blocks, o.Rounds)
		if err != nil {
			return nil, fmt.Errorf("native: %w", err)
		}
		d, err := demoDevnet()
		if err != nil {
			return nil, err
		}
		claim, err := runNativeClaim(ctx, d, o.Exe, o.Program, o.Rounds, progress)
		if err != nil {
			return nil, fmt.Errorf("native claim: %w", err)
		}
		if o.OpProgram != "" {
			// op-program's host reads the same datadir (a pebble store in op-program's key layout).
			op, err := runNativeClaim(ctx, d, o.OpProgram, nil, o.Rounds, progress, "--data.format", "pebble")
			claim.OpProgram = &op
			if err != nil {
				return nil, fmt.Errorf("op-program on the native claim: %w", err)
			}
		}
		r.Rows = append(r.Rows, nativeRows(nat, claim)...)
	}

	if run(PartProgram) {
		rows, skip, err := programPart(o, dir, demoDevnet, progress)
		if err != nil {
			return nil, err
		}
		if skip != "" {
			r.Skipped = append(r.Skipped, Skipped{PartProgram, skip})
		}
		r.Rows = append(r.Rows, rows...)
	}
	dd = nil
	debug.FreeOSMemory()

	if run(PartOnline) {
		resetPeakRSS()
		on, err := RunOnlineBench(ctx, OnlineOptions{Rounds: 1, L1Past: []uint64{0, 100}, Claims: honestClaim, Program: o.Program}, progress)
		if err != nil {
			return nil, fmt.Errorf("online: %w", err)
		}
		r.Rows = append(r.Rows, onlineRows(on)...)
	}
	return r, nil
}

// programPart builds the program from o.Src and runs the demo's claims inside the VM (and the honest
// one inside Cannon with o.Cannon); it says why if it cannot build the program here.
func programPart(o SummaryOptions, dir string, demoDevnet func() (*demoData, error), progress io.Writer) (rows []Row, skip string, err error) {
	if err := checkCheckout(o.Src); err != nil {
		return nil, err.Error(), nil
	}
	fmt.Fprintf(progress, "program: building the prestate from %s...\n", o.Src)
	prestate := filepath.Join(dir, "prestate")
	if _, err := o.BuildPrestate(o.Src, prestate); err != nil {
		return nil, "building the program: " + err.Error(), nil
	}
	dd, err := demoDevnet()
	if err != nil {
		return nil, "", err
	}
	claims, err := runProgram(ProgramOptions{Exe: o.Exe}, dd, prestate, progress)
	if err != nil {
		return nil, "", fmt.Errorf("program: %w", err)
	}
	var cannon *demo.VMRun
	if o.Cannon != "" {
		if cannon, err = runCannonClaim(o.Cannon, o.Exe, dd, prestate, claims, progress); err != nil {
			return nil, "", fmt.Errorf("cannon: %w", err)
		}
	}
	return programRows(claims, cannon), "", nil
}

// honestClaim is the name of the demo's 6-block honest claim, the one every part measures.
const honestClaim = "honest output root"

// newReport is a report without rows, about this build and machine.
func newReport(src string) *Report {
	r := &Report{Date: time.Now().UTC().Format(time.RFC3339), Commit: "unknown", Version: "unknown",
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		r.Version = bi.Main.Version
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			r.Commit = rev
			if modified == "true" {
				r.Commit += "+dirty"
			}
			return r
		}
	}
	// 'go run' records no revision: ask the checkout, if src is one.
	if checkCheckout(src) == nil {
		if out, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output(); err == nil {
			r.Commit = strings.TrimSpace(string(out))
			if st, err := exec.Command("git", "-C", src, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
				r.Commit += "+dirty"
			}
		}
	}
	return r
}

// checkCheckout says why src is not a checkout the program can be built from, or nil.
func checkCheckout(src string) error {
	mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/faultproof/faultproof\n")) {
		return fmt.Errorf("%q is not a checkout of github.com/faultproof/faultproof (the program is built from source: pass --src)", src)
	}
	if _, err := os.Stat(filepath.Join(src, "cmd", "fpp-client")); err != nil {
		return fmt.Errorf("%q has no cmd/fpp-client to build the program from", src)
	}
	if _, err := exec.LookPath("go"); err != nil {
		return errors.New("no go command to build the program with")
	}
	return nil
}

// resetPeakRSS starts this process's peak memory (max RSS) afresh, so that each part reports its own.
// Linux only; elsewhere the peak is the process's so far.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// NativeClaim is how the one-block claim went natively.
type NativeClaim struct {
	Name         string
	WholeProcess bool          // 'faultproof run' as a child; else the host and the program in this process
	Median       time.Duration // of the rounds
	PeakRSS      int64         // bytes: the largest of the runs (in process: this process's)
	Exe          string        // the binary run, if WholeProcess
	OpProgram    *NativeClaim  // op-program on the same claim, if measured
}

// runNativeClaim decides a one-block claim whose batch is in a blob, offline from dd's datadir, rounds
// times: as 'exe run' if exe is set (op-program's host when its base name starts with op-program, with
// extra arguments), else with the host and program in this process.
func runNativeClaim(ctx context.Context, dd *demoData, exe string, program host.ProgramFunc, rounds int, progress io.Writer, extra ...string) (NativeClaim, error) {
	blob := uint64(0)
	for n := uint64(2); n <= dd.d.L2Head().NumberU64() && blob == 0; n++ {
		if dd.d.Batch(n).Blob {
			blob = n
		}
	}
	if blob == 0 {
		return NativeClaim{}, errors.New("the devnet has no block batched in a blob")
	}
	dp := demo.Dispute{Agreed: blob - 1, ClaimBlock: blob, Claim: dd.d.OutputRoot(blob), Want: preimage.ExitValid}
	cfg := demo.HostConfig(dd.d, dp)
	res := NativeClaim{Name: fmt.Sprintf("one-block claim, batch in a blob (block %d)", blob), WholeProcess: exe != "", Exe: exe}
	args := append(demo.ReplayArgs(dd.dir, cfg), extra...)
	if strings.HasPrefix(filepath.Base(exe), "op-program") {
		args = args[1:] // op-program's host takes the flags without a command
	}
	if !res.WholeProcess {
		resetPeakRSS()
	}
	var times []time.Duration
	for r := 0; r < rounds; r++ {
		fmt.Fprintf(progress, "native: %s, %s, round %d...\n", res.Name, filepath.Base(exe), r+1)
		var elapsed time.Duration
		if exe != "" {
			cmd := exec.CommandContext(ctx, exe, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			rss, err := demo.RunMeasured(cmd)
			elapsed = time.Since(start)
			if err != nil {
				return res, fmt.Errorf("%s %s: %w: %s", exe, strings.Join(args, " "), err, demo.LastLine(stderr.String()))
			}
			res.PeakRSS = max(res.PeakRSS, rss)
		} else {
			c := *cfg
			c.DataDir, c.DataFormat = filepath.Join(dd.dir, "preimages"), kvstore.FormatPebble
			h := host.New(log.Root(), &c, program)
			start := time.Now()
			code, err := demo.ExitCode(h.Run(ctx))
			elapsed = time.Since(start)
			if err != nil {
				return res, err
			}
			if code != dp.Want {
				return res, fmt.Errorf("%s: verdict %s, want %s", res.Name, demo.Verdict(code), demo.Verdict(dp.Want))
			}
		}
		times = append(times, elapsed)
	}
	res.Median = median(times)
	if !res.WholeProcess {
		res.PeakRSS = peakRSS()
	}
	return res, nil
}

// runCannonClaim runs the honest claim of claims under Cannon on the same prestate, served by exe's host,
// and fails unless Cannon ends where our VM did.
func runCannonClaim(cannon, exe string, dd *demoData, prestate string, claims []ProgramClaim, progress io.Writer) (*demo.VMRun, error) {
	i := slices.IndexFunc(claims, func(c ProgramClaim) bool { return c.Name == honestClaim })
	j := slices.IndexFunc(dd.disputes, func(dp demo.Dispute) bool { return dp.Name == honestClaim })
	if i < 0 || j < 0 {
		return nil, errors.New("no honest claim to run Cannon on")
	}
	ours := claims[i]
	fmt.Fprintf(progress, "cannon: %s, inside Cannon...\n", honestClaim)
	final := filepath.Join(prestate, "cannon-final.bin.gz")
	args := []string{"run", "--input", filepath.Join(prestate, "prestate.bin.gz"), "--meta", filepath.Join(prestate, "meta.json"),
		"--output", final, "--info-at", "never", "--", exe}
	args = append(append(args, demo.ReplayArgs(dd.dir, demo.HostConfig(dd.d, dd.disputes[j]))...), "--server")
	cmd := exec.Command(cannon, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	rss, err := demo.RunMeasured(cmd)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, demo.LastLine(stderr.String()))
	}
	run := &demo.VMRun{Elapsed: time.Since(start), PeakRSS: rss}
	state, err := vm.LoadStateFile(final)
	if err != nil {
		return nil, err
	}
	run.Steps, run.Code = state.Step, int(state.ExitCode)
	if !state.Exited || state.Step != ours.Steps || run.Code != ours.Code {
		return nil, fmt.Errorf("cannon ended at step %d (exited %v, code %d), our VM at step %d (code %d)", state.Step, state.Exited, run.Code, ours.Steps, ours.Code)
	}
	return run, nil
}

const mib = 1 << 20

// nativeRows are the figures of the native part.
func nativeRows(nat NativeResult, claim NativeClaim) []Row {
	how := "whole process"
	var anchor *Anchor
	switch {
	case claim.OpProgram != nil:
		op := claim.OpProgram
		anchor = &Anchor{Value: op.Median.Seconds(), Unit: "s", Kind: Measured, Source: "--op-program, same claim and datadir, whole process",
			Provenance: fmt.Sprintf("%s (its host with its client in process) on the same claim from the same datadir, median of %d, "+
				"peak RSS %.1f MiB", op.Exe, nat.Rounds, float64(op.PeakRSS)/mib)}
	case claim.WholeProcess:
		a := anchorOpProgramNativeClaim
		anchor = &a
	default:
		// op-program's time is a whole process's: no ratio to an in-process run.
		how = "host and program in process"
	}
	return []Row{
		{ID: "native.claim.seconds", Name: fmt.Sprintf("native %s, %s, median of %d", claim.Name, how, nat.Rounds),
			Value: claim.Median.Seconds(), Unit: "s", Better: "lower", Anchor: anchor},
		{ID: "native.claim.peak_rss", Name: "  peak RSS, native one-block claim", Value: float64(claim.PeakRSS) / mib, Unit: "MiB", Better: "lower"},
		{ID: "native.block.ms", Name: fmt.Sprintf("native block re-execution per block (cold, median of %d blocks x %d)", nat.Blocks, nat.Rounds),
			Value: float64(nat.Median) / float64(time.Millisecond), Unit: "ms", Better: "lower", Anchor: &anchorReadmeNativeBlock},
		{ID: "native.block.peak_rss", Name: "  peak RSS, native block re-execution (chain builder included)", Value: float64(nat.PeakRSS) / mib,
			Unit: "MiB", Better: "lower", Anchor: &anchorReadmeNativeRSS},
	}
}

// programRows are the figures of the program part: steps per claim, our VM's speed on the honest claim
// (against Cannon's, measured if cannon is set), and the VM processes' peak memory.
func programRows(claims []ProgramClaim, cannon *demo.VMRun) []Row {
	anchors := []struct {
		prefix string
		anchor *Anchor
	}{
		{honestClaim, &anchorOpProgramSteps},
		{"across Holocene's activation", &anchorReadmeStepsHolocene},
		{"batches posted in blobs", &anchorReadmeStepsBlobs},
		{"behind the agreed block", &anchorReadmeStepsBehind},
	}
	var rows []Row
	var rss int64
	for _, c := range claims {
		var anchor *Anchor
		for _, a := range anchors {
			if strings.HasPrefix(c.Name, a.prefix) {
				anchor = a.anchor
			}
		}
		rows = append(rows, Row{ID: "program.steps." + claimID(c.Name), Name: fmt.Sprintf("VM steps, %s, %d blocks", c.Name, c.Blocks),
			Value: float64(c.Steps), Unit: "steps", Better: "lower", Anchor: anchor})
		rss = max(rss, c.PeakRSS)
	}
	if i := slices.IndexFunc(claims, func(c ProgramClaim) bool { return c.Name == honestClaim }); i >= 0 {
		c := claims[i]
		anchor := anchorCannonStepsPerSecond
		if cannon != nil {
			anchor = Anchor{Value: float64(cannon.Steps) / cannon.Elapsed.Seconds(), Unit: "steps/s", Kind: Measured,
				Source: "Cannon --cannon, same claim, whole process with our host",
				Provenance: fmt.Sprintf("'cannon run' on the same prestate and claim, served by 'faultproof run --server', "+
					"%d steps in %s (same final step and exit code as our VM), peak RSS %.1f MiB", cannon.Steps,
					cannon.Elapsed.Round(time.Millisecond), float64(cannon.PeakRSS)/mib)}
		}
		rows = append(rows, Row{ID: "program.vm.steps_per_second", Name: "VM steps/s, honest claim, whole VM process with its host",
			Value: float64(c.Steps) / c.Elapsed.Seconds(), Unit: "steps/s", Better: "higher", Anchor: &anchor})
	}
	if len(claims) > 0 {
		rows = append(rows, Row{ID: "program.peak_rss", Name: "  peak RSS, VM process (largest of the claims; its host not included)",
			Value: float64(rss) / mib, Unit: "MiB", Better: "lower"})
	}
	return rows
}

// claimID is a claim's name as a tracking ID: "across Holocene's activation (block 45)" -> "across_holocene".
func claimID(name string) string {
	if i := strings.IndexAny(name, "("); i > 0 {
		name = name[:i]
	}
	words := strings.Fields(strings.ToLower(strings.NewReplacer("'s", "", "'", "").Replace(name)))
	return strings.Join(words, "_")
}

// onlineRows are the figures of the online part: round trips per block with the witness fast path
// (against without it, measured in the same run), L1 round trips with the L1 head 100 blocks past the data
// (against one header per request), and the peak memory.
func onlineRows(on *OnlineReport) []Row {
	var rows []Row
	for _, res := range on.Results {
		if res.Blocks == 0 {
			continue
		}
		switch res.L1Past {
		case 0:
			perBlock := func(run OnlineRun) float64 { return float64(run.Trips) / float64(res.Blocks) }
			rows = append(rows, Row{ID: "online.round_trips_per_block", Name: fmt.Sprintf("RPC round trips per L2 block, online, %s (%d blocks), witness fast path", res.Claim, res.Blocks),
				Value: perBlock(res.Fast), Unit: "round trips/block", Better: "lower",
				Anchor: &Anchor{Value: perBlock(res.Slow), Unit: "round trips/block", Kind: Measured, Source: "same run without the witness fast path",
					Provenance: fmt.Sprintf("the same claim online with --l2 only (every state node a debug_dbGet): %d round trips, %d requests", res.Slow.Trips, res.Slow.Total)}})
		case 100:
			a := anchorOneHeaderPerRequest
			rows = append(rows, Row{ID: "online.l1_round_trips_past_100", Name: fmt.Sprintf("L1 round trips, online, %s, L1 head 100 blocks past the data", res.Claim),
				Value: float64(res.Fast.L1Trips), Unit: "round trips", Better: "lower", Anchor: &a})
		}
	}
	rows = append(rows, Row{ID: "online.peak_rss", Name: "  peak RSS, online (devnet + server + host + program)", Value: float64(on.PeakRSS) / mib,
		Unit: "MiB", Better: "lower", Anchor: &anchorReadmeOnlineRSS})
	return rows
}
