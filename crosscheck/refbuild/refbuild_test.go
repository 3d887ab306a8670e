package refbuild

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readBundle returns a bundle's entries.
func readBundle(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestEmptyBundle: the empty registry holds what op-core/superchain's loader opens (an empty chains map and
// an empty zstd dictionary), a COMMIT entry only when the version pins a commit, and is the same bytes every
// time, so its hash keys the cache.
func TestEmptyBundle(t *testing.T) {
	a, err := emptyBundle("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := emptyBundle("")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two empty bundles differ")
	}
	if got := readBundle(t, a); len(got) != 2 || got["chains.json"] != "{}\n" || got["dictionary"] != "" {
		t.Fatalf("empty bundle holds %q", got)
	}
	c, err := emptyBundle("8bc6125bccb8e325b50441279b65573af303492d")
	if err != nil {
		t.Fatal(err)
	}
	if got := readBundle(t, c)["COMMIT"]; got != "8bc6125bccb8e325b50441279b65573af303492d\n" {
		t.Fatalf("COMMIT entry %q", got)
	}
}

// TestRegistryForVersions: v1.19.0 gets its release's own bundle (op-geth v1.101702.3-rc.2's, whose sha256
// is the one v1.19.0 pins, with the registry commit both pin), and v1.19.6, whose pin no bundle at hand
// matches, the empty registry. v1.19.6 is this module's dependency (no download); v1.19.0 is fetched
// from the module proxy, so only without -short.
func TestRegistryForVersions(t *testing.T) {
	versions := []string{"v1.19.6"}
	if !testing.Short() {
		versions = append(versions, "v1.19.0")
	}
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			dir, err := download(OptimismModule, v)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := registryFor(dir)
			if err != nil {
				t.Fatal(err)
			}
			pin, err := os.ReadFile(filepath.Join(dir, superchainDir, bundleSHAFile))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(reg.data)
			if hex.EncodeToString(sum[:]) != reg.SHA256 {
				t.Fatal("SHA256 is not the bundle's")
			}
			entries := readBundle(t, reg.data)
			switch v {
			case "v1.19.0":
				if strings.Fields(string(pin))[0] != reg.SHA256 || reg.Chains != 54 {
					t.Fatalf("v1.19.0: bundle %s with %d chains, want the pinned one with 54: %s", reg.SHA256, reg.Chains, reg.Source)
				}
				if entries["COMMIT"] != "8bc6125bccb8e325b50441279b65573af303492d\n" || entries["configs/mainnet/op.toml"] == "" {
					t.Fatal("v1.19.0: the bundle lacks the pinned COMMIT or OP Mainnet's config")
				}
			case "v1.19.6":
				if reg.Chains != 0 || len(entries) != 2 {
					t.Fatalf("v1.19.6: %s, entries %v", reg.Source, entries)
				}
			}
			t.Logf("%s: %s", v, reg.Source)
		})
	}
}

// TestMakeOnceConcurrent: makers racing for one cache entry fill it once, and every one of them returns
// only when it is complete.
func TestMakeOnceConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "entry")
	var fills atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := makeOnce(dir, func(tmp string) error {
				fills.Add(1)
				time.Sleep(50 * time.Millisecond) // a slow build: the others must wait, not start their own
				return os.WriteFile(filepath.Join(tmp, "bin"), []byte("built"), 0o755)
			})
			if err == nil {
				if b, rerr := os.ReadFile(filepath.Join(dir, "bin")); rerr != nil || string(b) != "built" {
					err = rerr
					if err == nil {
						err = os.ErrInvalid
					}
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fills.Load(); n != 1 {
		t.Fatalf("filled %d times, want once", n)
	}
	leftovers, _ := filepath.Glob(dir + ".tmp-*")
	if len(leftovers) != 0 {
		t.Fatalf("temporary directories left: %v", leftovers)
	}
}

// TestMakeOnceFailureLeavesNothing: a failed fill leaves no entry, so the next run tries again.
func TestMakeOnceFailureLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "entry")
	err := makeOnce(dir, func(tmp string) error {
		if err := os.WriteFile(filepath.Join(tmp, "half"), nil, 0o644); err != nil {
			return err
		}
		return os.ErrDeadlineExceeded
	})
	if err != os.ErrDeadlineExceeded {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("entry exists after a failed fill: %v", err)
	}
	if leftovers, _ := filepath.Glob(dir + ".tmp-*"); len(leftovers) != 0 {
		t.Fatalf("temporary directories left: %v", leftovers)
	}
}

// TestOpProgramHostCachedEmpty: with nothing of the version in the cache (a lock file or a half-made copy
// at most), the host is not cached, and the answer comes without looking the module up.
func TestOpProgramHostCachedEmpty(t *testing.T) {
	root := t.TempDir()
	t.Setenv(CacheEnv, root)
	t.Setenv("GOPROXY", "off") // a module lookup would fail
	t.Setenv("GOMODCACHE", t.TempDir())
	for _, leftover := range []string{"", "v1.19.0-0123456789abcdef.lock", "v1.19.0-0123456789abcdef.tmp-42/", "v1.19.01/"} {
		if leftover != "" {
			p := filepath.Join(root, "optimism", leftover)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			var err error
			if strings.HasSuffix(leftover, "/") {
				err = os.Mkdir(p, 0o755)
			} else {
				err = os.WriteFile(p, nil, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		path, ok, err := OpProgramHostCached("v1.19.0")
		if err != nil || ok || path != "" {
			t.Fatalf("with %q in the cache: %q, %v, %v; want not cached, no error", leftover, path, ok, err)
		}
	}
}
