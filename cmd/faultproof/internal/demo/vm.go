package demo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/faultproof/faultproof/vm"
)

// VMRun is how a dispute went inside the VM.
type VMRun struct {
	Code    int           // the program's exit code
	Steps   uint64        // VM steps to the program's exit
	Memory  uint64        // bytes of memory the program touched (pages in the final state)
	Elapsed time.Duration // wall time of the VM process
	PeakRSS int64         // bytes: the largest max RSS of the VM process and its host
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
	if err := cmd.Run(); err != nil {
		return VMRun{}, fmt.Errorf("%w: %s", err, LastLine(stderr.String()))
	}
	elapsed := time.Since(t0)
	rss := MaxRSS(cmd.ProcessState)
	state, err := vm.LoadStateFile(final)
	if err != nil {
		return VMRun{}, err
	}
	if !state.Exited {
		return VMRun{}, fmt.Errorf("the program did not exit (step %d)", state.Step)
	}
	return VMRun{Code: int(state.ExitCode), Steps: state.Step, Memory: uint64(state.Memory.PageCount()) * vm.PageSize, Elapsed: elapsed, PeakRSS: rss}, nil
}

// MaxRSS is the peak memory (max RSS) in bytes of an ended process, or of the largest of its children
// it waited for; 0 if the system does not say.
func MaxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// LastLine is the last line of a process's output, which says why it failed.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
