// Package vmtest builds the VM's test guest programs for the tests of vm and of the packages beside it.
// The guests (vm/testdata/guest, a Go module of its own) are small Go programs that exercise what the VM
// must get right: threads, timers, the preimage oracle, exit codes, panics and faults. It is test support
// only: no product binary imports it.
package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// guestBuildEnv builds for the VM: linux/mips64 with soft float and no cgo, the toolchain at hand, and no
// workspace or GOFLAGS of the caller's.
var guestBuildEnv = []string{"GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local"}

// GuestSource returns the directory of the guest programs' module, found through this package's own
// directory so that it works from any package's tests, in this module or one that requires it.
func GuestSource() (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/faultproof/faultproof/vm/vmtest").Output()
	if err != nil {
		return "", fmt.Errorf("locate vm/vmtest: %w", err)
	}
	return filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "testdata", "guest"), nil
}

// BuildGuests compiles the guest programs ./<name> into outDir/<name>, in one go build.
func BuildGuests(outDir string, names ...string) error {
	src, err := GuestSource()
	if err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-o", outDir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), guestBuildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build guest programs %v: %v: %s", names, err, out)
	}
	return nil
}
