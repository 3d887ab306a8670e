package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/vm"
)

var vmCommand = &cli.Command{
	Name:  "vm",
	Usage: "Cannon-compatible MIPS64 VM: load programs, run them with proofs, print state witnesses",
	Description: `The subcommands, their flags and their files are those of Cannon (the OP Stack's fault proof VM), so
that tools driving Cannon can drive this VM. Like Cannon's multicannon, it runs every state version that
Cannon releases of the last year wrote (` + versionNames() + `), each by its own rules:
the state file's version byte says which.

  load-elf   create the initial state (and symbol metadata) of a program
  run        run a state, writing proofs, snapshots and the final state; a pre-image server is started
             from the command after "--" (e.g. -- faultproof host --server ...)
  witness    print a state's witness and hash
  list       print the supported state versions

The same commands answer as "cannon" when the binary is started under that name (faultproof install-links).`,
	Subcommands: []*cli.Command{vmLoadELFCommand, vmRunCommand, vmWitnessCommand, vmListCommand, vmVerifyCommand},
}

// versionNames lists the supported state versions by name.
func versionNames() string {
	names := make([]string, len(vm.Versions))
	for i, v := range vm.Versions {
		names[i] = fmt.Sprintf("%s (%d)", v, uint8(v))
	}
	return strings.Join(names, ", ")
}

var vmListCommand = &cli.Command{
	Name:        "list",
	Usage:       "List the supported state versions",
	Description: "Prints each state version this VM runs, as Cannon's multicannon lists its embedded VMs.",
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() > 0 {
			return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
		}
		fmt.Println("Available cannon versions:")
		for _, v := range vm.Versions {
			fmt.Printf("filename: built-in\tversion: %s (%d)\n", v, uint8(v))
		}
		return nil
	},
}

var (
	vmLoadELFTypeFlag = &cli.StringFlag{
		Name:     "type",
		Usage:    "VM type (state version) to create a state for: " + versionNames(),
		Required: true,
	}
	vmLoadELFPathFlag = &cli.PathFlag{
		Name:      "path",
		Usage:     "Path of the 64-bit big-endian MIPS ELF program",
		TakesFile: true,
		Required:  true,
	}
	vmLoadELFOutFlag = &cli.PathFlag{
		Name: "out",
		Usage: "Where to write the state: .bin or .bin.gz for Cannon's binary format (compressed), .json or " +
			".json.gz for JSON; - for stdout (binary), empty for nowhere",
		Value:     "state.bin.gz",
		TakesFile: true,
	}
	vmLoadELFMetaFlag = &cli.PathFlag{
		Name:      "meta",
		Usage:     "Where to write the symbol metadata (for symbol names in vm run's logs); - for stdout, empty for nowhere",
		Value:     "meta.json",
		TakesFile: true,
	}
)

var vmLoadELFCommand = &cli.Command{
	Name:        "load-elf",
	Usage:       "Load an ELF program into an initial VM state",
	Description: "Loads the program's segments, sets up the initial stack as Cannon does and writes the state and the program's symbols.",
	Flags:       append([]cli.Flag{vmLoadELFTypeFlag, vmLoadELFPathFlag, vmLoadELFOutFlag, vmLoadELFMetaFlag}, logFlags...),
	Before:      setupLogging,
	Action:      vmLoadELF,
}

func parseVMType(typ string) (vm.Version, error) {
	v, err := vm.ParseVersion(typ)
	if err != nil {
		return 0, fmt.Errorf("invalid --%s: %w", vmLoadELFTypeFlag.Name, err)
	}
	return v, nil
}

func vmLoadELF(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	version, err := parseVMType(ctx.String(vmLoadELFTypeFlag.Name))
	if err != nil {
		return err
	}
	path := ctx.Path(vmLoadELFPathFlag.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("failed to open ELF file %q: %w", path, err)
	}
	state, meta, err := vm.LoadProgram(data)
	if err != nil {
		return fmt.Errorf("ELF file %q: %w", path, err)
	}
	state.Version = version // every version loads a program the same way
	if err := writeOutput(ctx.Path(vmLoadELFMetaFlag.Name), meta.WriteJSON); err != nil {
		return fmt.Errorf("failed to write metadata: %w", err)
	}
	out := ctx.Path(vmLoadELFOutFlag.Name)
	if err := writeState(out, state); err != nil {
		return fmt.Errorf("failed to write state: %w", err)
	}
	log.Info("Loaded ELF program", "path", path, "version", version, "out", out, "state", state.Hash().Hex(),
		"pages", state.Memory.PageCount(), "symbols", len(meta.Symbols))
	return nil
}

var (
	vmWitnessInputFlag = &cli.PathFlag{
		Name:      "input",
		Usage:     "State file (.bin, .bin.gz, .json or .json.gz)",
		TakesFile: true,
		Required:  true,
	}
	vmWitnessOutputFlag = &cli.PathFlag{
		Name:      "output",
		Usage:     "Where to write the raw state witness",
		TakesFile: true,
	}
)

var vmWitnessCommand = &cli.Command{
	Name:  "witness",
	Usage: "Print a state's witness, hash and status",
	Description: "Prints, as Cannon's witness command does, a JSON object with the state version, the witness hash, " +
		"the witness, the step, whether the program exited and its exit code; --output also writes the raw witness.",
	Flags:  append([]cli.Flag{vmWitnessInputFlag, vmWitnessOutputFlag}, logFlags...),
	Before: setupLogging,
	Action: vmWitness,
}

// witnessResponse is what Cannon's witness command prints.
type witnessResponse struct {
	StateVersion uint8         `json:"stateVersion"`
	WitnessHash  common.Hash   `json:"witnessHash"`
	Witness      hexutil.Bytes `json:"witness"`
	Step         uint64        `json:"step"`
	Exited       bool          `json:"exited"`
	ExitCode     uint8         `json:"exitCode"`
}

func vmWitness(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	s, err := loadState(ctx.Path(vmWitnessInputFlag.Name))
	if err != nil {
		return err
	}
	witness, hash := s.EncodeWitness()
	if out := ctx.Path(vmWitnessOutputFlag.Name); out != "" {
		if err := os.WriteFile(out, witness, outFilePerm); err != nil {
			return fmt.Errorf("failed to write witness: %w", err)
		}
	}
	return writeOutput("-", func(w io.Writer) error {
		return writeJSON(w, &witnessResponse{
			StateVersion: uint8(s.Version),
			WitnessHash:  hash,
			Witness:      witness,
			Step:         s.Step,
			Exited:       s.Exited,
			ExitCode:     s.ExitCode,
		})
	})
}

func init() {
	for _, c := range vmCommand.Subcommands {
		c.OnUsageError = oneLineUsageError(c.Flags)
	}
}
