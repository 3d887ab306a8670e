package onchain

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	gamecontracts "github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/vm/onchain"
)

// The dispute contracts that game/contracts embeds (the fault dispute game, its factory, the anchor state
// registry, the bond-holding DelayedWETH, and the SystemConfig, SuperchainConfig, Proxy and ProxyAdmin that
// their initializers require) are compiled here from the optimism module's contracts-bedrock sources, as
// foundry.toml compiles them: FaultDisputeGame with the "dispute" profile (optimizer at 5000 runs, a
// compilation restriction), the others with the default 999999 runs. Their libraries are git submodules of
// the optimism repository, missing from the Go module; npm has the same releases:
//
//   - lib/openzeppelin-contracts and lib/openzeppelin-contracts-upgradeable are OpenZeppelin v4.7.3, npm
//     @openzeppelin/contracts@4.7.3 and @openzeppelin/contracts-upgradeable@4.7.3;
//   - lib/solady is solady v0.0.158, not published on npm; the three files the contracts use (Clone.sol,
//     FixedPointMathLib.sol, LibClone.sol) are the same in npm's solady@0.0.155 (same git blobs).
//
// The proof that these are the right sources is the bytecode: each creation code hashes to the
// initCodeHash of the release's semver-lock.json (Proxy and ProxyAdmin have none: their ABIs are checked
// against the release's snapshots). The generator:
//
//	cd crosscheck && go test ./onchain/ -run TestDisputeContractsMatchFreshCompile -update-dispute
var updateDispute = flag.Bool("update-dispute", false, "write the compiled dispute contracts into game/contracts")

// disputeEmbedDir is the product package that embeds the dispute contracts.
var disputeEmbedDir = filepath.Join("..", "..", "game", "contracts")

// disputeRemappings are contracts-bedrock's remappings that the dispute contracts use.
var disputeRemappings = []string{
	"@lib-keccak/=lib/lib-keccak/contracts/lib/",
	"@openzeppelin/contracts-upgradeable/=lib/openzeppelin-contracts-upgradeable/contracts/",
	"@openzeppelin/contracts/=lib/openzeppelin-contracts/contracts/",
	"@solady/=lib/solady/src/",
	"interfaces/=interfaces/",
}

// disputeLib maps a submodule directory of contracts-bedrock to where its npm package puts the same files.
var disputeLibs = []struct{ unitPrefix, npmPrefix, pkg string }{
	{"lib/openzeppelin-contracts-upgradeable/contracts/", "@openzeppelin/contracts-upgradeable/", "@openzeppelin/contracts-upgradeable@4.7.3"},
	{"lib/openzeppelin-contracts/contracts/", "@openzeppelin/contracts/", "@openzeppelin/contracts@4.7.3"},
	{"lib/solady/src/", "solady/src/", "solady@0.0.155"},
}

// disputeJob is one solc run: the contracts compiled with one optimizer setting. roots are the source
// units compiled together (as foundry compiles a profile's files); names are the contracts kept.
type disputeJob struct {
	runs  int
	roots []string
	names map[string]string // contract name -> source unit
}

var disputeJobs = []disputeJob{
	{
		runs:  5000, // foundry.toml: compilation_restrictions for src/dispute/FaultDisputeGame.sol
		roots: []string{"src/dispute/FaultDisputeGame.sol", "src/dispute/PermissionedDisputeGame.sol"},
		names: map[string]string{"FaultDisputeGame": "src/dispute/FaultDisputeGame.sol"},
	},
	{
		runs: optimizerRuns,
		roots: []string{"src/dispute/DisputeGameFactory.sol", "src/dispute/AnchorStateRegistry.sol", "src/dispute/DelayedWETH.sol",
			"src/L1/SystemConfig.sol", "src/L1/SuperchainConfig.sol", "src/universal/Proxy.sol", "src/universal/ProxyAdmin.sol"},
		names: map[string]string{
			"DisputeGameFactory":  "src/dispute/DisputeGameFactory.sol",
			"AnchorStateRegistry": "src/dispute/AnchorStateRegistry.sol",
			"DelayedWETH":         "src/dispute/DelayedWETH.sol",
			"SystemConfig":        "src/L1/SystemConfig.sol",
			"SuperchainConfig":    "src/L1/SuperchainConfig.sol",
			"Proxy":               "src/universal/Proxy.sol",
			"ProxyAdmin":          "src/universal/ProxyAdmin.sol",
		},
	},
}

// disputeUnit returns the source unit of an embedded dispute contract.
func disputeUnit(name string) (string, int) {
	for _, j := range disputeJobs {
		if u, ok := j.names[name]; ok {
			return u, j.runs
		}
	}
	panic("no dispute contract " + name)
}

// TestDisputeContractsMatchSemverLock checks, without compiling, that the embedded creation codes are
// Optimism's (semver-lock.json's initCodeHash, for the contracts it lists) and their ABIs the release's
// snapshots.
func TestDisputeContractsMatchSemverLock(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(bedrockDir(t), "snapshots", "semver-lock.json"))
	require.NoError(t, err)
	var lock map[string]struct {
		InitCodeHash common.Hash `json:"initCodeHash"`
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	for _, name := range gamecontracts.Names {
		art := gamecontracts.Artifact(name)
		unit, _ := disputeUnit(name)
		if e, ok := lock[unit+":"+name]; ok {
			if got := art.InitCodeHash(); got != e.InitCodeHash {
				require.FailNow(t, fmt.Sprintf("%s: embedded creation code hash %s, semver-lock.json of optimism %s has %s", name, got, optimismVersion, e.InitCodeHash))
			} else {
				t.Logf("%s: creation code (%d bytes) hash %s = semver-lock.json", name, len(art.Bytecode), got)
			}
		} else if name != "Proxy" && name != "ProxyAdmin" {
			require.FailNow(t, fmt.Sprintf("semver-lock.json has no %s:%s", unit, name))
		}
		snapRaw, err := os.ReadFile(filepath.Join(bedrockDir(t), "snapshots", "abi", name+".json"))
		require.NoError(t, err)
		snap, err := abi.JSON(bytes.NewReader(snapRaw))
		require.NoError(t, err)
		a, b := abiSignatures(snap), abiSignatures(art.ABI)
		require.Equal(t, strings.Join(b, "\n"), strings.Join(a, "\n"), "%s: embedded ABI differs from snapshots/abi/%s.json", name, name)
	}
	var prov disputeProvenance
	require.NoError(t, json.Unmarshal(gamecontracts.Provenance(), &prov))
	for _, name := range gamecontracts.Names {
		got, want := prov.Contracts[name].InitCodeHash, gamecontracts.Artifact(name).InitCodeHash()
		require.Equal(t, want, got, "provenance.json: %s initCodeHash %s, embedded %s", name, got, want)
	}
}

var (
	disputeLibsOnce sync.Once
	disputeLibsDir  string
	disputeLibsSkip string
)

// disputeLibDir installs the libraries' npm packages into the cache directory (once) and returns their
// node_modules directory.
func disputeLibDir(tb testing.TB) string {
	tb.Helper()
	solc(tb) // node and npm are there
	disputeLibsOnce.Do(func() {
		prefix := filepath.Join(cacheDir(tb), "dispute-libs")
		disputeLibsDir = filepath.Join(prefix, "node_modules")
		var missing []string
		for _, l := range disputeLibs {
			name, _, _ := strings.Cut(strings.TrimPrefix(l.pkg, "@"), "@")
			if l.pkg[0] == '@' {
				name = "@" + name
			}
			if _, err := os.Stat(filepath.Join(disputeLibsDir, name, "package.json")); err != nil {
				missing = append(missing, l.pkg)
			}
		}
		if len(missing) == 0 {
			return
		}
		args := append([]string{"install", "--prefix", prefix, "--no-audit", "--no-fund"}, missing...)
		if out, err := exec.Command("npm", args...).CombinedOutput(); err != nil {
			disputeLibsSkip = fmt.Sprintf("npm install %v failed (is the npm registry reachable?): %v: %s", missing, err, lastLines(out, 5))
		}
	})
	if disputeLibsSkip != "" {
		tb.Skip(disputeLibsSkip)
	}
	return disputeLibsDir
}

// collectDisputeSources reads the root units and their imports: contracts-bedrock's own files from the
// module, the libraries from their npm packages, LibKeccak from libKeccak (the stand-in when empty: the
// dispute contracts only name its StateMatrix type, through IPreimageOracle).
func collectDisputeSources(tb testing.TB, libKeccak string, roots []string) map[string]string {
	tb.Helper()
	dir, libs := bedrockDir(tb), disputeLibDir(tb)
	sources := map[string]string{}
	var visit func(unit string)
	visit = func(unit string) {
		if _, ok := sources[unit]; ok {
			return
		}
		file := filepath.Join(dir, filepath.FromSlash(unit))
		for _, l := range disputeLibs {
			if rest, ok := strings.CutPrefix(unit, l.unitPrefix); ok {
				file = filepath.Join(libs, filepath.FromSlash(l.npmPrefix+rest))
			}
		}
		var text string
		switch {
		case unit == libKeccakUnit && libKeccak != "":
			text = libKeccak
		case unit == libKeccakUnit:
			text = libKeccakStandIn
		default:
			b, err := os.ReadFile(file)
			require.NoError(tb, err, "source %s", unit)
			text = string(b)
		}
		sources[unit] = text
		for _, m := range importRE.FindAllStringSubmatch(text, -1) {
			visit(resolveImportWith(disputeRemappings, unit, m[1]))
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return sources
}

// disputeInput is solc's standard JSON input of a job.
func disputeInput(sources map[string]string, job disputeJob) []byte {
	type source struct {
		Content string `json:"content"`
	}
	selection := map[string]map[string][]string{}
	for name, unit := range job.names {
		if selection[unit] == nil {
			selection[unit] = map[string][]string{}
		}
		selection[unit][name] = []string{"abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"}
	}
	in := map[string]any{
		"language": "Solidity",
		"sources": func() map[string]source {
			m := map[string]source{}
			for n, t := range sources {
				m[n] = source{t}
			}
			return m
		}(),
		"settings": map[string]any{
			"optimizer":       map[string]any{"enabled": true, "runs": job.runs},
			"evmVersion":      evmVersion,
			"metadata":        map[string]any{"bytecodeHash": "none"},
			"remappings":      disputeRemappings,
			"outputSelection": selection,
		},
	}
	b, err := json.Marshal(in) // map keys are sorted: the input is deterministic
	if err != nil {
		panic(err)
	}
	return b
}

// TestDisputeContractsMatchFreshCompile compiles the dispute contracts with solc-js and requires the
// embedded artifacts to be the compiler's output, and the provenance note to name the sources compiled.
func TestDisputeContractsMatchFreshCompile(t *testing.T) {
	lib := libKeccakSource(t)
	fresh := map[string]*onchain.Artifact{}
	allSources := map[string]string{}
	for _, job := range disputeJobs {
		sources := collectDisputeSources(t, lib, job.roots)
		out := compile(t, disputeInput(sources, job))
		for name, unit := range job.names {
			cc, ok := out.Contracts[unit][name]
			if !ok || cc.EVM.Bytecode.Object == "" {
				require.FailNow(t, fmt.Sprintf("solc output has no bytecode for %s:%s", unit, name))
			}
			fresh[name] = toArtifact(t, unit, name, &cc)
		}
		for u, text := range sources {
			allSources[u] = text
		}
	}
	if *updateDispute {
		writeDisputeEmbedded(t, fresh, allSources, lib != "")
		return
	}
	for _, name := range gamecontracts.Names {
		f, e := fresh[name], gamecontracts.Artifact(name)
		require.Equal(t, e.Bytecode, f.Bytecode, "%s: embedded creation code differs from the fresh compile (hash %s, fresh %s)", name, e.InitCodeHash(), f.InitCodeHash())
		require.Equal(t, e.DeployedBytecode, f.DeployedBytecode, "%s: embedded deployed bytecode differs from the fresh compile", name)
		require.Equal(t, immutableRanges(e), immutableRanges(f), "%s: immutable references differ", name)
		var fa, ea bytes.Buffer
		require.NoError(t, json.Compact(&fa, f.RawABI))
		require.NoError(t, json.Compact(&ea, e.RawABI))
		require.Equal(t, ea.Bytes(), fa.Bytes(), "%s: embedded ABI differs from the fresh compile", name)
		t.Logf("%s: embedded = fresh compile (creation %d bytes, hash %s)", name, len(f.Bytecode), f.InitCodeHash())
	}
	var prov disputeProvenance
	require.NoError(t, json.Unmarshal(gamecontracts.Provenance(), &prov))
	if prov.Optimism != optimismVersion || prov.Compiler.Version != solcLong {
		require.FailNow(t, fmt.Sprintf("provenance.json names optimism %s and solc %s; this compile used %s and %s", prov.Optimism, prov.Compiler.Version, optimismVersion, solcLong))
	}
	for unit, text := range allSources {
		if unit == libKeccakUnit {
			continue // the stand-in or the real file: neither changes the dispute contracts' bytecode
		}
		want := prov.Sources[unit].SHA256
		require.Equal(t, sha256Hex(text), want, "provenance.json: %s sha256 %s, source read %s", unit, want, sha256Hex(text))
	}
}

// disputeProvenance is game/contracts/provenance.json.
type disputeProvenance struct {
	Note      string `json:"note"`
	Optimism  string `json:"optimism"`
	Module    string `json:"module"`
	Directory string `json:"directory"`
	Compiler  struct {
		Name     string          `json:"name"`
		Version  string          `json:"version"`
		Settings json.RawMessage `json:"settings"`
	} `json:"compiler"`
	Contracts map[string]disputeProvenanceContract `json:"contracts"`
	Libraries []disputeProvenanceLibrary           `json:"libraries"`
	Sources   map[string]provenanceSource          `json:"sources"`
	Generator string                               `json:"generator"`
}

type disputeProvenanceContract struct {
	Source                 string       `json:"source"`
	File                   string       `json:"file"`
	OptimizerRuns          int          `json:"optimizerRuns"`
	InitCodeHash           common.Hash  `json:"initCodeHash"`
	SemverLockInitCodeHash *common.Hash `json:"semverLockInitCodeHash,omitempty"`
	DeployedBytecodeHash   common.Hash  `json:"deployedBytecodeHash"`
}

type disputeProvenanceLibrary struct {
	Submodule string `json:"submodule"`
	Release   string `json:"release"`
	Npm       string `json:"npm"`
}

func writeDisputeEmbedded(t *testing.T, arts map[string]*onchain.Artifact, sources map[string]string, realKeccak bool) {
	raw, err := os.ReadFile(filepath.Join(bedrockDir(t), "snapshots", "semver-lock.json"))
	require.NoError(t, err)
	var lock map[string]struct {
		InitCodeHash common.Hash `json:"initCodeHash"`
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	var p disputeProvenance
	p.Note = "The dispute contracts as solc compiles them from these sources with contracts-bedrock's foundry.toml settings " +
		"(FaultDisputeGame with its compilation restriction, optimizer at 5000 runs; the others at 999999 runs; evm_version cancun " +
		"lowered to london, the newest solc 0.8.15 knows, as foundry lowers it). The submodule libraries come from npm releases " +
		"with the same files. Each creation code that semver-lock.json lists hashes to its initCodeHash; LibKeccak is only " +
		"named for its StateMatrix type, so a declaration of that type compiles to the same bytecode."
	p.Optimism = optimismVersion
	p.Module = optimismModule
	p.Directory = "packages/contracts-bedrock"
	p.Compiler.Name = "solc-js (npm solc@" + solcVersion + ")"
	p.Compiler.Version = solcLong
	p.Compiler.Settings, _ = json.Marshal(map[string]any{
		"evmVersion": evmVersion, "metadata": map[string]any{"bytecodeHash": "none"}, "remappings": disputeRemappings, "viaIR": false,
	})
	p.Contracts = map[string]disputeProvenanceContract{}
	names := make([]string, 0, len(arts))
	for name := range arts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := arts[name]
		unit, runs := disputeUnit(name)
		c := disputeProvenanceContract{Source: unit, File: name + ".json", OptimizerRuns: runs, InitCodeHash: a.InitCodeHash(),
			DeployedBytecodeHash: crypto.Keccak256Hash(a.DeployedBytecode)}
		if e, ok := lock[unit+":"+name]; ok {
			h := e.InitCodeHash
			c.SemverLockInitCodeHash = &h
			require.Equal(t, a.InitCodeHash(), h, "%s: creation code hash %s is not semver-lock.json's %s", name, a.InitCodeHash(), h)
		}
		p.Contracts[name] = c
		out, err := json.MarshalIndent(a, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(disputeEmbedDir, name+".json"), append(out, '\n'), 0o644))
	}
	p.Libraries = []disputeProvenanceLibrary{
		{"lib/openzeppelin-contracts (commit ecd2ca2cd7cac116f7a37d0e474bbb3d7d5e1c4d)", "v4.7.3", "@openzeppelin/contracts@4.7.3"},
		{"lib/openzeppelin-contracts-upgradeable (commit 0a2cb9a445c365870ed7a8ab461b12acf3e27d63)", "v4.7.3", "@openzeppelin/contracts-upgradeable@4.7.3"},
		{"lib/solady (commit 502cc1ea718e6fa73b380635ee0868b0740595f0)", "v0.0.158", "solady@0.0.155 (Clone.sol, FixedPointMathLib.sol and LibClone.sol are the same files)"},
	}
	p.Sources = map[string]provenanceSource{}
	for _, unit := range sortedUnits(sources) {
		if unit == libKeccakUnit {
			continue
		}
		p.Sources[unit] = provenanceSource{SHA256: sha256Hex(sources[unit])}
	}
	p.Generator = "cd crosscheck && go test ./onchain/ -run TestDisputeContractsMatchFreshCompile -update-dispute"
	out, err := json.MarshalIndent(&p, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(disputeEmbedDir, "provenance.json"), append(out, '\n'), 0o644))
	t.Logf("wrote %d contracts and provenance.json to %s (real LibKeccak: %v)", len(arts), disputeEmbedDir, realKeccak)
}
