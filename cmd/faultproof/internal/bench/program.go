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

// ProgramClaim is how one of the demo's disputes went inside the VM.
type ProgramClaim struct {
	Name   string
	Blocks uint64 // L2 blocks derived
	demo.VMRun
}

// Program builds the prestate and the default devnet, then settles the demo's disputes inside the VM,
// served by the host, and writes the steps, steps per derived L2 block, VM memory, VM time and steps per
// second of each to out; progress goes to progress.
func Program(o ProgramOptions, out, progress io.Writer) error {
	claims, err := RunProgram(o, progress)
	if err != nil {
		return err
	}
	return WriteProgramTable(out, claims)
}

// RunProgram measures what Program writes.
func RunProgram(o ProgramOptions, progress io.Writer) ([]ProgramClaim, error) {
	dir, err := os.MkdirTemp("", "faultproof-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	prestate := filepath.Join(dir, "prestate")
	fmt.Fprintln(progress, "building the prestate...")
	if _, err := o.BuildPrestate(o.Src, prestate); err != nil {
		return nil, err
	}
	dd, err := newDemoData(dir, progress)
	if err != nil {
		return nil, err
	}
	return runProgram(o, dd, prestate, progress)
}

// runProgram settles dd's disputes inside the VM on the prestate in the directory prestate.
func runProgram(o ProgramOptions, dd *demoData, prestate string, progress io.Writer) ([]ProgramClaim, error) {
	var claims []ProgramClaim
	for i, dp := range dd.disputes {
		if !strings.Contains(dp.Name, o.Claims) {
			continue
		}
		fmt.Fprintf(progress, "%s, inside the VM...\n", dp.Name)
		var vmArgs []string
		if o.ProfDir != "" {
			vmArgs = []string{"--pprof.elf", filepath.Join(prestate, "fpp-client.elf"),
				"--pprof.guest", filepath.Join(o.ProfDir, fmt.Sprintf("claim%d.pprof", i+1))}
		}
		run, err := demo.RunInVM(o.Exe, prestate, demo.ReplayArgs(dd.dir, demo.HostConfig(dd.d, dp)), vmArgs...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dp.Name, err)
		}
		claims = append(claims, ProgramClaim{Name: dp.Name, Blocks: dp.Blocks(), VMRun: run})
	}
	return claims, nil
}

// WriteProgramTable writes claims as 'faultproof bench program' shows them.
func WriteProgramTable(out io.Writer, claims []ProgramClaim) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLAIM\tBLOCKS DERIVED\tSTEPS\tSTEPS/BLOCK\tVM MEMORY\tVM TIME\tSTEPS/S\tPEAK RSS\tVERDICT")
	for _, c := range claims {
		perBlock := "-"
		if c.Blocks > 0 {
			perBlock = fmt.Sprint(c.Steps / c.Blocks)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%.0f\t%s\t%s\n", c.Name, c.Blocks, c.Steps, perBlock, units.Bytes(c.Memory),
			c.Elapsed.Round(1e6), units.PerSecond(c.Steps, c.Elapsed), units.Bytes(uint64(c.PeakRSS)), demo.Verdict(c.Code))
	}
	return w.Flush()
}

// demoData is the default devnet, a datadir of its preimages and configs for hosts in other processes,
// and the demo's disputes on it.
type demoData struct {
	d        *devnet.Devnet
	dir      string
	disputes []demo.Dispute
}

// newDemoData builds the default devnet and writes its datadir into dir.
func newDemoData(dir string, progress io.Writer) (*demoData, error) {
	fmt.Fprintln(progress, "building the devnet...")
	d, err := devnet.New(devnet.Config{})
	if err != nil {
		return nil, err
	}
	if err := demo.WriteDataDir(dir, d); err != nil {
		return nil, err
	}
	disputes, err := demo.Disputes(d)
	if err != nil {
		return nil, err
	}
	return &demoData{d: d, dir: dir, disputes: disputes}, nil
}
