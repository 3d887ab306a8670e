package onchain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The contracts are compiled as contracts-bedrock's foundry.toml compiles them: solc 0.8.15 (their
// pragma), the optimizer on with 999999 runs (the default profile; no compilation restriction names
// src/cannon), no metadata hash (bytecode_hash = 'none'), and foundry.toml's evm_version 'cancun'
// lowered to 'london', the newest EVM version solc 0.8.15 knows (foundry does the same lowering).
const (
	solcVersion    = "0.8.15"
	optimizerRuns  = 999999
	evmVersion     = "london"
	optimismModule = "github.com/ethereum-optimism/optimism"

	mipsUnit   = "src/cannon/MIPS64.sol"
	oracleUnit = "src/cannon/PreimageOracle.sol"
	// libKeccakUnit is where foundry.toml's remapping puts @lib-keccak/LibKeccak.sol.
	libKeccakUnit = "lib/lib-keccak/contracts/lib/LibKeccak.sol"
)

// remappings are contracts-bedrock's, restricted to the ones the cannon contracts use.
var remappings = []string{
	"@lib-keccak/=lib/lib-keccak/contracts/lib/",
	"interfaces/=interfaces/",
}

// libKeccakStandIn replaces LibKeccak when its source is not at hand. LibKeccak lives in a git
// submodule of the optimism repository, which the Go module does not contain. MIPS64 needs only the
// StateMatrix type from it (through IPreimageOracle's signatures), so MIPS64 compiles to the same
// bytecode with this declaration; PreimageOracle calls LibKeccak's functions and cannot be compiled
// with it.
const libKeccakStandIn = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

// A declaration of the one type of LibKeccak that IPreimageOracle refers to (written for faultproof's
// cross-check; not the library).
library LibKeccak {
    struct StateMatrix {
        uint64[25] state;
    }
}
`

// libKeccakSource returns the real LibKeccak.sol: $FAULTPROOF_LIBKECCAK names a checkout of
// ethereum-optimism/lib-keccak (or the file itself). It returns "" when the variable is not set.
func libKeccakSource(tb testing.TB) string {
	p := os.Getenv("FAULTPROOF_LIBKECCAK")
	if p == "" {
		return ""
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, "contracts", "lib", "LibKeccak.sol")
	}
	b, err := os.ReadFile(p)
	require.NoError(tb, err, "FAULTPROOF_LIBKECCAK")
	return string(b)
}

// bedrockDir returns the contracts-bedrock directory of the optimism module in the module cache.
func bedrockDir(tb testing.TB) string {
	tb.Helper()
	bedrockOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}\t{{.Version}}", optimismModule).Output()
		if err != nil {
			bedrockErr = fmt.Errorf("go list -m %s: %v", optimismModule, err)
			return
		}
		dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), "\t")
		bedrock, optimismVersion = filepath.Join(dir, "packages", "contracts-bedrock"), version
		if _, err := os.Stat(filepath.Join(bedrock, mipsUnit)); err != nil {
			bedrockErr = fmt.Errorf("the optimism module has no %s: %v", mipsUnit, err)
		}
	})
	require.NoError(tb, bedrockErr)
	return bedrock
}

var (
	bedrockOnce     sync.Once
	bedrock         string
	optimismVersion string
	bedrockErr      error
)

var importRE = regexp.MustCompile(`(?m)^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']\s*;`)

// resolveImport turns an import path in the source unit from into a source unit name, as solc does:
// relative to the importing unit for ./ and ../, then through the longest matching remapping.
func resolveImport(from, imp string) string { return resolveImportWith(remappings, from, imp) }

// resolveImportWith is resolveImport with the given remappings.
func resolveImportWith(remaps []string, from, imp string) string {
	if strings.HasPrefix(imp, "./") || strings.HasPrefix(imp, "../") {
		imp = path.Join(path.Dir(from), imp)
	}
	best := ""
	for _, r := range remaps {
		prefix, _, _ := strings.Cut(r, "=")
		if strings.HasPrefix(imp, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best != "" {
		for _, r := range remaps {
			prefix, target, _ := strings.Cut(r, "=")
			if prefix == best {
				return target + strings.TrimPrefix(imp, prefix)
			}
		}
	}
	return imp
}

// collectSources reads the root units and everything they import from the contracts-bedrock tree,
// LibKeccak from libKeccak (the stand-in when empty).
func collectSources(tb testing.TB, libKeccak string, roots ...string) map[string]string {
	tb.Helper()
	dir := bedrockDir(tb)
	sources := map[string]string{}
	var visit func(unit string)
	visit = func(unit string) {
		if _, ok := sources[unit]; ok {
			return
		}
		var text string
		if unit == libKeccakUnit {
			text = libKeccak
			if text == "" {
				text = libKeccakStandIn
			}
		} else {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(unit)))
			require.NoError(tb, err, "source %s", unit)
			text = string(b)
		}
		sources[unit] = text
		for _, m := range importRE.FindAllStringSubmatch(text, -1) {
			visit(resolveImport(unit, m[1]))
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return sources
}

// standardInput is solc's standard JSON input for the units and the contracts selected.
func standardInput(sources map[string]string, contracts map[string]string) []byte {
	type source struct {
		Content string `json:"content"`
	}
	in := struct {
		Language string            `json:"language"`
		Sources  map[string]source `json:"sources"`
		Settings any               `json:"settings"`
	}{Language: "Solidity", Sources: map[string]source{}}
	for name, text := range sources {
		in.Sources[name] = source{text}
	}
	selection := map[string]map[string][]string{}
	for unit, name := range contracts {
		selection[unit] = map[string][]string{name: {
			"abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences",
		}}
	}
	in.Settings = map[string]any{
		"optimizer":       map[string]any{"enabled": true, "runs": optimizerRuns},
		"evmVersion":      evmVersion,
		"metadata":        map[string]any{"bytecodeHash": "none"},
		"remappings":      remappings,
		"outputSelection": selection,
	}
	b, err := json.Marshal(in) // map keys are sorted: the input is deterministic
	if err != nil {
		panic(err)
	}
	return b
}

// compiledContract is one contract of solc's standard JSON output.
type compiledContract struct {
	ABI json.RawMessage `json:"abi"`
	EVM struct {
		Bytecode struct {
			Object string `json:"object"`
		} `json:"bytecode"`
		DeployedBytecode struct {
			Object              string          `json:"object"`
			ImmutableReferences json.RawMessage `json:"immutableReferences"`
		} `json:"deployedBytecode"`
	} `json:"evm"`
}

type solcOutput struct {
	Errors []struct {
		Severity         string `json:"severity"`
		FormattedMessage string `json:"formattedMessage"`
	} `json:"errors"`
	Contracts map[string]map[string]compiledContract `json:"contracts"`
}

// cacheDir is where the crosscheck keeps solc-js and compile outputs: $FAULTPROOF_CROSSCHECK_CACHE, or
// faultproof-crosscheck in the user's cache directory (the temporary directory if there is none).
func cacheDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FAULTPROOF_CROSSCHECK_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "faultproof-crosscheck")
	}
	require.NoError(tb, os.MkdirAll(dir, 0o755))
	return dir
}

var (
	solcOnce sync.Once
	solcJS   string // the solc package directory
	solcLong string // solc's long version
	solcErr  error
	solcSkip string
)

// compileScript compiles the standard JSON input on stdin with the solc-js package named by its first
// argument, or prints the compiler's version with "version" as the second.
const compileScript = `const solc = require(process.argv[1]);
if (process.argv[2] === "version") { process.stdout.write(solc.version()); process.exit(0); }
const chunks = [];
process.stdin.on("data", c => chunks.push(c));
process.stdin.on("end", () => process.stdout.write(solc.compile(Buffer.concat(chunks).toString("utf8"))));
`

// solc installs solc-js from npm into the cache directory (once) and returns its package directory. It
// skips the test when node or npm is missing or the install fails for want of a registry.
func solc(tb testing.TB) string {
	tb.Helper()
	solcOnce.Do(func() {
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				solcSkip = fmt.Sprintf("%s is not installed: the on-chain cross-check needs node and npm to run solc-js %s", tool, solcVersion)
				return
			}
		}
		prefix := filepath.Join(cacheDir(tb), "solc-js-"+solcVersion)
		solcJS = filepath.Join(prefix, "node_modules", "solc")
		if _, err := os.Stat(filepath.Join(solcJS, "soljson.js")); err != nil {
			cmd := exec.Command("npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "solc@"+solcVersion)
			if out, err := cmd.CombinedOutput(); err != nil {
				solcSkip = fmt.Sprintf("npm install solc@%s failed (is the npm registry reachable?): %v: %s", solcVersion, err, lastLines(out, 5))
				return
			}
		}
		out, err := exec.Command("node", "-e", compileScript, solcJS, "version").Output()
		if err != nil {
			solcErr = fmt.Errorf("solc-js version: %v", err)
			return
		}
		solcLong = string(out)
		if !strings.HasPrefix(solcLong, solcVersion+"+") {
			solcErr = fmt.Errorf("solc-js in %s is %s, want %s", solcJS, solcLong, solcVersion)
		}
	})
	if solcSkip != "" {
		tb.Skip(solcSkip)
	}
	require.NoError(tb, solcErr)
	return solcJS
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// compile runs solc-js on a standard JSON input, with the output cached in the cache directory by the
// input's hash (the optimizer at 999999 runs takes solc-js tens of seconds).
func compile(tb testing.TB, input []byte) *solcOutput {
	tb.Helper()
	pkg := solc(tb)
	sum := sha256.Sum256(append([]byte(solcLong+"\n"), input...))
	cached := filepath.Join(cacheDir(tb), "compile-"+hex.EncodeToString(sum[:12])+".json")
	raw, err := os.ReadFile(cached)
	if err != nil {
		cmd := exec.Command("node", "-e", compileScript, pkg)
		cmd.Stdin = bytes.NewReader(input)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if raw, err = cmd.Output(); err != nil {
			require.FailNow(tb, fmt.Sprintf("solc-js: %v: %s", err, lastLines(stderr.Bytes(), 10)))
		}
	}
	var out solcOutput
	require.NoError(tb, json.Unmarshal(raw, &out), "solc-js output")
	var errs []string
	for _, e := range out.Errors {
		if e.Severity == "error" {
			errs = append(errs, e.FormattedMessage)
		}
	}
	require.Empty(tb, errs, "solc errors:\n%s", strings.Join(errs, "\n"))
	if err := writeFileAtomic(cached, raw); err != nil {
		tb.Logf("caching the compile output: %v", err)
	}
	return &out
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), name)
}

// compiled is a fresh compile of the cannon contracts.
type compiled struct {
	mips, oracle *compiledContract // oracle is nil without the real LibKeccak
	sources      map[string]string
	realKeccak   bool
}

var (
	freshOnce sync.Once
	fresh     *compiled
)

// freshCompile compiles MIPS64 and, when $FAULTPROOF_LIBKECCAK gives LibKeccak's source,
// PreimageOracle (once per test binary).
func freshCompile(tb testing.TB) *compiled {
	tb.Helper()
	solc(tb)
	freshOnce.Do(func() {
		lib := libKeccakSource(tb)
		c := &compiled{realKeccak: lib != ""}
		contracts := map[string]string{mipsUnit: "MIPS64"}
		roots := []string{mipsUnit}
		if c.realKeccak {
			contracts[oracleUnit] = "PreimageOracle"
			roots = append(roots, oracleUnit)
		}
		c.sources = collectSources(tb, lib, roots...)
		out := compile(tb, standardInput(c.sources, contracts))
		get := func(unit, name string) *compiledContract {
			cc, ok := out.Contracts[unit][name]
			require.True(tb, ok, "solc output has no bytecode for %s:%s", unit, name)
			require.NotEqual(tb, "", cc.EVM.Bytecode.Object, "solc output has no bytecode for %s:%s", unit, name)
			return &cc
		}
		c.mips = get(mipsUnit, "MIPS64")
		if c.realKeccak {
			c.oracle = get(oracleUnit, "PreimageOracle")
		}
		fresh = c
	})
	require.NotNil(tb, fresh, "the fresh compile failed in an earlier test")
	return fresh
}

// sortedUnits returns the source unit names in order.
func sortedUnits(sources map[string]string) []string {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
