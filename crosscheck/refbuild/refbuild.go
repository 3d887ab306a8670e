// Package refbuild builds Optimism's own programs (op-program, op-challenger, any package of the optimism
// monorepo) from a released version of the optimism Go module, for crosscheck's differential tests.
//
// Packages that import op-core/superchain embed a generated superchain-configs.zip that the module zip
// lacks, so they do not build from the module cache. refbuild copies the module out of the cache, writes a
// registry bundle into the copy (see registry.go), and builds inside the copy with the module's own go.mod,
// so every dependency (op-geth included) is the version that release was built with.
//
// Copies and binaries are cached under os.UserCacheDir()/faultproof-crosscheck (or
// $FAULTPROOF_REFBUILD_CACHE), keyed by version, registry bundle, Go version and build parameters: only the
// first run pays for a build. Test processes running at the same time share the cache safely: each entry is
// made under a file lock, in a temporary path that is renamed into place when complete.
package refbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// OptimismModule is the module path of the optimism monorepo.
const OptimismModule = "github.com/ethereum-optimism/optimism"

// CacheEnv names the environment variable that overrides the cache directory.
const CacheEnv = "FAULTPROOF_REFBUILD_CACHE"

// Binary is one package of the module to build.
type Binary struct {
	// Name is the file name of the binary in the cache.
	Name string
	// Package is the package to build, relative to the module root (e.g. "./op-program/host/cmd").
	Package string
	// Env is added to the build's environment, e.g. GOOS=linux GOARCH=mips64 GOMIPS64=softfloat.
	Env []string
	// LDFlags are passed to go build -ldflags.
	LDFlags string
	// Files are source files added to the module for this build, by path relative to the module root
	// (e.g. a test program "faultproof-xcheck/main.go" that imports the module's packages). They reach the
	// compiler through go build -overlay, so the shared module copy is not changed.
	Files map[string]string
}

// Module returns a writable copy of optimism@version with its op-core/superchain registry bundle in
// place; any package of it builds with `go build` run inside the directory (use GoEnv).
func Module(tb testing.TB, version string) string {
	tb.Helper()
	dir, err := module(tb.Logf, version)
	if err != nil {
		tb.Fatalf("refbuild: optimism %s: %v", version, err)
	}
	return dir
}

// Build builds bin from optimism@version (once: later calls and later test runs reuse the cached
// binary) and returns the binary's path.
func Build(tb testing.TB, version string, bin Binary) string {
	tb.Helper()
	path, err := build(tb.Logf, version, bin)
	if err != nil {
		tb.Fatalf("refbuild: optimism %s: %v", version, err)
	}
	return path
}

// OpProgram builds op-program of optimism@version (the last release with op-program is v1.19.0): the host
// (op-program/host/cmd), the native client (op-program/client/cmd) and the client as a MIPS64 ELF for
// Cannon (GOOS=linux GOARCH=mips64 GOMIPS64=softfloat), with the ldflags of op-program's justfile.
func OpProgram(tb testing.TB, version string) (host, clientNative, clientMIPS64 string) {
	tb.Helper()
	h, n, m := opProgramBinaries(version)
	return Build(tb, version, h), Build(tb, version, n), Build(tb, version, m)
}

// OpProgramHostCached is the path of op-program's host of optimism@version if the cache holds it, and
// false if it does not: it never builds, and never downloads the module unless a copy of it is cached.
func OpProgramHostCached(version string) (string, bool, error) {
	h, _, _ := opProgramBinaries(version)
	return cached(version, h)
}

// opProgramBinaries are the host, the native client and the MIPS64 client of op-program, with the ldflags
// of op-program's justfile.
func opProgramBinaries(version string) (host, clientNative, clientMIPS64 Binary) {
	const versionPkg = OptimismModule + "/op-program/version"
	ldflags := func(v string) string {
		return fmt.Sprintf("-X main.GitCommit= -X main.GitDate= -X %s.Version=%s -X %s.Meta=", versionPkg, v, versionPkg)
	}
	host = Binary{Name: "op-program", Package: "./op-program/host/cmd", LDFlags: ldflags(version)}
	// The client's version is always v0.0.0, as op-program's own builds do, for a reproducible prestate.
	clientNative = Binary{Name: "op-program-client", Package: "./op-program/client/cmd", LDFlags: ldflags("v0.0.0")}
	clientMIPS64 = Binary{Name: "op-program-client64.elf", Package: "./op-program/client/cmd",
		Env: []string{"GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat"}, LDFlags: ldflags("v0.0.0")}
	return host, clientNative, clientMIPS64
}

// GoEnv is the environment for go commands run inside a module copy: the local toolchain, no workspace,
// no cgo, and no VCS stamping (the copy is not a repository).
func GoEnv(extra ...string) []string {
	env := append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	return append(env, extra...)
}

// inProcess serializes refbuild's work in one test process (a build uses every core anyway); the file locks
// of makeOnce do the same between processes.
var inProcess sync.Mutex

func module(logf func(string, ...any), version string) (string, error) {
	inProcess.Lock()
	defer inProcess.Unlock()
	return moduleLocked(logf, version)
}

// moduleLocked returns the directory of the module copy of version, made if missing.
func moduleLocked(logf func(string, ...any), version string) (string, error) {
	src, err := download(OptimismModule, version)
	if err != nil {
		return "", err
	}
	reg, err := registryFor(src)
	if err != nil {
		return "", err
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	name := version
	if reg != nil {
		name += "-" + reg.SHA256[:16]
	}
	dir := filepath.Join(root, "optimism", name)
	err = makeOnce(dir, func(tmp string) error {
		start := time.Now()
		if err := copyTree(src, tmp); err != nil {
			return err
		}
		source := "no superchain registry bundle (none needed)"
		if reg != nil {
			if err := reg.write(tmp); err != nil {
				return err
			}
			source = reg.Source
		}
		logf("refbuild: copied optimism %s to %s in %s; it embeds %s", version, dir, time.Since(start).Round(time.Millisecond), source)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("module copy: %w", err)
	}
	return dir, nil
}

// cached is the path of bin built from optimism@version if the cache holds it. Without a module copy of
// version in the cache it answers false at once, before the module is looked up.
func cached(version string, bin Binary) (string, bool, error) {
	root, err := cacheRoot()
	if err != nil {
		return "", false, err
	}
	copies, err := filepath.Glob(filepath.Join(root, "optimism", version+"*"))
	if err != nil {
		return "", false, err
	}
	if !slices.ContainsFunc(copies, func(c string) bool {
		name := filepath.Base(c)
		fi, err := os.Stat(c)
		return err == nil && fi.IsDir() && (name == version || strings.HasPrefix(name, version+"-")) && !strings.Contains(name, ".tmp-")
	}) {
		return "", false, nil
	}
	inProcess.Lock()
	defer inProcess.Unlock()
	modDir, err := moduleLocked(func(string, ...any) {}, version)
	if err != nil {
		return "", false, err
	}
	dir, err := binDir(modDir, version, bin)
	if err != nil {
		return "", false, err
	}
	path := filepath.Join(dir, bin.Name)
	if _, err := os.Stat(path); err != nil {
		return "", false, nil
	}
	return path, true, nil
}

// binDir is the cache directory of bin built from the module copy modDir of optimism@version. Everything
// that changes the binary is in its name.
func binDir(modDir, version string, bin Binary) (string, error) {
	goVersion, err := goEnvValue("GOVERSION")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%q\n", filepath.Base(modDir), goVersion, bin.Package, bin.LDFlags, bin.Env)
	names := make([]string, 0, len(bin.Files))
	for name := range bin.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(h, "%s\n%d\n%s", name, len(bin.Files[name]), bin.Files[name])
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", version, bin.Name+"-"+key), nil
}

func build(logf func(string, ...any), version string, bin Binary) (string, error) {
	inProcess.Lock()
	defer inProcess.Unlock()
	modDir, err := moduleLocked(logf, version)
	if err != nil {
		return "", err
	}
	dir, err := binDir(modDir, version, bin)
	if err != nil {
		return "", err
	}
	err = makeOnce(dir, func(tmp string) error {
		start := time.Now()
		args := []string{"build", "-trimpath", "-o", filepath.Join(tmp, bin.Name)}
		if bin.LDFlags != "" {
			args = append(args, "-ldflags", bin.LDFlags)
		}
		if len(bin.Files) > 0 {
			overlay, err := writeOverlay(tmp, modDir, bin.Files)
			if err != nil {
				return err
			}
			args = append(args, "-overlay", overlay)
		}
		cmd := exec.Command("go", append(args, bin.Package)...)
		cmd.Dir = modDir
		cmd.Env = GoEnv(bin.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s %v: %w\n%s", bin.Package, bin.Env, err, out)
		}
		logf("refbuild: built %s (optimism %s, %s %s) in %s", bin.Name, version, bin.Package, strings.Join(bin.Env, " "),
			time.Since(start).Round(time.Millisecond))
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, bin.Name), nil
}

// writeOverlay writes files (module-relative path to contents) under dir/overlay and a go build overlay
// file that places them in the module at modDir, and returns the overlay file's path.
func writeOverlay(dir, modDir string, files map[string]string) (string, error) {
	replace := map[string]string{}
	for name, content := range files {
		if filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
			return "", fmt.Errorf("overlay file %q is not inside the module", name)
		}
		src := filepath.Join(dir, "overlay", name)
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			return "", err
		}
		replace[filepath.Join(modDir, name)] = src
	}
	data, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, data, 0o644)
}

// cacheRoot is the directory of refbuild's cache.
func cacheRoot() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "faultproof-crosscheck"), nil
}

// makeOnce makes the directory dir with fill unless it exists. fill works in a temporary directory beside
// dir that is renamed to dir when fill succeeds, under a file lock, so that another process never sees
// (or makes) a half-filled dir.
func makeOnce(dir string, fill func(tmp string) error) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(dir); err == nil { // made by another process while we waited
		return nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		removeAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		removeAll(tmp)
		return err
	}
	return nil
}

// lock takes an exclusive lock on path (created if missing) and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// removeAll removes a tree whose directories may be read-only.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// copyTree copies the module directory src (read-only in the module cache) into dst as writable files,
// keeping the executable bits.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(path, target, 0o644|info.Mode().Perm()&0o111)
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// download fetches path@version into the module cache (from GOPROXY) and returns its directory.
func download(path, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir() // outside any module, so that no go.mod is consulted
	cmd.Env = GoEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct {
		Dir   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	if info.Error != "" {
		err = errors.New(info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w %s", path, version, err, strings.TrimSpace(stderr.String()))
	}
	return info.Dir, nil
}

// goEnvValue returns one `go env` value.
func goEnvValue(name string) (string, error) {
	cmd := exec.Command("go", "env", name)
	cmd.Env = GoEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
