package keccak_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/internal/keccak"
	"github.com/faultproof/faultproof/vm"
)

// TestPermuteInsideTheVM builds testdata/vmcheck for the VM and runs it there: the mips64 assembly
// permutation must agree with the generic one on every state, and the guest's checksum with the
// checksum of the generic permutation computed here.
func TestPermuteInsideTheVM(t *testing.T) {
	elf := filepath.Join(t.TempDir(), "vmcheck")
	build := exec.Command("go", "build", "-o", elf, "./testdata/vmcheck")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local")
	buildOut, err := build.CombinedOutput()
	require.NoError(t, err, "build: %s", buildOut)
	data, err := os.ReadFile(elf)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, vm.NewVM(s, vm.NewMemoryOracle(), &out, &out).Run(500_000_000))
	require.True(t, s.Exited, "exited %v with code %d: %s", s.Exited, s.ExitCode, out.String())
	require.Equal(t, uint8(0), s.ExitCode, "exited %v with code %d: %s", s.Exited, s.ExitCode, out.String())
	// The same states, permuted natively with the generic code.
	var sum uint64
	x := uint64(0x9e3779b97f4a7c15)
	for n := 0; n < 200; n++ {
		var a [25]uint64
		for i := range a {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			a[i] = x
		}
		keccak.PermuteGeneric(&a)
		sum ^= a[n%25]
	}
	want := fmt.Sprintf("checksum %016x", sum)
	require.Contains(t, out.String(), want, "guest printed %q, want %q", out.String(), want)
	t.Logf("%d steps: %s", s.Step, strings.TrimSpace(out.String()))
}
