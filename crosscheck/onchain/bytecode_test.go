package onchain

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm/onchain"
)

// The generator: with -update (and $FAULTPROOF_LIBKECCAK, since PreimageOracle needs LibKeccak's
// source), TestEmbeddedMatchesFreshCompile writes the compiled contracts and provenance.json into
// vm/onchain instead of comparing:
//
//	cd crosscheck && FAULTPROOF_LIBKECCAK=/path/to/lib-keccak go test ./onchain/ -run TestEmbeddedMatchesFreshCompile -update
var update = flag.Bool("update", false, "write the compiled contracts into vm/onchain (needs $FAULTPROOF_LIBKECCAK)")

// embedDir is the product package that embeds the contracts.
var embedDir = filepath.Join("..", "..", "vm", "onchain")

// semverLock reads the initCodeHash that the optimism release's snapshots/semver-lock.json records for
// a contract: the keccak256 hash of the creation code of Optimism's own build.
func semverLock(t *testing.T, unit, name string) common.Hash {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(bedrockDir(t), "snapshots", "semver-lock.json"))
	require.NoError(t, err)
	var lock map[string]struct {
		InitCodeHash common.Hash `json:"initCodeHash"`
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	e, ok := lock[unit+":"+name]
	require.True(t, ok, "semver-lock.json has no %s:%s", unit, name)
	return e.InitCodeHash
}

// TestEmbeddedMatchesSemverLock checks, without compiling, that the embedded creation codes are
// Optimism's: their hashes are the initCodeHash entries of the release's semver-lock.json, and the
// ABIs are the release's ABI snapshots.
func TestEmbeddedMatchesSemverLock(t *testing.T) {
	for _, c := range []struct {
		unit, name string
		art        *onchain.Artifact
	}{
		{mipsUnit, "MIPS64", onchain.MIPS64()},
		{oracleUnit, "PreimageOracle", onchain.PreimageOracle()},
	} {
		want := semverLock(t, c.unit, c.name)
		got := c.art.InitCodeHash()
		require.Equal(t, want, got, "%s: embedded creation code hash %s, semver-lock.json of optimism %s has %s", c.name, got, optimismVersion, want)
		raw, err := os.ReadFile(filepath.Join(bedrockDir(t), "snapshots", "abi", c.name+".json"))
		require.NoError(t, err)
		snap, err := abi.JSON(bytes.NewReader(raw))
		require.NoError(t, err)
		if a, b := abiSignatures(snap), abiSignatures(c.art.ABI); !slices.Equal(a, b) {
			require.FailNow(t, fmt.Sprintf("%s: embedded ABI differs from the release's snapshot:\nsnapshot: %v\nembedded: %v", c.name, a, b))
		}
		t.Logf("%s: creation code (%d bytes) hash %s = semver-lock.json of optimism %s; ABI = snapshots/abi/%s.json", c.name, len(c.art.Bytecode), want, optimismVersion, c.name)
	}
}

// abiSignatures lists an ABI's constructor, functions (with outputs and mutability), events and
// errors.
func abiSignatures(a abi.ABI) []string {
	var out []string
	out = append(out, "constructor"+a.Constructor.Sig)
	for _, m := range a.Methods {
		out = append(out, fmt.Sprintf("function %s returns %v %s", m.Sig, m.Outputs, m.StateMutability))
	}
	for _, e := range a.Events {
		out = append(out, "event "+e.Sig)
	}
	for _, e := range a.Errors {
		out = append(out, "error "+e.Sig)
	}
	slices.Sort(out)
	return out
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	require.NoError(t, err)
	return b
}

func toArtifact(t *testing.T, unit, name string, c *compiledContract) *onchain.Artifact {
	t.Helper()
	a := &onchain.Artifact{
		ContractName:     name,
		SourceName:       unit,
		RawABI:           c.ABI,
		Bytecode:         decodeHex(t, c.EVM.Bytecode.Object),
		DeployedBytecode: decodeHex(t, c.EVM.DeployedBytecode.Object),
	}
	if len(c.EVM.DeployedBytecode.ImmutableReferences) > 0 {
		require.NoError(t, json.Unmarshal(c.EVM.DeployedBytecode.ImmutableReferences, &a.ImmutableReferences))
	}
	require.NoError(t, json.Unmarshal(c.ABI, &a.ABI))
	return a
}

// TestEmbeddedMatchesFreshCompile compiles the contracts with solc-js and requires the embedded
// artifacts to be the compiler's output: creation and deployed bytecode, immutable references, ABI.
// MIPS64 is always compiled; PreimageOracle only with $FAULTPROOF_LIBKECCAK (LibKeccak is not in the
// Go module), else TestEmbeddedMatchesSemverLock is its check.
func TestEmbeddedMatchesFreshCompile(t *testing.T) {
	c := freshCompile(t)
	fresh := map[string]*onchain.Artifact{"MIPS64": toArtifact(t, mipsUnit, "MIPS64", c.mips)}
	if c.oracle != nil {
		fresh["PreimageOracle"] = toArtifact(t, oracleUnit, "PreimageOracle", c.oracle)
	}
	if *update {
		require.NotNil(t, c.oracle, "-update needs FAULTPROOF_LIBKECCAK (a checkout of ethereum-optimism/lib-keccak) to compile PreimageOracle")
		writeEmbedded(t, c, fresh)
		return
	}
	embedded := map[string]*onchain.Artifact{"MIPS64": onchain.MIPS64(), "PreimageOracle": onchain.PreimageOracle()}
	for name, f := range fresh {
		e := embedded[name]
		require.Equal(t, e.Bytecode, f.Bytecode, "%s: embedded creation code differs from the fresh compile (hash %s, fresh %s)", name, e.InitCodeHash(), f.InitCodeHash())
		require.Equal(t, e.DeployedBytecode, f.DeployedBytecode, "%s: embedded deployed bytecode differs from the fresh compile", name)
		require.Equal(t, immutableRanges(e), immutableRanges(f), "%s: immutable references differ: fresh %v, embedded %v", name, f.ImmutableReferences, e.ImmutableReferences)
		var fa, ea bytes.Buffer
		require.NoError(t, json.Compact(&fa, f.RawABI))
		require.NoError(t, json.Compact(&ea, e.RawABI))
		require.Equal(t, ea.Bytes(), fa.Bytes(), "%s: embedded ABI differs from the fresh compile", name)
		t.Logf("%s: embedded = fresh compile with solc %s (creation %d bytes, deployed %d bytes)", name, solcLong, len(f.Bytecode), len(f.DeployedBytecode))
	}
	if c.oracle == nil {
		t.Logf("PreimageOracle not compiled: set FAULTPROOF_LIBKECCAK to a checkout of ethereum-optimism/lib-keccak (its semver-lock check passed without it)")
	}
	// The provenance note must describe the embedded files.
	var prov provenance
	require.NoError(t, json.Unmarshal(onchain.Provenance(), &prov))
	for name, e := range embedded {
		got := prov.Contracts[name].InitCodeHash
		require.Equal(t, e.InitCodeHash(), got, "provenance.json: %s initCodeHash %s, embedded %s", name, got, e.InitCodeHash())
	}
	require.Equal(t, optimismVersion, prov.Optimism, "provenance.json names optimism %s and solc %s; this compile used %s and %s", prov.Optimism, prov.Compiler.Version, optimismVersion, solcLong)
	require.Equal(t, solcLong, prov.Compiler.Version, "provenance.json names optimism %s and solc %s; this compile used %s and %s", prov.Optimism, prov.Compiler.Version, optimismVersion, solcLong)
	for unit, text := range c.sources {
		if unit == libKeccakUnit && !c.realKeccak {
			continue
		}
		want := prov.Sources[unit].SHA256
		require.Equal(t, want, sha256Hex(text), "provenance.json: %s sha256 %s, source read %s", unit, want, sha256Hex(text))
	}
}

// immutableRanges lists the places of each immutable in the deployed code, without the immutables'
// AST ids (which depend on the sources compiled along: LibKeccak or its stand-in).
func immutableRanges(a *onchain.Artifact) string {
	var groups []string
	for _, refs := range a.ImmutableReferences {
		var g []string
		for _, r := range refs {
			g = append(g, fmt.Sprintf("%d+%d", r.Start, r.Length))
		}
		slices.Sort(g)
		groups = append(groups, strings.Join(g, ","))
	}
	slices.Sort(groups)
	return strings.Join(groups, " ")
}

// provenance is vm/onchain/provenance.json.
type provenance struct {
	Note      string `json:"note"`
	Optimism  string `json:"optimism"`
	Module    string `json:"module"`
	Directory string `json:"directory"`
	Compiler  struct {
		Name     string          `json:"name"`
		Version  string          `json:"version"`
		Settings json.RawMessage `json:"settings"`
	} `json:"compiler"`
	Contracts map[string]provenanceContract `json:"contracts"`
	LibKeccak struct {
		Repository string `json:"repository"`
		Commit     string `json:"commit,omitempty"`
		Path       string `json:"path"`
		GitBlob    string `json:"gitBlob"`
	} `json:"libKeccak"`
	Sources   map[string]provenanceSource `json:"sources"`
	Generator string                      `json:"generator"`
}

type provenanceContract struct {
	Source                 string      `json:"source"`
	File                   string      `json:"file"`
	InitCodeHash           common.Hash `json:"initCodeHash"`
	SemverLockInitCodeHash common.Hash `json:"semverLockInitCodeHash"`
	DeployedBytecodeHash   common.Hash `json:"deployedBytecodeHash"`
}

type provenanceSource struct {
	SHA256 string `json:"sha256"`
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func writeEmbedded(t *testing.T, c *compiled, arts map[string]*onchain.Artifact) {
	for name, a := range arts {
		out, err := json.MarshalIndent(a, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(embedDir, name+".json"), append(out, '\n'), 0o644))
	}
	var p provenance
	p.Note = "MIPS64.json and PreimageOracle.json are solc's output for these sources and settings (those of " +
		"contracts-bedrock's foundry.toml; its evm_version cancun is lowered to london, the newest solc 0.8.15 knows, " +
		"as foundry lowers it). Each creation code hashes to the initCodeHash in the release's snapshots/semver-lock.json."
	p.Optimism = optimismVersion
	p.Module = optimismModule
	p.Directory = "packages/contracts-bedrock"
	p.Compiler.Name = "solc-js (npm solc@" + solcVersion + ")"
	p.Compiler.Version = solcLong
	settings := map[string]any{
		"optimizer":  map[string]any{"enabled": true, "runs": optimizerRuns},
		"evmVersion": evmVersion,
		"metadata":   map[string]any{"bytecodeHash": "none"},
		"remappings": remappings,
		"viaIR":      false,
	}
	p.Compiler.Settings, _ = json.Marshal(settings)
	p.Contracts = map[string]provenanceContract{}
	for name, unit := range map[string]string{"MIPS64": mipsUnit, "PreimageOracle": oracleUnit} {
		a := arts[name]
		lock := semverLock(t, unit, name)
		require.Equal(t, lock, a.InitCodeHash(), "%s: creation code hash %s is not semver-lock.json's %s", name, a.InitCodeHash(), lock)
		p.Contracts[name] = provenanceContract{
			Source: unit, File: name + ".json", InitCodeHash: a.InitCodeHash(), SemverLockInitCodeHash: lock,
			DeployedBytecodeHash: crypto.Keccak256Hash(a.DeployedBytecode),
		}
	}
	lib := c.sources[libKeccakUnit]
	p.LibKeccak.Repository = "github.com/ethereum-optimism/lib-keccak (git submodule lib/lib-keccak of contracts-bedrock)"
	p.LibKeccak.Commit = os.Getenv("FAULTPROOF_LIBKECCAK_COMMIT")
	p.LibKeccak.Path = "contracts/lib/LibKeccak.sol"
	blob := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(lib), lib)))
	p.LibKeccak.GitBlob = hex.EncodeToString(blob[:])
	p.Sources = map[string]provenanceSource{}
	for _, unit := range sortedUnits(c.sources) {
		p.Sources[unit] = provenanceSource{SHA256: sha256Hex(c.sources[unit])}
	}
	p.Generator = "cd crosscheck && FAULTPROOF_LIBKECCAK=<lib-keccak checkout> go test ./onchain/ -run TestEmbeddedMatchesFreshCompile -update"
	out, err := json.MarshalIndent(&p, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(embedDir, "provenance.json"), append(out, '\n'), 0o644))
	t.Logf("wrote MIPS64.json, PreimageOracle.json and provenance.json to %s", embedDir)
}
