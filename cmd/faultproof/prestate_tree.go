package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// The prestate is not built in the checkout itself but in a build tree made for it: the source files of
// cmd/fpp-client's packages, copied as they are, and its dependencies vendored from the module cache, with
// opGethPatches applied to the vendored op-geth. The patches give op-geth hooks that the program's files
// tagged prestateBuildTag set, so that work op-geth would do with arithmetic inside the VM goes through
// the preimage oracle instead. Everything in the tree comes from the checkout and the module versions
// that go.sum pins, and -trimpath keeps the tree's location out of the ELF: the prestate is as
// reproducible as before. Native builds (and tests) use op-geth as it is.

// prestateBuildTag selects the program's files that use the patched op-geth's hooks.
const prestateBuildTag = "faultproof_vm"

// sourcePatch replaces one exact piece of a vendored file. The piece must occur exactly once, so that an
// op-geth upgrade that changes the code fails the build instead of silently dropping a patch.
type sourcePatch struct {
	file     string // path under vendor/
	old, new string
}

// opGethPatches are the changes to the vendored op-geth.
var opGethPatches = []sourcePatch{{
	// EIP-7702 authorities: inside the VM, recovering the signer's key with secp256k1 arithmetic costs
	// ~150M steps (most of them decoding the library's precomputed tables once); the program recovers
	// the authority through the oracle's ecrecover precompile, as it does for transaction senders.
	file: "github.com/ethereum/go-ethereum/core/types/tx_setcode.go",
	old: `	if !crypto.ValidateSignatureValues(a.V, a.R.ToBig(), a.S.ToBig(), true) {
		return common.Address{}, ErrInvalidSig
	}
`,
	new: `	if !crypto.ValidateSignatureValues(a.V, a.R.ToBig(), a.S.ToBig(), true) {
		return common.Address{}, ErrInvalidSig
	}
	if RecoverAuthority != nil {
		return RecoverAuthority(sighash, a.V, a.R.Bytes32(), a.S.Bytes32())
	}
`,
}, {
	file: "github.com/ethereum/go-ethereum/core/types/tx_setcode.go",
	old: `// Authority recovers the the authorizing account of an authorization.
`,
	new: `// RecoverAuthority, when set, recovers the address that signed sighash with the recovery ID v (0 or 1) and
// the signature values r and s, which Authority has checked. (faultproof prestate build patch.)
var RecoverAuthority func(sighash common.Hash, v uint8, r, s [32]byte) (common.Address, error)

// Authority recovers the the authorizing account of an authorization.
`,
}, {
	// op-geth's superchain registry (~13M steps of decoding at start-up inside the VM): the program
	// takes its chains from rollup/, so op-geth's registry is loaded only if something asks for it.
	file: "github.com/ethereum/go-ethereum/superchain/chain.go",
	old: `func init() {
	var err error
	BuiltInConfigs, err = NewChainConfigLoader(builtInConfigData)
	if err != nil {
		panic(err)
	}
	Chains = BuiltInConfigs.Chains
}
`,
	new: `// builtIn loads the registry on first use. (faultproof prestate build patch: it was loaded by init.)
func builtIn() *ChainConfigLoader {
	builtInOnce.Do(func() {
		var err error
		BuiltInConfigs, err = NewChainConfigLoader(builtInConfigData)
		if err != nil {
			panic(err)
		}
		Chains = BuiltInConfigs.Chains
	})
	return BuiltInConfigs
}

var builtInOnce sync.Once
`,
}, {
	file: "github.com/ethereum/go-ethereum/superchain/chain.go",
	old:  "\treturn BuiltInConfigs.ChainIDByName(name)\n",
	new:  "\treturn builtIn().ChainIDByName(name)\n",
}, {
	file: "github.com/ethereum/go-ethereum/superchain/chain.go",
	old:  "\treturn BuiltInConfigs.ChainNames()\n",
	new:  "\treturn builtIn().ChainNames()\n",
}, {
	file: "github.com/ethereum/go-ethereum/superchain/chain.go",
	old:  "\treturn BuiltInConfigs.GetChain(chainID)\n",
	new:  "\treturn builtIn().GetChain(chainID)\n",
}, {
	file: "github.com/ethereum/go-ethereum/superchain/chain.go",
	old:  "\tchain, err := BuiltInConfigs.GetChain(chainID)\n",
	new:  "\tchain, err := builtIn().GetChain(chainID)\n",
}, {
	file: "github.com/ethereum/go-ethereum/superchain/superchain.go",
	old:  "\treturn BuiltInConfigs.GetSuperchain(network)\n",
	new:  "\treturn builtIn().GetSuperchain(network)\n",
}, {
	// The registry's chain names only label chain configs in op-geth's start-up banner.
	file: "github.com/ethereum/go-ethereum/params/superchain.go",
	old: `func init() {
	for id, ch := range superchain.Chains {
		NetworkNames[fmt.Sprintf("%d", id)] = ch.Name
	}
}
`,
	new: `// (faultproof prestate build patch: no network names from the superchain registry, which is not loaded at start-up.)
var _ = fmt.Sprintf
`,
}}

// prepareBuildTree makes the prestate's build tree for the checkout src in dir.
func prepareBuildTree(src, dir, goBin string) error {
	// The files of the main module's packages as the mips64 build with the tag selects them.
	list := exec.Command(goBin, "list", "-deps", "-tags", prestateBuildTag, "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles ","}},{{join .SFiles ","}},{{join .HFiles ","}},{{join .EmbedFiles ","}}{{end}}{{end}}`,
		"./cmd/fpp-client")
	list.Dir = src
	list.Env = append(os.Environ(), prestateBuildEnv...)
	list.Stderr = os.Stderr
	out, err := list.Output()
	if err != nil {
		return fmt.Errorf("list the program's packages: %w", err)
	}
	root, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkgDir, files, _ := strings.Cut(line, "|")
		rel, err := filepath.Rel(root, pkgDir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("package directory %s is outside the checkout", pkgDir)
		}
		for _, f := range strings.Split(files, ",") {
			if f == "" {
				continue
			}
			if err := copyFile(filepath.Join(pkgDir, f), filepath.Join(dir, rel, f)); err != nil {
				return err
			}
		}
	}
	vendor := exec.Command(goBin, "mod", "vendor")
	vendor.Dir = dir
	vendor.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := vendor.CombinedOutput(); err != nil {
		return fmt.Errorf("vendor the program's dependencies: %w: %s", err, out)
	}
	for _, p := range opGethPatches {
		if err := p.apply(filepath.Join(dir, "vendor")); err != nil {
			return err
		}
	}
	return nil
}

func (p sourcePatch) apply(vendorDir string) error {
	path := filepath.Join(vendorDir, filepath.FromSlash(p.file))
	code, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("patch %s: %w", p.file, err)
	}
	if n := bytes.Count(code, []byte(p.old)); n != 1 {
		return fmt.Errorf("patch %s: the code to replace occurs %d times, want once (was op-geth upgraded?)", p.file, n)
	}
	return os.WriteFile(path, bytes.Replace(code, []byte(p.old), []byte(p.new), 1), 0o644)
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// buildProgramELF builds cmd/fpp-client from the checkout src into elf as the prestate is built, with the
// custom chains built in.
func buildProgramELF(src, elf, goBin string, chains []*customChain, builtinOut string) error {
	return buildProgramELFMode(src, elf, goBin, chains, builtinOut, "")
}

// buildProgramELFMode is buildProgramELF for a program mode (cmd/fpp-client's programMode: "" for
// output-root claims, "interop" for super-root claims), linked in with -X.
func buildProgramELFMode(src, elf, goBin string, chains []*customChain, builtinOut, mode string) error {
	tmp, err := os.MkdirTemp("", "faultproof-prestate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "src")
	if err := prepareBuildTree(src, tree, goBin); err != nil {
		return err
	}
	args := []string{"build", "-mod=vendor", "-tags", prestateBuildTag}
	if len(chains) > 0 {
		overlay, err := writeBuiltInChainsOverlay(tree, tmp, chains)
		if err != nil {
			return err
		}
		if builtinOut != "" {
			// Keep the generated file beside the prestate, for whoever checks what was built in.
			if err := copyFile(filepath.Join(tmp, "builtin_chains.go"), builtinOut); err != nil {
				return err
			}
		}
		args = append(args, "-overlay", overlay)
	}
	flags := slices.Clone(prestateBuildFlags[1:])
	if mode != "" {
		for i, f := range flags {
			if strings.HasPrefix(f, "-ldflags=") {
				flags[i] = f + " -X=main.programMode=" + mode
			}
		}
	}
	args = append(append(args, flags...), elf, "./cmd/fpp-client")
	build := exec.Command(goBin, args...)
	build.Dir = tree
	build.Env = append(os.Environ(), prestateBuildEnv...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build cmd/fpp-client for mips64: %w", err)
	}
	return nil
}
