package bench

import (
	"bytes"
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
}

// vmResult is one VM's measurements over the rounds.
type vmResult struct {
	steps   uint64
	times   []time.Duration
	walls   []time.Duration // Cannon: the whole run processes' wall times (times are net of the fixed cost)
	peakRSS int64           // bytes
	exited  bool
	exit    uint8
	hash    [32]byte
}

func (r *vmResult) median() time.Duration { return median(r.times) }

func (r *vmResult) stepsPerSecond() float64 { return units.PerSecond(r.steps, r.median()) }

// VM runs the ELF in process with the vm package to its exit (or o.Steps steps), o.Rounds times, loading
// is not timed; with o.Cannon it runs Cannon's binary on the same program for the same steps and fails
// unless Cannon ends in our state. It writes the median steps, seconds, steps per second and peak memory
// of each to out, and with Cannon the ratio of our steps per second to Cannon's.
func VM(o VMOptions, out io.Writer) error {
	if o.Rounds < 1 {
		return fmt.Errorf("invalid --rounds %d: must be at least 1", o.Rounds)
	}
	data, err := os.ReadFile(o.ELF)
	if err != nil {
		return fmt.Errorf("failed to open ELF file %q: %w", o.ELF, err)
	}
	if _, _, err := vm.LoadProgram(data); err != nil {
		return fmt.Errorf("ELF file %q: %w", o.ELF, err)
	}
	cannon := o.Cannon
	if cannon != "" {
		// Fail before the measurements if the binary cannot be run at all.
		if cannon, err = exec.LookPath(cannon); err != nil {
			return fmt.Errorf("invalid --cannon: %w", err)
		}
	}

	ours, err := benchOurs(data, o.Steps, o.Rounds)
	if err != nil {
		return err
	}
	var theirs, overhead *vmResult
	if cannon != "" {
		if theirs, overhead, err = benchCannon(cannon, o.ELF, ours, o.Rounds); err != nil {
			return err
		}
	}

	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "program %s, %d rounds\n", filepath.Base(o.ELF), o.Rounds)
	fmt.Fprintln(w, "VM\tSTEPS\tSECONDS\tMIN\tMAX\tSTEPS/S\tPEAK RSS (MiB)\tEND")
	row := func(name string, r *vmResult) {
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
		row("cannon (whole process)", &vmResult{steps: theirs.steps, times: theirs.walls, peakRSS: theirs.peakRSS, exited: theirs.exited, exit: theirs.exit})
		fmt.Fprintf(w, "cannon process fixed cost (--stop-at =0)\t\t%.3f\t%.3f\t%.3f\t\t%.1f\t\n", overhead.median().Seconds(),
			slices.Min(overhead.times).Seconds(), slices.Max(overhead.times).Seconds(), float64(overhead.peakRSS)/(1<<20))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if theirs != nil {
		fmt.Fprintf(out, "ratio ours/cannon steps/s: %.2f\n", ours.stepsPerSecond()/theirs.stepsPerSecond())
	}
	return nil
}

// benchOurs runs the program rounds times with the vm package, loading it afresh for each round.
func benchOurs(data []byte, maxSteps uint64, rounds int) (*vmResult, error) {
	res := &vmResult{}
	for i := 0; i < rounds; i++ {
		s, _, err := vm.LoadProgram(data)
		if err != nil {
			return nil, err
		}
		runtime.GC() // leave the previous round's garbage out of this one
		m := vm.NewVM(s, noPreimages{}, nil, nil)
		start := time.Now()
		err = run(m, s, maxSteps)
		elapsed := time.Since(start)
		if err != nil {
			return nil, err
		}
		if i > 0 && s.Step != res.steps {
			return nil, fmt.Errorf("round %d ran %d steps, round 1 ran %d", i+1, s.Step, res.steps)
		}
		res.steps, res.exited, res.exit = s.Step, s.Exited, s.ExitCode
		res.times = append(res.times, elapsed)
		log.Info("Ran the program", "vm", "ours", "round", i+1, "steps", s.Step, "seconds", elapsed.Seconds(), "ips", units.PerSecond(s.Step, elapsed))
		if i == rounds-1 {
			res.hash = s.Hash()
		}
	}
	res.peakRSS = peakRSS()
	return res, nil
}

// run runs m for maxSteps steps (0: to the program's exit). A preimage request, which noPreimages refuses
// with a panic mid-step, and any other panic of the VM become the error.
func run(m *vm.VM, s *vm.State, maxSteps uint64) (err error) {
	pc := func() uint64 {
		if t := s.CurrentThread(); t != nil {
			return t.Cpu.PC
		}
		return 0
	}
	defer func() {
		if p := recover(); p != nil {
			if refused, ok := p.(errNoPreimages); ok {
				err = fmt.Errorf("failed at step %d (PC: %08x): %w", s.Step-1, pc(), refused)
				return
			}
			err = fmt.Errorf("failed at step %d (PC: %08x): internal VM error: %v", s.Step-1, pc(), p)
		}
	}()
	if err := m.Run(maxSteps); err != nil {
		return fmt.Errorf("failed at step %d (PC: %08x): %w", s.Step-1, pc(), err)
	}
	return nil
}

// benchCannon runs the program with the cannon binary: load-elf once, then rounds runs of zero steps (the
// process's fixed cost) and rounds runs of ours.steps steps. The times of the result are net of the fixed
// cost.
func benchCannon(cannon, elfPath string, ours *vmResult, rounds int) (res, overhead *vmResult, err error) {
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

	overhead = &vmResult{}
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

	res = &vmResult{steps: ours.steps}
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
		last := demo.LastLine(out.String())
		if len(last) > 300 {
			last = strings.ToValidUTF8(last[:300], "") + "..."
		}
		return nil, fmt.Errorf("cannon %s: %w (last output: %q)", args[0], err, last)
	}
	return &cannonProcess{ProcessState: cmd.ProcessState, wall: wall}, nil
}

// noPreimages is the preimage oracle of bench vm: it drops hints and refuses every preimage request.
type noPreimages struct{}

// errNoPreimages is noPreimages' refusal, raised as a panic because the VM's oracle cannot return errors.
type errNoPreimages struct{ key [32]byte }

func (e errNoPreimages) Error() string {
	return fmt.Sprintf("bench vm serves no pre-images, but the program requested the pre-image of key %x", e.key)
}

func (noPreimages) Hint([]byte) {}

func (noPreimages) GetPreimage(k [32]byte) []byte { panic(errNoPreimages{k}) }
