package vm

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// guestPrograms are the packages of testdata/guest that the tests build.
var guestPrograms = []string{
	"hello", "threads", "oracle",
	"mutex", "timers", "maps", "bigint", "hashes", "gcchurn",
	"exit0", "exit1", "exit2", "exit3", "panic",
	"badsyscall", "badinsn", "longrun",
}

// guestProgramTests are the guest programs that run to completion without
// pre-images: their exit code, status and output. The outputs are those of
// the same programs run natively (on linux/amd64): they do not depend on
// goroutine scheduling, map order or timing.
var guestProgramTests = []struct {
	name   string
	exit   uint8
	stdout string
	stderr string // a substring of stderr
	slow   bool   // over ~5M steps: skipped with -short
}{
	{name: "exit0", exit: 0, stdout: "exiting with code 0\n"},
	{name: "exit1", exit: 1, stdout: "exiting with code 1\n"},
	{name: "exit2", exit: 2, stdout: "exiting with code 2\n"},
	{name: "exit3", exit: 3, stdout: "exiting with code 3\n"},
	{name: "panic", exit: 2, stdout: "about to panic\n", stderr: "panic: boom from the guest\n\ngoroutine 1 [running]:\nmain.main()"},
	{name: "mutex", stdout: "sum=1780219277236430100 xor=262568 reads=1764 table=17651125135083683108 once=1 consumed=500/41791750\n"},
	{name: "timers", stdout: "events=slept:true,sleep3,sleep6,sleep9,after,stopped:true,reset,ticks:5,func1,func4,ctx:context deadline exceeded elapsed>=25ms:true\n"},
	{name: "maps", slow: true, stdout: "ints=2933/12331850148234937191/8286214533753583263 strs=1600/11057641 structs=1000/546495 reused=1000\n"},
	{name: "bigint", slow: true, stdout: "fact300bits=2042 fib2000bits=1388 inverse=true primes=1 sha256=877f9f5934882619faaec4e59612c1a9630faff22428dc1bda2234f282e5c6ff\n"},
	{name: "hashes", slow: true, stdout: "sha256=6582b9cc51512f4bfed1d06c7d3460576626c89ec50fbba236b9c39812b10f30\n" +
		"sha512=9aab8c2fe85dce6c05534628ae1949300f1e8c12396398331f1847900248b904\n" +
		"sha3-256=99886c1e6de594617aa7208b53da8dedda1393675b61ac577a29f215cc3d8591\n" +
		"keccak256=51ea1bf8882f446e92b75001513567e2130a73792b13d81c20c486f30ab8f03a\n" +
		"keccak256(\"\")=c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470\n"},
	{name: "gcchurn", slow: true, stdout: "total=520239441 gc>=3:true\n"},
}

func TestGuestPrograms(t *testing.T) {
	for _, tt := range guestProgramTests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("slow")
			}
			g := runGuest(t, tt.name, nil)
			require.Equal(t, tt.exit, g.state.ExitCode, "exit code %d, want %d; stderr:\n%s", g.state.ExitCode, tt.exit, g.stderr.String())
			want := uint8(StatusPanic)
			switch tt.exit {
			case 0:
				want = StatusValid
			case 1:
				want = StatusInvalid
			}
			st := g.state.VMStatus()
			require.Equal(t, want, st, "status %d, want %d", st, want)
			require.Equal(t, tt.stdout, g.stdout.String(), "stdout %q, want %q", g.stdout.String(), tt.stdout)
			require.Contains(t, g.stderr.String(), tt.stderr, "stderr %q does not contain %q", g.stderr.String(), tt.stderr)
		})
	}
}

// TestGuestFailures runs the guest programs that make the VM fail: an
// unrecognized syscall and an invalid instruction. The run stops with the
// error and the program has not exited.
func TestGuestFailures(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		errText string
		stdout  string
	}{
		{"badsyscall", ErrUnrecognizedSyscall, "unrecognized syscall: 5108", "calling getppid\n"},
		{"badinsn", ErrInvalidInstruction, "invalid instruction: 0x0000000d", "executing an invalid instruction\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := LoadProgram(guestELF(t, tt.name))
			require.NoError(t, err)
			var stdout strings.Builder
			m := NewVM(s, NewMemoryOracle(), &stdout, nil)
			err = m.Run(50_000_000)
			require.ErrorIs(t, err, tt.err, "error %v, want %q", err, tt.errText)
			require.Equal(t, tt.errText, err.Error(), "error %v, want %q", err, tt.errText)
			require.False(t, s.Exited, "the program exited")
			require.Equal(t, tt.stdout, stdout.String(), "stdout %q", stdout.String())
			t.Logf("%s: failed at step %d with %v", tt.name, s.Step-1, err)
		})
	}
}

// TestGuestLongRun runs the long-run guest (over 200 million steps) to its
// end. crosscheck's TestLongRun compares the same run with Cannon.
func TestGuestLongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs over 200 million steps")
	}
	s, _, err := LoadProgram(guestELF(t, "longrun"))
	require.NoError(t, err)
	var stdout strings.Builder
	m := NewVM(s, NewMemoryOracle(), &stdout, nil)
	start := time.Now()
	require.NoError(t, m.Run(0), "step %d", s.Step)
	elapsed := time.Since(start)
	require.True(t, s.Exited, "exited %v, exit code %d", s.Exited, s.ExitCode)
	require.Equal(t, uint8(0), s.ExitCode, "exited %v, exit code %d", s.Exited, s.ExitCode)
	want := "rounds=5 checksum=d09be985497732294bbfc0339a136e0586dbb83939209c6c6b2efdab247d6023 gc=true\n"
	require.Equal(t, want, stdout.String(), "stdout %q, want %q", stdout.String(), want)
	require.GreaterOrEqual(t, s.Step, uint64(200_000_000), "only %d steps", s.Step)
	t.Logf("longrun: %d steps in %v (%.1fM steps/s), %d pages, %d threads", s.Step, elapsed, float64(s.Step)/elapsed.Seconds()/1e6, s.Memory.PageCount(), s.ThreadCount())
}
