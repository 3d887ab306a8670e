package bench

import (
	"bytes"
	"compress/gzip"
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

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/units"
	"github.com/faultproof/faultproof/vm"
)

// VMOptions say what 'bench vm' runs.
type VMOptions struct {
	ELF    string // a 64-bit big-endian MIPS ELF, loaded as vm load-elf does
	Cannon string // a cannon binary to run the same program with; "" for none
	Steps  uint64 // stop after this many steps; 0 runs the program to its exit
	Rounds int    // runs of each VM; the median is reported
	Exe    string // the faultproof binary whose vm subcommands (load-elf, run, witness) are measured
	// Host is a pre-image server command, started for every run as vm run starts it; nil for none, and
	// then a pre-image request fails.
	Host []string
	// StartHost starts Host for a run of the run loop in this process and returns its oracle and how to
	// stop it. The oracle stops the VM with a panic whose value is an error when the server fails.
	StartHost func(host []string) (vm.PreimageOracle, func() error, error)
}

// vmResult is one VM's measurements over the rounds.
type vmResult struct {
	steps   uint64
	times   []time.Duration
	cpu     []time.Duration // user plus system time (whole processes only)
	peakRSS int64           // bytes
	exited  bool
	exit    uint8
	hash    [32]byte
}

func (r *vmResult) median() time.Duration { return median(r.times) }

func (r *vmResult) stepsPerSecond() float64 { return units.PerSecond(r.steps, r.median()) }

// vmSetup is what every run of bench vm shares.
type vmSetup struct {
	dir      string // temporary directory for the states
	state    string // the loaded program, state.bin.gz
	elf      string // the program
	self     string // the faultproof binary
	maxSteps uint64
	rounds   int
	host     []string // pre-image server command, or nil
	// startHost starts host for a round of the run loop (VMOptions.StartHost).
	startHost func([]string) (vm.PreimageOracle, func() error, error)
}

// VM measures our VM, and with o.Cannon Cannon's binary, on the ELF, o.Rounds times each, and writes the
// medians to out:
//   - ours: the run loop alone, the state run in this process to its exit (or o.Steps steps); loading
//     the state and writing the final state are not timed;
//   - ours (whole process): "<o.Exe> vm run --input state.bin.gz --output out.bin.gz --info-at never" as
//     a process: start-up, loading the state, the run, hashing and writing the final state;
//   - with o.Cannon, "<cannon> run" with the same flags and "--stop-at =N", N our run's final step, so
//     that both VMs do the same work. It fails unless Cannon's load-elf state, final step and final state
//     file are ours. Cannon's run loop is its process time minus the process's fixed cost (its median
//     with --stop-at =0).
//
// Whole processes run back to back, ours then Cannon's in each round, so that both see the same load;
// the load average is printed before and after. CPU is user plus system time (with a pre-image server,
// the server's too); peak RSS is the largest max RSS (of the process or the server it waits for). The
// ratios are of our steps per second to Cannon's: of the run loops and of the whole processes.
func VM(o VMOptions, out io.Writer) error {
	if o.Rounds < 1 {
		return fmt.Errorf("invalid --rounds %d: must be at least 1", o.Rounds)
	}
	if len(o.Host) > 0 {
		if _, err := exec.LookPath(o.Host[0]); err != nil {
			return fmt.Errorf("invalid pre-image server command: %w", err)
		}
		if o.StartHost == nil {
			return errors.New("bench vm: a pre-image server command without StartHost")
		}
	}
	if _, err := os.Stat(o.ELF); err != nil {
		return fmt.Errorf("failed to open ELF file %q: %w", o.ELF, err)
	}
	cannon := o.Cannon
	if cannon != "" {
		// Fail before the measurements if the binary cannot be run at all.
		var err error
		if cannon, err = exec.LookPath(cannon); err != nil {
			return fmt.Errorf("invalid --cannon: %w", err)
		}
	}
	if o.Exe == "" {
		return errors.New("bench vm: no faultproof binary to measure")
	}
	dir, err := os.MkdirTemp("", "faultproof-bench-vm")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &vmSetup{dir: dir, state: filepath.Join(dir, "state.bin.gz"), elf: o.ELF, self: o.Exe, maxSteps: o.Steps,
		rounds: o.Rounds, host: o.Host, startHost: o.StartHost}
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

	oursWhole := &vmResult{}
	var theirs, overhead, theirsWhole *vmResult
	if cannon != "" {
		theirsWhole = &vmResult{}
	}
	for i := range o.Rounds {
		if err := b.process(oursWhole, "ours", o.Exe, []string{"vm"}, o.Steps, i); err != nil {
			return err
		}
		if theirsWhole != nil {
			if err := b.process(theirsWhole, "cannon", cannon, nil, oursWhole.steps, i); err != nil {
				return err
			}
		}
	}
	if cannon != "" {
		if overhead, err = b.processes("cannon", cannon, nil, 0, o.Rounds); err != nil {
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
		theirs = &vmResult{steps: theirsWhole.steps, exited: theirsWhole.exited, exit: theirsWhole.exit, peakRSS: theirsWhole.peakRSS}
		for _, t := range theirsWhole.times {
			theirs.times = append(theirs.times, max(t-overhead.median(), time.Microsecond))
		}
		if theirs.median() < overhead.median() {
			log.Warn("Cannon's run takes less than its fixed cost: the numbers are imprecise, use a longer program or more --steps",
				"run", theirs.median(), "fixed", overhead.median())
		}
	}
	loadAfter := loadAverage()

	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "program %s, %d rounds, %d CPUs, load average %s before, %s after\n", filepath.Base(o.ELF), o.Rounds,
		runtime.NumCPU(), loadBefore, loadAfter)
	fmt.Fprintln(w, "VM\tSTEPS\tSECONDS\tMIN\tMAX\tSTEPS/S\tCPU SECONDS\tPEAK RSS (MiB)\tEND")
	row := func(name string, r *vmResult) {
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
		fmt.Fprintf(out, "ratio ours/cannon steps/s: %.2f\n", ours.stepsPerSecond()/theirs.stepsPerSecond())
		fmt.Fprintf(out, "ratio ours/cannon whole process: %.2f (CPU time: %.2f)\n", oursWhole.stepsPerSecond()/theirsWhole.stepsPerSecond(),
			median(theirsWhole.cpu).Seconds()/median(oursWhole.cpu).Seconds())
	}
	return nil
}

// agrees fails unless r and o ended in the same step, status and state.
func (r *vmResult) agrees(o *vmResult, name, oName string) error {
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
func (b *vmSetup) runLoop() (*vmResult, error) {
	data, err := os.ReadFile(b.elf)
	if err != nil {
		return nil, err
	}
	res := &vmResult{}
	for i := 0; i < b.rounds; i++ {
		s, _, err := vm.LoadProgram(data)
		if err != nil {
			return nil, err
		}
		runtime.GC() // leave the previous round's garbage out of this one
		var oracle vm.PreimageOracle = noPreimages{}
		stop := func() error { return nil }
		if len(b.host) > 0 {
			if oracle, stop, err = b.startHost(b.host); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		err = run(vm.NewVM(s, oracle, nil, nil), s, b.maxSteps)
		elapsed := time.Since(start)
		if serr := stop(); err == nil {
			err = serr
		}
		if err != nil {
			return nil, err
		}
		if i > 0 && s.Step != res.steps {
			return nil, fmt.Errorf("round %d ran %d steps, round 1 ran %d", i+1, s.Step, res.steps)
		}
		res.steps, res.exited, res.exit = s.Step, s.Exited, s.ExitCode
		res.times = append(res.times, elapsed)
		log.Info("Ran the program", "vm", "ours", "round", i+1, "steps", s.Step, "seconds", elapsed.Seconds(), "ips", units.PerSecond(s.Step, elapsed))
		if i == b.rounds-1 {
			res.hash = stateFileDigest(s)
		}
	}
	res.peakRSS = peakRSS()
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
func (b *vmSetup) ourLoad() error {
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
func (b *vmSetup) checkCannonLoad(cannon string) error {
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
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return [32]byte{}, err
		}
		defer gz.Close()
		r = gz
	}
	_, err = io.Copy(h, r)
	return [32]byte(h.Sum(nil)), err
}

// stateSummary is the step and the exit status of a state file, as "faultproof vm witness" prints them.
type stateSummary struct {
	Step     uint64 `json:"step"`
	Exited   bool   `json:"exited"`
	ExitCode uint8  `json:"exitCode"`
}

// summary reads the step and exit status of the state file at path with "faultproof vm witness".
func (b *vmSetup) summary(path string) (*stateSummary, error) {
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
func (b *vmSetup) processes(name, bin string, prefix []string, stopAt uint64, rounds int) (*vmResult, error) {
	res := &vmResult{}
	for i := range rounds {
		if err := b.process(res, name, bin, prefix, stopAt, i); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// process runs "<bin> <prefix> run" on the state as one process, to stopAt steps (0: to the exit, except
// for cannon, where --stop-at =0 measures the fixed cost), and adds its measurements to res.
func (b *vmSetup) process(res *vmResult, name, bin string, prefix []string, stopAt uint64, round int) error {
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
		last := demo.LastLine(out.String())
		shown := last
		if len(shown) > 300 {
			shown = strings.ToValidUTF8(shown[:300], "") + "..."
		}
		return nil, &childFailure{fmt.Errorf("%s %s: %w (last output: %q)", filepath.Base(bin), args[0], err, shown), last}
	}
	return &benchProcess{ProcessState: cmd.ProcessState, wall: wall}, nil
}

// childFailure is a process of bench vm that failed, with its last line of output.
type childFailure struct {
	error
	lastLine string
}

func (f *childFailure) Unwrap() error { return f.error }

// run runs m for maxSteps steps (0: to the program's exit). The oracle's refusal or failure, which stops
// the VM with a panic mid-step, and any other panic of the VM become the error.
func run(m *vm.VM, s *vm.State, maxSteps uint64) (err error) {
	pc := func() uint64 {
		if t := s.CurrentThread(); t != nil {
			return t.Cpu.PC
		}
		return 0
	}
	defer func() {
		if p := recover(); p != nil {
			failed := s.Step - 1 // the step counter is incremented first
			if e, ok := p.(error); ok {
				if _, bug := e.(runtime.Error); !bug {
					err = fmt.Errorf("failed at step %d (PC: %08x): %w", failed, pc(), e)
					return
				}
			}
			err = fmt.Errorf("failed at step %d (PC: %08x): internal VM error: %v", failed, pc(), p)
		}
	}()
	if err := m.Run(maxSteps); err != nil {
		return fmt.Errorf("failed at step %d (PC: %08x): %w", s.Step-1, pc(), err)
	}
	return nil
}

// noPreimages is the preimage oracle of bench vm without a server: it drops hints and refuses every
// preimage request.
type noPreimages struct{}

// errNoPreimages is noPreimages' refusal, raised as a panic because the VM's oracle cannot return errors.
type errNoPreimages struct{ key [32]byte }

func (e errNoPreimages) Error() string {
	return fmt.Sprintf("bench vm serves no pre-images, but the program requested the pre-image of key %x", e.key)
}

func (noPreimages) Hint([]byte) {}

func (noPreimages) GetPreimage(k [32]byte) []byte { panic(errNoPreimages{k}) }
