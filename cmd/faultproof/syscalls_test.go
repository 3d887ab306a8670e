package main

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/syscallcheck"
)

// Why the client ELF holds syscalls the VM rejects although the program never makes them. The static
// scan (syscallcheck.Scan) over-approximates: it reports every syscall number set anywhere in the linked
// code, whether or not a path from main reaches it at run time (the Go linker keeps whole packages'
// worth of methods that an interface call might reach). Each such number is accepted only for the
// function that sets it, listed below with the reason; a new function setting a rejected number, or a
// new rejected number, fails the test until someone checks it and either supports the syscall in the
// VM or explains here why the program cannot make it.
const (
	whyNet = "package net's sockets and internal/poll's sendfile/splice/copy_file_range fast paths of io.Copy: " +
		"the program does no network or file-to-file I/O, its only channels are the fds 3-6 the VM provides"
	whyFiles = "os file-system calls (lstat, mkdir, remove, rename, truncate, fsync, readdir, flock) that go-ethereum's " +
		"freezer (core/rawdb), gofrs/flock and os.RemoveAll use: the program keeps its databases in memory and opens no files"
	whyProcs  = "os process management (os.StartProcess's pidfd probe, Wait): the program starts no processes"
	whyLimits = "resource queries of tklauser/go-sysconf (gopsutil, for go-ethereum's metrics) and runtime/pprof: " +
		"gopsutil's init only asks for SC_CLK_TCK, which go-sysconf answers with a constant; the program writes no profiles"
	whySignal = "runtime.raiseproc re-raises a signal the process received (runtime.sighandler): the VM delivers no signals"
	whyMremap = "golang.org/x/sys/unix's mremap, only used by unix.Mremap and its mmapper: nothing in the program remaps memory"
	whyVMA    = "runtime.setVMAName names memory mappings with prctl(PR_SET_VMA) unless GODEBUG decoratemappings=0, which " +
		"cmd/fpp-client sets (checked below in the ELF's build info)"
)

// unreachableSyscalls are the rejected syscall numbers the scan finds in the client, by the function that
// sets the number (a syscall instruction, or a call to a wrapper such as syscall.Syscall).
var unreachableSyscalls = map[uint64]map[string]string{
	5006: {"syscall.lstat": whyFiles},
	5024: {"golang.org/x/sys/unix.mremap": whyMremap},
	5039: {"syscall.sendfile": whyNet},
	5040: {"syscall.socket": whyNet},
	5041: {"syscall.connect": whyNet},
	5043: {"syscall.sendto": whyNet},
	5044: {"syscall.recvfrom": whyNet},
	5048: {"syscall.bind": whyNet},
	5049: {"syscall.Listen": whyNet},
	5050: {"syscall.getsockname": whyNet},
	5051: {"syscall.getpeername": whyNet},
	5053: {"syscall.setsockopt": whyNet},
	5054: {"syscall.getsockopt": whyNet},
	5059: {"syscall.wait4": whyProcs},
	5060: {"runtime.raiseproc": whySignal},
	5071: {"golang.org/x/sys/unix.Flock": whyFiles},
	5072: {"syscall.Fsync": whyFiles},
	5075: {"syscall.Ftruncate": whyFiles},
	5096: {"syscall.Getrusage": whyLimits},
	5097: {"golang.org/x/sys/unix.Sysinfo": whyLimits},
	5153: {"runtime.setVMAName": whyVMA},
	5223: {"golang.org/x/sys/unix.ClockGetres": whyLimits},
	5237: {"os.checkClonePidfd": whyProcs, "internal/syscall/unix.Waitid": whyProcs},
	5248: {"syscall.Mkdirat": whyFiles},
	5252: {"syscall.fstatatInternal": whyFiles},
	5253: {"syscall.unlinkat": whyFiles, "internal/syscall/unix.Unlinkat": whyFiles},
	5254: {"syscall.Renameat": whyFiles},
	5263: {"syscall.Splice": whyNet},
	5308: {"syscall.Getdents": whyFiles},
	5320: {"internal/syscall/unix.CopyFileRange": whyNet},
	5424: {"os.checkPidfd": whyProcs},
	5434: {"internal/syscall/unix.PidFDOpen": whyProcs},
}

// buildClientELF builds cmd/fpp-client exactly as `faultproof prestate` does.
func buildClientELF(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "fpp-client.elf")
	require.NoError(t, buildProgramELF(filepath.Join("..", ".."), out, "go", nil, ""))
	return out
}

// TestClientSyscallsSupportedByVM finds, by static analysis of the client ELF, every syscall number the
// program can make (syscallcheck.Scan: conservative, see its package comment), and asks the VM what it does
// with each (vm.ProbeSyscall, the VM's own dispatch). It fails on any number the VM rejects as an
// unrecognized syscall unless unreachableSyscalls explains it, and on any place whose number the analysis
// cannot determine unless explained below. It then runs the program in the VM on a dispute and checks that
// every syscall it makes is one the analysis found.
func TestClientSyscallsSupportedByVM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips64 program")
	}
	elfPath := buildClientELF(t)
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	t0 := time.Now()
	scan, err := syscallcheck.Scan(data)
	require.NoError(t, err)
	t.Logf("%d syscall instructions, %d functions analysed, %d syscall numbers, %d wrappers, in %s",
		scan.Instructions, scan.Functions, len(scan.Numbers), len(scan.Wrappers), time.Since(t0).Round(time.Millisecond))
	names, _ := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "syscall", "zsysnum_linux_mips64.go"))

	var failures []string
	used := map[string]bool{}
	rejected := 0
	for _, n := range scan.SortedNumbers() {
		probe := vm.ProbeSyscall(n)
		places := scan.Numbers[n]
		var where []string
		for _, p := range places {
			where = append(where, p.String())
		}
		t.Logf("%4d %-18s %-55s %s", n, syscallcheck.Name(names, n), probe, strings.Join(where, ", "))
		if probe.Recognized {
			continue
		}
		rejected++
		for _, p := range places {
			if why, ok := unreachableSyscalls[n][p.Func]; ok {
				used[fmt.Sprint(n, p.Func)] = true
				if why == whyVMA {
					checkDecorateMappingsOff(t, elfPath)
				}
				continue
			}
			failures = append(failures, fmt.Sprintf("syscall %d (%s), which the VM rejects, is set at %s; linked through: %s",
				n, syscallcheck.Name(names, n), p, strings.Join(callerChain(scan, p.Func, 6), " <- ")))
		}
	}
	for _, u := range scan.Unresolved {
		if why := explainUnresolved(t, elfPath, scan, u); why != "" {
			t.Logf("unresolved, accepted: %s: %s", u, why)
			continue
		}
		failures = append(failures, fmt.Sprintf("the syscall number at %s is unknown (%s); linked through: %s",
			u.Place, u.Reason, strings.Join(callerChain(scan, u.Func, 6), " <- ")))
	}
	for n, fns := range unreachableSyscalls {
		for fn := range fns {
			if !used[fmt.Sprint(n, fn)] {
				failures = append(failures, fmt.Sprintf("unreachableSyscalls lists %d at %s, which the client no longer has: remove the entry", n, fn))
			}
		}
	}
	slices.Sort(failures)
	require.Empty(t, failures, "the client ELF's syscalls against what the VM implements and what unreachableSyscalls explains")
	t.Logf("%d numbers the VM implements or answers; %d it rejects, each explained as unreachable", len(scan.Numbers)-rejected, rejected)

	checkIssuedSyscalls(t, data, scan, names)
}

// explainUnresolved returns why a place whose number the analysis cannot determine cannot issue a
// syscall the VM rejects, or "" if there is no such reason.
func explainUnresolved(t *testing.T, elfPath string, scan *syscallcheck.Result, u syscallcheck.Unresolved) string {
	if u.Func != "runtime.runPerThreadSyscall" || u.Wrapper != "internal/runtime/syscall/linux.Syscall6" {
		return ""
	}
	// runPerThreadSyscall replays on every thread the syscall that syscall_runtime_doAllThreadsSyscall
	// (behind syscall.AllThreadsSyscall, Setuid, ...) stored in runtime.perThreadSyscall, after making it
	// itself through Syscall6 with the same number. So its numbers are those of the callers of
	// syscall_runtime_doAllThreadsSyscall, which the scan covers as a wrapper if it is linked at all.
	const relay = "runtime.syscall_runtime_doAllThreadsSyscall"
	f, err := elf.Open(elfPath)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	linked := slices.ContainsFunc(syms, func(s elf.Symbol) bool { return s.Name == relay })
	switch {
	case !linked:
		return relay + " is not linked, and only it sets m.needPerThreadSyscall, without which runPerThreadSyscall returns before the syscall"
	case slices.Contains(scan.Wrappers, relay+" (argument at +8)"):
		return "its number is the one " + relay + " makes first, whose callers the scan covers"
	}
	return ""
}

// checkDecorateMappingsOff requires the ELF's default GODEBUG to turn off runtime.setVMAName's prctl.
func checkDecorateMappingsOff(t *testing.T, elfPath string) {
	info, err := buildinfo.ReadFile(elfPath)
	require.NoError(t, err)
	for _, s := range info.Settings {
		if s.Key == "DefaultGODEBUG" && slices.Contains(strings.Split(s.Value, ","), "decoratemappings=0") {
			return
		}
	}
	require.Fail(t, "the client's build info has no DefaultGODEBUG with decoratemappings=0: the runtime would make prctl(PR_SET_VMA), which the VM rejects", "%v", info.Settings)
}

// callerChain follows direct callers of fn up to depth levels (the first caller at each level), to show
// how a function is linked into the program.
func callerChain(scan *syscallcheck.Result, fn string, depth int) []string {
	chain := []string{fn}
	for len(chain) <= depth {
		callers := scan.DirectCallers(chain[len(chain)-1])
		if len(callers) == 0 {
			chain = append(chain, "(no direct callers: called through a func value or an interface)")
			break
		}
		next := callers[0]
		if len(callers) > 1 {
			next = fmt.Sprintf("%s (and %d more)", next, len(callers)-1)
		}
		chain = append(chain, next)
		if len(callers) > 1 {
			break
		}
	}
	return chain
}

// checkIssuedSyscalls runs the client in the VM on a dispute, served by our host, and requires every
// syscall it makes to be among those the static scan found (a check of the scan on this program; the run
// itself failing would mean an unsupported syscall was made).
func checkIssuedSyscalls(t *testing.T, data []byte, scan *syscallcheck.Result, names []byte) {
	b := testL2Chain(t)
	st, err := b.StateAt(b.Block(11).Root())
	require.NoError(t, err)
	right := (&l2.Output{StateRoot: b.Block(11).Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Block(11).Hash()}).Root()
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Setenv(runMainEnv, "1") // the host is this test binary running main
	host, err := startHost(log.NewLogger(log.DiscardHandler()), append(append([]string{exe}, devnetHostArgs(t, b, 14, right, 11)...), "--server"))
	require.NoError(t, err)
	defer func() { require.NoError(t, host.stop(false)) }()

	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	m := vm.NewVM(s, newHostOracle(host), nil, nil)
	issued := map[uint64]int{}
	t0 := time.Now()
	func() {
		defer func() {
			if r := recover(); r != nil {
				require.Fail(t, "pre-image server failed", "step %d: %v", s.Step, r)
			}
		}()
		for !s.Exited {
			if n, ok := syscallcheck.NextSyscall(s); ok {
				issued[n]++
			}
			_, err := m.Step(false)
			require.NoError(t, err, "step %d", s.Step)
		}
	}()
	require.Equal(t, uint8(0), s.ExitCode, "the program's verdict on a valid claim")
	var made, unlisted []string
	for n, count := range issued {
		made = append(made, fmt.Sprintf("%d %s (%d)", n, syscallcheck.Name(names, n), count))
		if _, ok := scan.Numbers[n]; !ok {
			unlisted = append(unlisted, fmt.Sprintf("%d (%s)", n, syscallcheck.Name(names, n)))
		}
	}
	require.Empty(t, unlisted, "syscalls the program made that the static scan does not list")
	slices.Sort(made)
	t.Logf("a run of %d steps (%s) made %d distinct syscalls, all found by the scan: %s", s.Step,
		time.Since(t0).Round(time.Millisecond), len(issued), strings.Join(made, ", "))
}
