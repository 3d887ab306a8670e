package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/vm"
)

var (
	benchVMELFFlag = &cli.PathFlag{
		Name:      "elf",
		Usage:     "The program to run: a 64-bit big-endian MIPS ELF (as for vm load-elf)",
		TakesFile: true,
		Required:  true,
	}
	benchVMCannonFlag = &cli.PathFlag{
		Name:      "cannon",
		Usage:     "A cannon binary to run the same program with, for comparison",
		TakesFile: true,
	}
	benchVMStepsFlag = &cli.Uint64Flag{
		Name:  "steps",
		Usage: "Stop after this many steps (0: run the program to its exit)",
	}
	benchVMRoundsFlag = &cli.IntFlag{
		Name:  "rounds",
		Usage: "Runs of each VM; the median is reported",
		Value: 3,
	}
)

var benchVMCommand = &cli.Command{
	Name:  "vm",
	Usage: "Measure the VM's speed on a program, optionally against Cannon",
	Description: `Loads --elf as vm load-elf does and runs it in process to its exit (or --steps steps), --rounds times,
reporting the median steps, seconds and steps per second, and the process's peak memory (max RSS). Loading
is not timed. Pre-image requests fail: the program must run without a pre-image server.

With --cannon, it also runs "<cannon> load-elf" and then, --rounds times, "<cannon> run --stop-at =N
--info-at never" on the same program, with N our run's final step (or --steps), so that both VMs do the
same work; it fails unless Cannon's final step and state hash are ours. Cannon's time is the wall time of
its run process minus that process's fixed cost (start-up, loading the state, writing the output state),
measured as the median of --rounds runs with --stop-at =0; the raw process time is reported too. Cannon's
peak memory is the largest max RSS of its run processes. The last line is the ratio of our steps per
second to Cannon's.`,
	Flags:  append([]cli.Flag{benchVMELFFlag, benchVMCannonFlag, benchVMStepsFlag, benchVMRoundsFlag}, logFlags...),
	Before: setupLogging,
	Action: runBenchVM,
}

// benchVMResult is one VM's measurements over the rounds.
type benchVMResult struct {
	steps   uint64
	times   []time.Duration
	walls   []time.Duration // Cannon: the whole run processes' wall times (times are net of the fixed cost)
	peakRSS int64           // bytes
	exited  bool
	exit    uint8
	hash    [32]byte
}

func (r *benchVMResult) median() time.Duration { return median(r.times) }

func (r *benchVMResult) stepsPerSecond() float64 { return ips(r.steps, r.median()) }

func runBenchVM(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	rounds, maxSteps := ctx.Int(benchVMRoundsFlag.Name), ctx.Uint64(benchVMStepsFlag.Name)
	if rounds < 1 {
		return fmt.Errorf("invalid --%s %d: must be at least 1", benchVMRoundsFlag.Name, rounds)
	}
	elfPath := ctx.Path(benchVMELFFlag.Name)
	data, err := os.ReadFile(elfPath)
	if err != nil {
		return fmt.Errorf("failed to open ELF file %q: %w", elfPath, err)
	}
	if _, _, err := vm.LoadProgram(data); err != nil {
		return fmt.Errorf("ELF file %q: %w", elfPath, err)
	}
	cannon := ctx.Path(benchVMCannonFlag.Name)
	if cannon != "" {
		// Fail before the measurements if the binary cannot be run at all.
		if cannon, err = exec.LookPath(cannon); err != nil {
			return fmt.Errorf("invalid --%s: %w", benchVMCannonFlag.Name, err)
		}
	}

	ours, err := benchOurs(data, maxSteps, rounds)
	if err != nil {
		return err
	}
	var theirs, overhead *benchVMResult
	if cannon != "" {
		if theirs, overhead, err = benchCannon(cannon, elfPath, ours, rounds); err != nil {
			return err
		}
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "program %s, %d rounds\n", filepath.Base(elfPath), rounds)
	fmt.Fprintln(w, "VM\tSTEPS\tSECONDS\tMIN\tMAX\tSTEPS/S\tPEAK RSS (MiB)\tEND")
	row := func(name string, r *benchVMResult) {
		end := "stopped"
		if r.exited {
			end = fmt.Sprintf("exit %d", r.exit)
		}
		fmt.Fprintf(w, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.0f\t%.1f\t%s\n", name, r.steps, r.median().Seconds(),
			slices.Min(r.times).Seconds(), slices.Max(r.times).Seconds(), r.stepsPerSecond(), float64(r.peakRSS)/(1<<20), end)
	}
	row("ours", ours)
	if theirs != nil {
		row("cannon", theirs)
		row("cannon (whole process)", &benchVMResult{steps: theirs.steps, times: theirs.walls, peakRSS: theirs.peakRSS, exited: theirs.exited, exit: theirs.exit})
		fmt.Fprintf(w, "cannon process fixed cost (--stop-at =0)\t\t%.3f\t%.3f\t%.3f\t\t%.1f\t\n", overhead.median().Seconds(),
			slices.Min(overhead.times).Seconds(), slices.Max(overhead.times).Seconds(), float64(overhead.peakRSS)/(1<<20))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if theirs != nil {
		fmt.Printf("ratio ours/cannon steps/s: %.2f\n", ours.stepsPerSecond()/theirs.stepsPerSecond())
	}
	return nil
}

// benchOurs runs the program rounds times with the vm package, loading it afresh for each round.
func benchOurs(data []byte, maxSteps uint64, rounds int) (*benchVMResult, error) {
	res := &benchVMResult{}
	for i := 0; i < rounds; i++ {
		s, _, err := vm.LoadProgram(data)
		if err != nil {
			return nil, err
		}
		runtime.GC() // leave the previous round's garbage out of this one
		r := &runner{state: s, vm: vm.NewVM(s, noPreimages{}, nil, nil), log: log.Root()}
		start := time.Now()
		_, err = r.advance(maxSteps, false)
		elapsed := time.Since(start)
		if err != nil {
			return nil, err
		}
		if i > 0 && s.Step != res.steps {
			return nil, fmt.Errorf("round %d ran %d steps, round 1 ran %d", i+1, s.Step, res.steps)
		}
		res.steps, res.exited, res.exit = s.Step, s.Exited, s.ExitCode
		res.times = append(res.times, elapsed)
		log.Info("Ran the program", "vm", "ours", "round", i+1, "steps", s.Step, "seconds", elapsed.Seconds(), "ips", ips(s.Step, elapsed))
		if i == rounds-1 {
			res.hash = s.Hash()
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		res.peakRSS = ru.Maxrss * 1024
	}
	return res, nil
}

// benchCannon runs the program with the cannon binary: load-elf once, then rounds runs of zero steps (the
// process's fixed cost) and rounds runs of ours.steps steps. The times of the result are net of the fixed
// cost.
func benchCannon(cannon, elfPath string, ours *benchVMResult, rounds int) (res, overhead *benchVMResult, err error) {
	dir, err := os.MkdirTemp("", "faultproof-bench-vm")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	state, out := filepath.Join(dir, "state.bin.gz"), filepath.Join(dir, "out.bin")
	if _, err := runCannon(cannon, "load-elf", "--type", vm.StateVersionName, "--path", elfPath, "--out", state, "--meta", filepath.Join(dir, "meta.json")); err != nil {
		return nil, nil, err
	}
	loaded, err := vm.LoadStateFile(state)
	if err != nil {
		return nil, nil, fmt.Errorf("reading cannon's load-elf state: %w", err)
	}
	data, err := os.ReadFile(elfPath)
	if err != nil {
		return nil, nil, err
	}
	if s, _, err := vm.LoadProgram(data); err != nil || s.Hash() != loaded.Hash() {
		return nil, nil, fmt.Errorf("cannon's load-elf state %s differs from ours", loaded.Hash())
	}

	run := func(stopAt uint64) (*vm.State, time.Duration, int64, error) {
		ps, err := runCannon(cannon, "run", "--input", state, "--output", out, "--meta", "",
			"--stop-at", fmt.Sprintf("=%d", stopAt), "--info-at", "never")
		if err != nil {
			return nil, 0, 0, err
		}
		var rss int64
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024
		}
		final, err := vm.LoadStateFile(out)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("reading cannon's output state: %w", err)
		}
		return final, ps.wall, rss, nil
	}

	overhead = &benchVMResult{}
	for i := 0; i < rounds; i++ {
		final, wall, rss, err := run(0)
		if err != nil {
			return nil, nil, err
		}
		if final.Step != 0 {
			return nil, nil, fmt.Errorf("cannon run --stop-at =0 ran %d steps", final.Step)
		}
		overhead.times = append(overhead.times, wall)
		overhead.peakRSS = max(overhead.peakRSS, rss)
	}
	fixed := overhead.median()

	res = &benchVMResult{steps: ours.steps}
	for i := 0; i < rounds; i++ {
		final, wall, rss, err := run(ours.steps)
		if err != nil {
			return nil, nil, err
		}
		if final.Step != ours.steps || final.Exited != ours.exited || final.ExitCode != ours.exit {
			return nil, nil, fmt.Errorf("cannon and ours disagree: cannon ran %d steps (exited %v, exit code %d), ours %d steps (exited %v, exit code %d)",
				final.Step, final.Exited, final.ExitCode, ours.steps, ours.exited, ours.exit)
		}
		if h := final.Hash(); h != ours.hash {
			return nil, nil, fmt.Errorf("cannon and ours disagree on the final state after %d steps: cannon %s, ours %x", final.Step, h, ours.hash)
		}
		res.exited, res.exit = final.Exited, final.ExitCode
		res.times = append(res.times, max(wall-fixed, time.Microsecond))
		res.walls = append(res.walls, wall)
		res.peakRSS = max(res.peakRSS, rss)
		log.Info("Ran the program", "vm", "cannon", "round", i+1, "steps", final.Step, "seconds", wall.Seconds(), "net", (wall - fixed).Seconds())
	}
	if res.median() < fixed {
		log.Warn("Cannon's run takes less than its fixed cost: the numbers are imprecise, use a longer program or more --steps",
			"run", res.median(), "fixed", fixed)
	}
	return res, overhead, nil
}

// cannonProcess is a finished cannon process and its wall time.
type cannonProcess struct {
	*os.ProcessState
	wall time.Duration
}

// runCannon runs the cannon binary with args, failing with the end of its output if it fails.
func runCannon(cannon string, args ...string) (*cannonProcess, error) {
	cmd := exec.Command(cannon, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		last := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return nil, fmt.Errorf("cannon %s: %w (last output: %q)", args[0], err, truncateText(last, 300))
	}
	return &cannonProcess{ProcessState: cmd.ProcessState, wall: wall}, nil
}

// noPreimages is the pre-image oracle of bench vm: it drops hints and fails a pre-image request.
type noPreimages struct{}

func (noPreimages) Hint([]byte) {}

func (noPreimages) GetPreimage(k [32]byte) []byte {
	panic(oracleFailure{errors.New("bench vm serves no pre-images, but the program requested the pre-image of key " + fmt.Sprintf("%x", k))})
}
