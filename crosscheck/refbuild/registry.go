package refbuild

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The files of op-core/superchain that the registry bundle concerns.
const (
	superchainDir = "op-core/superchain"
	bundleFile    = "superchain-configs.zip"
	// bundleSHAFile pins the bundle's sha256 (sha256sum format); init() panics on a mismatch.
	bundleSHAFile = bundleFile + ".sha256"
	// commitFile names the registry commit the bundle's COMMIT entry must hold (v1.19.0; gone by v1.19.6).
	commitFile = "superchain-registry-commit.txt"
)

// Registry is the superchain registry bundle written into a module copy.
type Registry struct {
	// Source says where the bundle came from.
	Source string
	// SHA256 is the bundle's sha256 (hex), written as the module's pin.
	SHA256 string
	// Chains is the number of chains in the bundle's chains.json.
	Chains int

	data []byte
}

// write puts the bundle and its pin into the module copy at dir.
func (r *Registry) write(dir string) error {
	sc := filepath.Join(dir, superchainDir)
	if err := os.WriteFile(filepath.Join(sc, bundleFile), r.data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(sc, bundleSHAFile), []byte(r.SHA256+"  "+bundleFile+"\n"), 0o644)
}

// registryFor chooses the registry bundle for the module at modDir, or nil if the version has no
// op-core/superchain bundle to make.
//
// A release's bundle is generated from the superchain registry at release time, and op-geth embeds a
// bundle of the same format. When the op-geth that the release's go.mod replaces go-ethereum with embeds
// exactly the bundle the release pins (v1.19.0 and op-geth v1.101702.3-rc.2 do), that is the release's own
// registry, and it is used as it is: op-program then knows every chain it knew when it was released.
// Otherwise the bundle is empty (no chains, with a COMMIT entry when the version pins one), which builds
// and initializes; a lookup of a chain by name or ID then fails. op-geth's registry is not repacked for
// such versions: their loaders decode strictly, and op-geth's TOML has keys they no longer know (v1.19.6
// and op-geth v1.101702.3-rc.7: superchain_level).
func registryFor(modDir string) (*Registry, error) {
	sc := filepath.Join(modDir, superchainDir)
	pin, err := os.ReadFile(filepath.Join(sc, bundleSHAFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var commit string
	if c, err := os.ReadFile(filepath.Join(sc, commitFile)); err == nil {
		commit = strings.TrimSpace(string(c))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	gethPath, gethVersion, err := gethReplacement(modDir)
	if err != nil {
		return nil, err
	}
	gethDir, err := download(gethPath, gethVersion)
	if err != nil {
		return nil, err
	}
	gethBundle, err := os.ReadFile(filepath.Join(gethDir, "superchain", bundleFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	pinned := strings.Fields(string(pin))
	if sum := sha256.Sum256(gethBundle); err == nil && len(pinned) > 0 && hex.EncodeToString(sum[:]) == pinned[0] {
		return newRegistry(gethBundle, fmt.Sprintf("the release's own superchain registry bundle (%s@%s's superchain-configs.zip, sha256 %s)",
			gethPath, gethVersion, pinned[0]))
	}
	data, err := emptyBundle(commit)
	if err != nil {
		return nil, err
	}
	return newRegistry(data, fmt.Sprintf("an empty registry (no bundle of %s@%s matches the release's pin)", gethPath, gethVersion))
}

func newRegistry(data []byte, source string) (*Registry, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	f, err := zr.Open("chains.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var chains map[string]json.RawMessage
	if err := json.NewDecoder(f).Decode(&chains); err != nil {
		return nil, fmt.Errorf("chains.json: %w", err)
	}
	sum := sha256.Sum256(data)
	return &Registry{Source: fmt.Sprintf("%s, %d chains", source, len(chains)), SHA256: hex.EncodeToString(sum[:]),
		Chains: len(chains), data: data}, nil
}

// gethReplacement returns the module that modDir's go.mod replaces go-ethereum with.
func gethReplacement(modDir string) (path, version string, err error) {
	cmd := exec.Command("go", "mod", "edit", "-json", filepath.Join(modDir, "go.mod"))
	cmd.Env = GoEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go mod edit -json: %w", err)
	}
	var mod struct {
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", "", err
	}
	for _, r := range mod.Replace {
		if r.Old.Path == "github.com/ethereum/go-ethereum" && r.New.Version != "" {
			return r.New.Path, r.New.Version, nil
		}
	}
	return "", "", errors.New("go.mod does not replace github.com/ethereum/go-ethereum with a module version")
}

// bundleEntries are the entries of a bundle, by name.
type bundleEntries map[string][]byte

// zipTime is the modification time of every entry, as the registry's sync script sets it.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// encode writes the entries as a deterministic zip: sorted names, fixed times.
func (e bundleEntries) encode() ([]byte, error) {
	names := make([]string, 0, len(e))
	for n := range e {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// emptyBundle is a registry without chains: an empty chains.json map and an empty zstd dictionary.
func emptyBundle(commit string) ([]byte, error) {
	e := bundleEntries{"chains.json": []byte("{}\n"), "dictionary": {}}
	if commit != "" {
		e["COMMIT"] = []byte(commit + "\n")
	}
	return e.encode()
}
