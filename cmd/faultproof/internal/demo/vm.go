package demo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultproof/faultproof/vm"
)

// VMRun is how a dispute went inside the VM.
type VMRun struct {
	Code    int           // the program's exit code
	Steps   uint64        // VM steps to the program's exit
	Memory  uint64        // bytes of memory the program touched (pages in the final state)
	Elapsed time.Duration // wall time of the VM process
	PeakRSS int64         // bytes: the VM process's peak memory (VmHWM; its host not included)
}

// RunInVM settles a dispute inside the VM: it runs 'exe vm run' on the prestate in the directory
// prestate (as 'faultproof prestate --out' writes it), with vmArgs, serving it with
// 'exe <hostArgs> --server', and reads the program's exit code and step count from the final state.
// exe is a faultproof binary.
func RunInVM(exe, prestate string, hostArgs []string, vmArgs ...string) (VMRun, error) {
	final := filepath.Join(prestate, "final.bin.gz")
	args := []string{"vm", "run", "--input", filepath.Join(prestate, "prestate.bin.gz"), "--meta", filepath.Join(prestate, "meta.json"),
		"--output", final, "--info-at", "never"}
	args = append(append(args, vmArgs...), "--", exe)
	args = append(append(args, hostArgs...), "--server")
	cmd := exec.Command(exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	rss, err := RunMeasured(cmd)
	if err != nil {
		return VMRun{}, fmt.Errorf("%w: %s", err, LastLine(stderr.String()))
	}
	elapsed := time.Since(t0)
	state, err := vm.LoadStateFile(final)
	if err != nil {
		return VMRun{}, err
	}
	if !state.Exited {
		return VMRun{}, fmt.Errorf("the program did not exit (step %d)", state.Step)
	}
	return VMRun{Code: int(state.ExitCode), Steps: state.Step, Memory: uint64(state.Memory.PageCount()) * vm.PageSize, Elapsed: elapsed, PeakRSS: rss}, nil
}

// RunMeasured runs cmd to its end and returns the peak memory (VmHWM) its process reached, in bytes,
// read from /proc every few milliseconds while it runs (0 where there is no /proc). The max RSS that
// wait4 reports is no use here: a child of a Go process starts in its parent's memory (vfork) and keeps
// the parent's high-water mark across exec.
func RunMeasured(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	done, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, vmHWM(status))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-polled
	return peak, err
}

// vmHWM is the VmHWM line of a /proc/PID/status file in bytes, or 0.
func vmHWM(status string) int64 {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// LastLine is the last line of a process's output, which says why it failed.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
