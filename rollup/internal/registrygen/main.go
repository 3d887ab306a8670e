// Command registrygen writes rollup/registry_gen.go: the chains of the superchain registry as Go code that
// builds one chain's rollup config when it is asked for, and an index of names and chain IDs. It reads the
// registry in kona's format (configs.json with chainList.json and depsets.json beside it), by default from
// the optimism module through the Go module proxy, so the result is the same on any machine.
//
//	go generate ./rollup                                      # the module version pinned in rollup/gen.go
//	go run ./rollup/internal/registrygen -module github.com/ethereum-optimism/optimism@v1.20.0 -out rollup/registry_gen.go
//	go run ./rollup/internal/registrygen -source path/to/configs.json -out rollup/registry_gen.go
package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// registryDir is where kona keeps the registry files in the optimism module.
const registryDir = "rust/kona/crates/protocol/registry/etc"

func main() {
	module := flag.String("module", "", "module@version whose "+registryDir+" holds the registry, e.g. github.com/ethereum-optimism/optimism@v1.19.6")
	sourceFile := flag.String("source", "", "configs.json to read instead of the module's ("+chainListFile+" and "+depsetsFile+" beside it)")
	out := flag.String("out", "registry_gen.go", "file to write")
	flag.Parse()
	if err := run(*module, *sourceFile, *out); err != nil {
		fmt.Fprintf(os.Stderr, "registrygen: %v\n", err)
		os.Exit(2)
	}
}

func run(module, sourceFile, out string) error {
	var configsPath, origin string
	switch {
	case module != "" && sourceFile != "":
		return errors.New("-module and -source are mutually exclusive")
	case sourceFile != "":
		configsPath, origin = sourceFile, "file "+filepath.Base(sourceFile)
	case module != "":
		dir, version, date, err := downloadModule(module)
		if err != nil {
			return err
		}
		configsPath = filepath.Join(dir, filepath.FromSlash(registryDir), configsFile)
		origin = fmt.Sprintf("kona registry in %s %s (%s)", strings.Split(module, "@")[0], version, date)
	default:
		return errors.New("one of -module or -source is required")
	}
	src, err := readSource(configsPath)
	if err != nil {
		return err
	}
	nets, warnings, err := buildNetworks(src)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "registrygen: warning: %s\n", w)
	}
	sum := sha256.Sum256(src.configsRaw)
	version := fmt.Sprintf("%s, configs.json sha256:%x, %d chains", origin, sum[:6], len(nets))
	code, err := generate(nets, version)
	if err != nil {
		return err
	}
	return os.WriteFile(out, code, 0o644)
}

// downloadModule fetches module@version into the module cache with the go command (through GOPROXY) and
// returns its directory, exact version and release date.
func downloadModule(module string) (dir, version, date string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	var info struct {
		Dir, Version, Info, Error string
	}
	if jerr := json.Unmarshal(data, &info); jerr == nil && info.Error != "" {
		return "", "", "", fmt.Errorf("go mod download %s: %s", module, info.Error)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("go mod download %s: %w", module, err)
	}
	if err := json.Unmarshal(data, &info); err != nil || info.Dir == "" {
		return "", "", "", fmt.Errorf("go mod download %s: unexpected output %q", module, data)
	}
	// The .info file records the version's commit time: the date of the registry data.
	date = "date unknown"
	if raw, err := os.ReadFile(info.Info); err == nil {
		var v struct{ Time time.Time }
		if json.Unmarshal(raw, &v) == nil && !v.Time.IsZero() {
			date = v.Time.UTC().Format("2006-01-02")
		}
	}
	return info.Dir, info.Version, date, nil
}
