package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/units"
	"github.com/faultproof/faultproof/devnet"
)

// ProgramOptions say what 'bench program' runs.
type ProgramOptions struct {
	Src           string                                     // checkout to build the program from
	BuildPrestate func(src, out string) (common.Hash, error) // as 'faultproof prestate --out'
	Exe           string                                     // a faultproof binary: the VM and its host
	ProfDir       string                                     // if set, a guest profile of each claim goes here
	Claims        string                                     // run only the claims whose names contain this
}

// Program builds the prestate and the default devnet, then settles the demo's disputes inside the VM,
// served by the host, and writes the steps, steps per derived L2 block, VM memory, VM time and steps per
// second of each to out; progress goes to progress.
func Program(o ProgramOptions, out, progress io.Writer) error {
	dir, err := os.MkdirTemp("", "faultproof-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prestate := filepath.Join(dir, "prestate")
	if _, err := o.BuildPrestate(o.Src, prestate); err != nil {
		return err
	}
	d, err := devnet.New(devnet.Config{})
	if err != nil {
		return err
	}
	if err := demo.WriteDataDir(dir, d); err != nil {
		return err
	}
	disputes, err := demo.Disputes(d)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLAIM\tBLOCKS DERIVED\tSTEPS\tSTEPS/BLOCK\tVM MEMORY\tVM TIME\tSTEPS/S\tVERDICT")
	for i, dp := range disputes {
		if !strings.Contains(dp.Name, o.Claims) {
			continue
		}
		fmt.Fprintf(progress, "%s...\n", dp.Name)
		var vmArgs []string
		if o.ProfDir != "" {
			vmArgs = []string{"--pprof.elf", filepath.Join(prestate, "fpp-client.elf"),
				"--pprof.guest", filepath.Join(o.ProfDir, fmt.Sprintf("claim%d.pprof", i+1))}
		}
		run, err := demo.RunInVM(o.Exe, prestate, demo.ReplayArgs(dir, demo.HostConfig(d, dp)), vmArgs...)
		if err != nil {
			return fmt.Errorf("%s: %w", dp.Name, err)
		}
		perBlock := "-"
		if blocks := dp.Blocks(); blocks > 0 {
			perBlock = fmt.Sprint(run.Steps / blocks)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%.0f\t%s\n", dp.Name, dp.Blocks(), run.Steps, perBlock, units.Bytes(run.Memory),
			run.Elapsed.Round(1e6), units.PerSecond(run.Steps, run.Elapsed), demo.Verdict(run.Code))
	}
	return w.Flush()
}
