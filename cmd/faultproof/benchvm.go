package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	Name:      "vm",
	Usage:     "Measure the VM's speed on a program, optionally against Cannon",
	ArgsUsage: "[-- pre-image server command...]",
	Description: `Loads --elf as vm load-elf does and measures, --rounds times each, reporting medians:
  ours                    the run loop alone: the state run in this process to its exit (or --steps steps);
                          loading the state and writing the final state are not timed
  ours (whole process)    "faultproof vm run --input state.bin.gz --output out.bin.gz --info-at never" as a
                          process: start-up, loading the state, the run, hashing and writing the final state
With --cannon, also "<cannon> run" with the same flags and "--stop-at =N", N being our run's final step (or
--steps), so that both VMs do the same work, and it fails unless Cannon's load-elf state, final step and final
state file are ours:
  cannon                  its run loop: its process time minus the process's fixed cost (start-up, loading
                          the state, writing the output state), measured as the median of --rounds runs
                          with --stop-at =0
  cannon (whole process)  its process time
Whole processes run back to back, ours then Cannon's in each round, so that both see the same machine load;
the load average is printed before and after. CPU is user plus system time (with a pre-image server, the
server's too); peak RSS is the largest max RSS (of the process or the server it waits for). The ratios are of
our steps per second to Cannon's: of the run loops and of the whole processes.

A pre-image server command after "--" is started for every run, as vm run starts it. Without one,
pre-image requests fail: the program must run without a pre-image server.`,
	Flags:  append([]cli.Flag{benchVMELFFlag, benchVMCannonFlag, benchVMStepsFlag, benchVMRoundsFlag}, logFlags...),
	Before: setupLogging,
	Action: runBenchVM,
}

// benchVMResult is one VM's measurements over the rounds.
type benchVMResult struct {
	steps   uint64
	times   []time.Duration
	cpu     []time.Duration // user plus system time (whole processes only)
	peakRSS int64           // bytes
	exited  bool
	exit    uint8
	hash    [32]byte
}

func (r *benchVMResult) median() time.Duration { return median(r.times) }

func (r *benchVMResult) stepsPerSecond() float64 { return ips(r.steps, r.median()) }

// benchVMSetup is what every run of bench vm shares.
type benchVMSetup struct {
	dir      string // temporary directory for the states
	state    string // the loaded program, state.bin.gz
	elf      string // the program
	self     string // the faultproof binary
	maxSteps uint64
	rounds   int
	host     []string // pre-image server command, or nil
}

func runBenchVM(ctx *cli.Context) error {
	rounds, maxSteps := ctx.Int(benchVMRoundsFlag.Name), ctx.Uint64(benchVMStepsFlag.Name)
	if rounds < 1 {
		return fmt.Errorf("invalid --%s %d: must be at least 1", benchVMRoundsFlag.Name, rounds)
	}
	// The server command is everything after "--", which urfave/cli drops, as for vm run.
	host := ctx.Args().Slice()
	if len(host) > 0 {
		if _, err := exec.LookPath(host[0]); err != nil {
			return fmt.Errorf("invalid pre-image server command: %w", err)
		}
	}
	elfPath := ctx.Path(benchVMELFFlag.Name)
	cannon := ctx.Path(benchVMCannonFlag.Name)
	if cannon != "" {
		// Fail before the measurements if the binary cannot be run at all.
		var err error
		if cannon, err = exec.LookPath(cannon); err != nil {
			return fmt.Errorf("invalid --%s: %w", benchVMCannonFlag.Name, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the faultproof binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "faultproof-bench-vm")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &benchVMSetup{dir: dir, state: filepath.Join(dir, "state.bin.gz"), elf: elfPath, self: self, maxSteps: maxSteps, rounds: rounds, host: host}
	// Linux counts the peak memory of the process that starts a child (as exec.Cmd does) in the child's
	// max RSS: until it has started the processes it measures, this one stays small, and whatever needs
	// a state in memory (loading the ELF, summing up final states) runs in a process of its own.
	if err := b.ourLoad(); err != nil {
		return err
	}
	if cannon != "" {
		if err := b.checkCannonLoad(cannon); err != nil {
			return err
		}
	}
	loadBefore := loadAverage()

	oursWhole := &benchVMResult{}
	var theirs, overhead, theirsWhole *benchVMResult
	if cannon != "" {
		theirsWhole = &benchVMResult{}
	}
	for i := range rounds {
		if err := b.process(oursWhole, "ours", self, []string{"vm"}, maxSteps, i); err != nil {
			return err
		}
		if theirsWhole != nil {
			if err := b.process(theirsWhole, "cannon", cannon, nil, oursWhole.steps, i); err != nil {
				return err
			}
		}
	}
	if cannon != "" {
		if overhead, err = b.processes("cannon", cannon, nil, 0, rounds); err != nil {
			return err
		}
	}
	ours, err := b.runLoop()
	if err != nil {
		return err
	}
	if err := ours.agrees(oursWhole, "our whole process", "our run loop"); err != nil {
		return err
	}
	if theirsWhole != nil {
		if err := theirsWhole.agrees(oursWhole, "cannon", "ours"); err != nil {
			return err
		}
		theirs = &benchVMResult{steps: theirsWhole.steps, exited: theirsWhole.exited, exit: theirsWhole.exit, peakRSS: theirsWhole.peakRSS}
		for _, t := range theirsWhole.times {
			theirs.times = append(theirs.times, max(t-overhead.median(), time.Microsecond))
		}
		if theirs.median() < overhead.median() {
			log.Warn("Cannon's run takes less than its fixed cost: the numbers are imprecise, use a longer program or more --steps",
				"run", theirs.median(), "fixed", overhead.median())
		}
	}
	loadAfter := loadAverage()

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "program %s, %d rounds, %d CPUs, load average %s before, %s after\n", filepath.Base(elfPath), rounds,
		runtime.NumCPU(), loadBefore, loadAfter)
	fmt.Fprintln(w, "VM\tSTEPS\tSECONDS\tMIN\tMAX\tSTEPS/S\tCPU SECONDS\tPEAK RSS (MiB)\tEND")
	row := func(name string, r *benchVMResult) {
		end := "stopped"
		if r.exited {
			end = fmt.Sprintf("exit %d", r.exit)
		}
		cpu := ""
		if len(r.cpu) > 0 {
			cpu = fmt.Sprintf("%.3f", median(r.cpu).Seconds())
		}
		fmt.Fprintf(w, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.0f\t%s\t%.1f\t%s\n", name, r.steps, r.median().Seconds(),
			slices.Min(r.times).Seconds(), slices.Max(r.times).Seconds(), r.stepsPerSecond(), cpu, float64(r.peakRSS)/(1<<20), end)
	}
	row("ours", ours)
	if theirs != nil {
		row("cannon", theirs)
	}
	row("ours (whole process)", oursWhole)
	if theirsWhole != nil {
		row("cannon (whole process)", theirsWhole)
		fmt.Fprintf(w, "cannon process fixed cost (--stop-at =0)\t\t%.3f\t%.3f\t%.3f\t\t%.3f\t%.1f\t\n", overhead.median().Seconds(),
			slices.Min(overhead.times).Seconds(), slices.Max(overhead.times).Seconds(), median(overhead.cpu).Seconds(), float64(overhead.peakRSS)/(1<<20))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if theirs != nil {
		fmt.Printf("ratio ours/cannon steps/s: %.2f\n", ours.stepsPerSecond()/theirs.stepsPerSecond())
		fmt.Printf("ratio ours/cannon whole process: %.2f (CPU time: %.2f)\n", oursWhole.stepsPerSecond()/theirsWhole.stepsPerSecond(),
			median(theirsWhole.cpu).Seconds()/median(oursWhole.cpu).Seconds())
	}
	return nil
}

// agrees fails unless r and o ended in the same step, status and state.
func (r *benchVMResult) agrees(o *benchVMResult, name, oName string) error {
	if r.steps != o.steps || r.exited != o.exited || r.exit != o.exit {
		return fmt.Errorf("%s and %s disagree: %s ran %d steps (exited %v, exit code %d), %s %d steps (exited %v, exit code %d)",
			name, oName, name, r.steps, r.exited, r.exit, oName, o.steps, o.exited, o.exit)
	}
	if r.hash != o.hash {
		return fmt.Errorf("%s and %s disagree on the final state after %d steps: %s %x, %s %x", name, oName, r.steps, name, r.hash, oName, o.hash)
	}
	return nil
}

// runLoop runs the program rounds times with the vm package, loading it afresh for each round, and
// times the run alone.
func (b *benchVMSetup) runLoop() (*benchVMResult, error) {
	data, err := os.ReadFile(b.elf)
	if err != nil {
		return nil, err
	}
	res := &benchVMResult{}
	for i := 0; i < b.rounds; i++ {
		s, _, err := vm.LoadProgram(data)
		if err != nil {
			return nil, err
		}
		runtime.GC() // leave the previous round's garbage out of this one
		var oracle vm.PreimageOracle = noPreimages{}
		var host *hostProcess
		if len(b.host) > 0 {
			if host, err = startHost(log.Root(), b.host); err != nil {
				return nil, err
			}
			oracle = newHostOracle(host)
		}
		r := &runner{state: s, vm: vm.NewVM(s, oracle, nil, nil), log: log.Root()}
		start := time.Now()
		_, err = r.advance(b.maxSteps, false)
		elapsed := time.Since(start)
		if host != nil {
			if herr := host.stop(false); err == nil {
				err = herr
			}
		}
		if err != nil {
			return nil, err
		}
		if i > 0 && s.Step != res.steps {
			return nil, fmt.Errorf("round %d ran %d steps, round 1 ran %d", i+1, s.Step, res.steps)
		}
		res.steps, res.exited, res.exit = s.Step, s.Exited, s.ExitCode
		res.times = append(res.times, elapsed)
		log.Info("Ran the program", "vm", "ours", "round", i+1, "steps", s.Step, "seconds", elapsed.Seconds(), "ips", ips(s.Step, elapsed))
		if i == b.rounds-1 {
			res.hash = stateFileDigest(s)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		res.peakRSS = ru.Maxrss * 1024
	}
	return res, nil
}

// stateFileDigest is the sha256 of the state's binary encoding: two states with the same digest are
// the same state, down to the bytes of their state files.
func stateFileDigest(s *vm.State) [32]byte {
	h := sha256.New()
	if err := s.Serialize(h); err != nil {
		panic(err) // a hash does not fail to write
	}
	return [32]byte(h.Sum(nil))
}

// ourLoad writes the state of the program with "faultproof vm load-elf", failing as it fails.
func (b *benchVMSetup) ourLoad() error {
	if _, err := runBenchProcess(b.self, "vm", "load-elf", "--type", vm.StateVersionName, "--path", b.elf, "--out", b.state, "--meta", ""); err != nil {
		var failed *childFailure
		if errors.As(err, &failed) {
			// Our own message, as vm load-elf gives it.
			return errors.New(strings.TrimPrefix(failed.lastLine, "faultproof: "))
		}
		return err
	}
	return nil
}

// checkCannonLoad runs "<cannon> load-elf" and fails unless its state file holds the same state as ours.
func (b *benchVMSetup) checkCannonLoad(cannon string) error {
	state := filepath.Join(b.dir, "cannon-state.bin.gz")
	if _, err := runBenchProcess(cannon, "load-elf", "--type", vm.StateVersionName, "--path", b.elf, "--out", state, "--meta", filepath.Join(b.dir, "meta.json")); err != nil {
		return err
	}
	ours, err := stateFileDigestOf(b.state)
	if err != nil {
		return err
	}
	theirs, err := stateFileDigestOf(state)
	if err != nil {
		return fmt.Errorf("reading cannon's load-elf state: %w", err)
	}
	if theirs != ours {
		return fmt.Errorf("cannon's load-elf state differs from ours (state file digests %x and %x)", theirs, ours)
	}
	return nil
}

// stateFileDigestOf is the stateFileDigest of the binary state file at path (.bin or .bin.gz), read as a
// stream.
func stateFileDigestOf(path string) ([32]byte, error) {
	h := sha256.New()
	err := readInput(path, func(r io.Reader) error {
		_, err := io.Copy(h, r)
		return err
	})
	return [32]byte(h.Sum(nil)), err
}

// stateSummary is the step and the exit status of a state file, as "faultproof vm witness" prints them.
type stateSummary struct {
	Step     uint64 `json:"step"`
	Exited   bool   `json:"exited"`
	ExitCode uint8  `json:"exitCode"`
}

// summary reads the step and exit status of the state file at path with "faultproof vm witness".
func (b *benchVMSetup) summary(path string) (*stateSummary, error) {
	cmd := exec.Command(b.self, "vm", "witness", "--input", path)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("vm witness of %s: %w", filepath.Base(path), err)
	}
	var sum stateSummary
	if err := json.Unmarshal(out, &sum); err != nil {
		return nil, fmt.Errorf("vm witness of %s: %w", filepath.Base(path), err)
	}
	return &sum, nil
}

// processes runs rounds whole processes of a VM on the state (see process).
func (b *benchVMSetup) processes(name, bin string, prefix []string, stopAt uint64, rounds int) (*benchVMResult, error) {
	res := &benchVMResult{}
	for i := range rounds {
		if err := b.process(res, name, bin, prefix, stopAt, i); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// process runs "<bin> <prefix> run" on the state as one process, to stopAt steps (0: to the exit, except
// for cannon, where --stop-at =0 measures the fixed cost), and adds its measurements to res.
func (b *benchVMSetup) process(res *benchVMResult, name, bin string, prefix []string, stopAt uint64, round int) error {
	out := filepath.Join(b.dir, name+"-out.bin.gz")
	args := append(slices.Clone(prefix), "run", "--input", b.state, "--output", out, "--meta", "", "--info-at", "never")
	if stopAt != 0 || name == "cannon" {
		args = append(args, "--stop-at", fmt.Sprintf("=%d", stopAt))
	}
	if len(b.host) > 0 {
		args = append(append(args, "--"), b.host...)
	}
	ps, err := runBenchProcess(bin, args...)
	if err != nil {
		return err
	}
	final, err := b.summary(out)
	if err != nil {
		return fmt.Errorf("reading %s's output state: %w", name, err)
	}
	digest, err := stateFileDigestOf(out)
	if err != nil {
		return fmt.Errorf("reading %s's output state: %w", name, err)
	}
	if round > 0 && (final.Step != res.steps || digest != res.hash) {
		return fmt.Errorf("%s round %d ended at step %d in state %x, round 1 at step %d in state %x", name, round+1, final.Step, digest, res.steps, res.hash)
	}
	res.steps, res.exited, res.exit, res.hash = final.Step, final.Exited, final.ExitCode, digest
	res.times = append(res.times, ps.wall)
	res.cpu = append(res.cpu, ps.UserTime()+ps.SystemTime())
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		res.peakRSS = max(res.peakRSS, ru.Maxrss*1024)
	}
	log.Info("Ran the program", "vm", name+" (whole process)", "round", round+1, "steps", final.Step, "seconds", ps.wall.Seconds(),
		"cpu", (ps.UserTime() + ps.SystemTime()).Seconds())
	return nil
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// benchProcess is a finished process and its wall time.
type benchProcess struct {
	*os.ProcessState
	wall time.Duration
}

// runBenchProcess runs a binary with args, failing with the end of its output if it fails.
func runBenchProcess(bin string, args ...string) (*benchProcess, error) {
	cmd := exec.Command(bin, args...)
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
		return nil, &childFailure{fmt.Errorf("%s %s: %w (last output: %q)", filepath.Base(bin), args[0], err, truncateText(last, 300)), last}
	}
	return &benchProcess{ProcessState: cmd.ProcessState, wall: wall}, nil
}

// childFailure is a process of bench vm that failed, with its last line of output.
type childFailure struct {
	error
	lastLine string
}

func (f *childFailure) Unwrap() error { return f.error }

// noPreimages is the pre-image oracle of bench vm without a server: it drops hints and fails a
// pre-image request.
type noPreimages struct{}

func (noPreimages) Hint([]byte) {}

func (noPreimages) GetPreimage(k [32]byte) []byte {
	panic(oracleFailure{errors.New("bench vm serves no pre-images, but the program requested the pre-image of key " + fmt.Sprintf("%x", k))})
}
