package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/vm"
)

// prestateGoVersion is the toolchain the prestate is built with: the absolute prestate hash depends on
// the exact compiler, so a different one must be a deliberate choice, not an accident.
const prestateGoVersion = "go1.26.8"

// prestateBuildEnv and prestateBuildFlags make the client ELF reproducible: no paths, build IDs or VCS
// stamps from the machine that built it.
var (
	prestateBuildEnv   = []string{"GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local"}
	prestateBuildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-buildid=", "-o"}
)

var prestateCommand = &cli.Command{
	Name:  "prestate",
	Usage: "Build the fault proof program for the VM and write its prestate and absolute prestate hash",
	Description: `Builds cmd/fpp-client for GOOS=linux GOARCH=mips64 GOMIPS64=softfloat with fixed flags, loads it as
'vm load-elf --type multithreaded64-5' does, and writes fpp-client.elf, prestate.bin.gz and meta.json into
--out. The build runs in a tree made for it (the program's sources, vendored dependencies, op-geth patched
for the VM: see prestate_tree.go). Prints the absolute prestate hash (the state hash at step 0) on stdout, and the chain registry it
embeds on stderr: the hash changes with the registry. Run it in a checkout of this repository; the Go
toolchain must be ` + prestateGoVersion + `.

--chain-config ROLLUP.json,GENESIS.json[,L1GENESIS.json] (repeatable) builds a chain that is not in the
registry into the program, as op-program's custom chain configs: the program then finds it by chain ID,
without local keys 6, 7 and 9, so its claims can be disputed on chain with this prestate. The L1 genesis is
needed for an L1 other than mainnet, sepolia, holesky or hoodi. The checkout is not changed: the configs go
into a generated file (written to --out as builtin_chains.go) that replaces rollup/builtin_chains.go in the
build.

--interop builds the interop program (-ldflags=-X=main.programMode=interop), which decides super-root
claims: a program and absolute prestate of its own, as op-program's interop client.`,
	Flags: append([]cli.Flag{
		&cli.PathFlag{Name: "out", Usage: "Directory to write into", Required: true},
		&cli.PathFlag{Name: "src", Usage: "Checkout of the faultproof repository", Value: "."},
		&cli.StringFlag{Name: "go", Usage: "Go toolchain binary", Value: "go"},
		&cli.GenericFlag{Name: "chain-config", Usage: "ROLLUP.json,GENESIS.json[,L1GENESIS.json] of a custom chain to build into the program (repeatable)", Value: new(chainConfigFlag)},
		&cli.BoolFlag{Name: "interop", Usage: "Build the interop program (super-root claims, the super dispute game's prestate)"},
	}, logFlags...),
	Before: setupLogging,
	Action: runPrestate,
}

func runPrestate(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	src := ctx.Path("src")
	if err := checkSource(src); err != nil {
		return err
	}
	reg, err := readSourceRegistry(src)
	if err != nil {
		return err
	}
	chains, err := loadCustomChains(*ctx.Generic("chain-config").(*chainConfigFlag), reg)
	if err != nil {
		return err
	}
	mode := ""
	if ctx.Bool("interop") {
		mode = "interop"
	}
	hash, err := buildPrestateMode(src, ctx.Path("out"), ctx.String("go"), chains, mode)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Chain registry: %s\n", reg.version)
	for _, c := range chains {
		fmt.Fprintf(os.Stderr, "Custom chain built in: %d (L1 chain %v)\n", c.chainID(), c.configs.Rollup.L1ChainID)
	}
	fmt.Println(hash.Hex())
	return nil
}

func checkSource(src string) error {
	mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/faultproof/faultproof\n")) {
		return fmt.Errorf("%s is not a checkout of github.com/faultproof/faultproof (the prestate is built from source)", src)
	}
	return nil
}

// buildPrestate builds the program from the checkout src, with the custom chains built in, into out
// (fpp-client.elf, prestate.bin.gz, meta.json, and builtin_chains.go if there are custom chains) and
// returns the absolute prestate hash.
func buildPrestate(src, out, goBin string, chains []*customChain) (common.Hash, error) {
	return buildPrestateMode(src, out, goBin, chains, "")
}

// buildPrestateMode is buildPrestate for a program mode (cmd/fpp-client's programMode: "" for output-root
// claims, "interop" for super-root claims).
func buildPrestateMode(src, out, goBin string, chains []*customChain, mode string) (common.Hash, error) {
	if err := checkSource(src); err != nil {
		return common.Hash{}, err
	}
	version, err := exec.Command(goBin, "env", "GOVERSION").Output()
	if err != nil {
		return common.Hash{}, fmt.Errorf("run %s: %w", goBin, err)
	}
	if v := strings.TrimSpace(string(version)); v != prestateGoVersion {
		return common.Hash{}, fmt.Errorf("the prestate is built with %s, but %s is %s: install %s (or pass --go)", prestateGoVersion, goBin, v, prestateGoVersion)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return common.Hash{}, err
	}
	elf, err := filepath.Abs(filepath.Join(out, "fpp-client.elf"))
	if err != nil {
		return common.Hash{}, err
	}
	if err := os.Remove(filepath.Join(out, "builtin_chains.go")); err != nil && !os.IsNotExist(err) {
		return common.Hash{}, err
	}
	log.Info("Building the program", "go", prestateGoVersion, "out", elf)
	if err := buildProgramELFMode(src, elf, goBin, chains, filepath.Join(out, "builtin_chains.go"), mode); err != nil {
		return common.Hash{}, err
	}
	data, err := os.ReadFile(elf)
	if err != nil {
		return common.Hash{}, err
	}
	state, meta, err := vm.LoadProgram(data)
	if err != nil {
		return common.Hash{}, fmt.Errorf("load %s: %w", elf, err)
	}
	if err := writeOutput(filepath.Join(out, "meta.json"), meta.WriteJSON); err != nil {
		return common.Hash{}, fmt.Errorf("write metadata: %w", err)
	}
	if err := writeState(filepath.Join(out, "prestate.bin.gz"), state); err != nil {
		return common.Hash{}, fmt.Errorf("write prestate: %w", err)
	}
	return state.Hash(), nil
}
