package refbuild

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readBundle returns a bundle's entries.
func readBundle(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err)
		out[f.Name] = string(b)
	}
	return out
}

// TestEmptyBundle: the empty registry holds what op-core/superchain's loader opens (an empty chains map and
// an empty zstd dictionary), a COMMIT entry only when the version pins a commit, and is the same bytes every
// time, so its hash keys the cache.
func TestEmptyBundle(t *testing.T) {
	a, err := emptyBundle("")
	require.NoError(t, err)
	b, err := emptyBundle("")
	require.NoError(t, err)
	require.Equal(t, b, a, "two empty bundles differ")
	got := readBundle(t, a)
	require.Len(t, got, 2, "empty bundle holds %q", got)
	require.Equal(t, "{}\n", got["chains.json"], "empty bundle holds %q", got)
	require.Equal(t, "", got["dictionary"], "empty bundle holds %q", got)
	c, err := emptyBundle("8bc6125bccb8e325b50441279b65573af303492d")
	require.NoError(t, err)
	commit := readBundle(t, c)["COMMIT"]
	require.Equal(t, "8bc6125bccb8e325b50441279b65573af303492d\n", commit, "COMMIT entry")
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
			require.NoError(t, err)
			reg, err := registryFor(dir)
			require.NoError(t, err)
			pin, err := os.ReadFile(filepath.Join(dir, superchainDir, bundleSHAFile))
			require.NoError(t, err)
			sum := sha256.Sum256(reg.data)
			require.Equal(t, reg.SHA256, hex.EncodeToString(sum[:]), "SHA256 is not the bundle's")
			entries := readBundle(t, reg.data)
			switch v {
			case "v1.19.0":
				require.Equal(t, reg.SHA256, strings.Fields(string(pin))[0], "v1.19.0: bundle %s with %d chains, want the pinned one with 54: %s", reg.SHA256, reg.Chains, reg.Source)
				require.Equal(t, 54, reg.Chains, "v1.19.0: bundle %s with %d chains, want the pinned one with 54: %s", reg.SHA256, reg.Chains, reg.Source)
				require.Equal(t, "8bc6125bccb8e325b50441279b65573af303492d\n", entries["COMMIT"], "v1.19.0: the bundle lacks the pinned COMMIT or OP Mainnet's config")
				require.NotEqual(t, "", entries["configs/mainnet/op.toml"], "v1.19.0: the bundle lacks the pinned COMMIT or OP Mainnet's config")
			case "v1.19.6":
				require.Equal(t, 0, reg.Chains, "v1.19.6: %s, entries %v", reg.Source, entries)
				require.Len(t, entries, 2, "v1.19.6: %s, entries %v", reg.Source, entries)
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
		require.NoError(t, err)
	}
	n := fills.Load()
	require.Equal(t, int32(1), n, "filled %d times, want once", n)
	leftovers, _ := filepath.Glob(dir + ".tmp-*")
	require.Empty(t, leftovers, "temporary directories left: %v", leftovers)
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
	require.False(t, err != os.ErrDeadlineExceeded, "error %v", err)
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "entry exists after a failed fill: %v", err)
	leftovers, _ := filepath.Glob(dir + ".tmp-*")
	require.Empty(t, leftovers, "temporary directories left: %v", leftovers)
}

// TestWriteOverlay: files added to a build reach the compiler by an overlay that places them in the module
// copy, which is left as it is; paths outside the module are refused.
func TestWriteOverlay(t *testing.T) {
	dir, mod := t.TempDir(), t.TempDir()
	path, err := writeOverlay(dir, mod, map[string]string{"x/main.go": "package main\n"})
	require.NoError(t, err)
	var overlay struct{ Replace map[string]string }
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &overlay))
	src, ok := overlay.Replace[filepath.Join(mod, "x", "main.go")]
	if !ok || len(overlay.Replace) != 1 {
		require.FailNow(t, fmt.Sprintf("overlay %s", data))
	}
	if got, err := os.ReadFile(src); err != nil || string(got) != "package main\n" {
		require.FailNow(t, fmt.Sprintf("overlay source %q: %v", got, err))
	}
	entries, _ := os.ReadDir(mod)
	require.Len(t, entries, 0, "the module was changed")
	for _, bad := range []string{"../x.go", "/tmp/x.go"} {
		_, err := writeOverlay(t.TempDir(), mod, map[string]string{bad: ""})
		require.Error(t, err, "%s accepted", bad)
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
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			var err error
			if strings.HasSuffix(leftover, "/") {
				err = os.Mkdir(p, 0o755)
			} else {
				err = os.WriteFile(p, nil, 0o644)
			}
			require.NoError(t, err)
		}
		path, ok, err := OpProgramHostCached("v1.19.0")
		require.NoError(t, err, "with %q in the cache", leftover)
		require.False(t, ok, "with %q in the cache", leftover)
		require.Empty(t, path, "with %q in the cache", leftover)
	}
}
