package keccak_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	data, err := os.ReadFile(elf)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := vm.LoadProgram(data)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := vm.NewVM(s, vm.NewMemoryOracle(), &out, &out).Run(500_000_000); err != nil {
		t.Fatal(err)
	}
	if !s.Exited || s.ExitCode != 0 {
		t.Fatalf("exited %v with code %d: %s", s.Exited, s.ExitCode, out.String())
	}
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
	if !strings.Contains(out.String(), want) {
		t.Fatalf("guest printed %q, want %q", out.String(), want)
	}
	t.Logf("%d steps: %s", s.Step, strings.TrimSpace(out.String()))
}
