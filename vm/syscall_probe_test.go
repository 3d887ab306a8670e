package vm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProbeSyscall(t *testing.T) {
	for _, tc := range []struct {
		num  uint64
		want func(SyscallProbe) bool
	}{
		{sysRead, func(p SyscallProbe) bool { return p.Recognized && p.A3 == 0 && !p.Yields }},
		{sysWrite, func(p SyscallProbe) bool { return p.Recognized && p.A3 == sysErrorSignal && p.V0 == errnoEBADF }},
		{sysSchedYield, func(p SyscallProbe) bool { return p.Recognized && p.Yields }},
		{sysExitGroup, func(p SyscallProbe) bool { return p.Recognized && p.Exited && p.ExitCode == 0 }},
		{sysExit, func(p SyscallProbe) bool { return p.Recognized && p.ThreadExited && !p.Exited }},
		{sysMmap, func(p SyscallProbe) bool { return p.Recognized && p.V0 == HeapStart }},
		{5108, func(p SyscallProbe) bool { return !p.Recognized }}, // getppid
		{5153, func(p SyscallProbe) bool { return !p.Recognized }}, // prctl
	} {
		p := ProbeSyscall(tc.num)
		require.True(t, tc.want(p), "syscall %d: %+v (%s)", tc.num, p, p)
	}
}
