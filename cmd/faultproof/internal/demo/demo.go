// Package demo is what 'faultproof demo' does, and what the benchmarks that replay the demo's disputes
// share with it: it makes a devnet (an L1 chain and an OP Stack L2 chain derived from it by our
// pipeline), lists the disputes about it, and settles each one natively (the host with the program in
// process, from the devnet's preimages) and, if asked, inside the VM ('faultproof vm run' serving
// 'faultproof host --server' from a datadir), then prints one table row per dispute. Package main only
// turns the flags into Options.
//
// A way of settling the disputes is a settler, which adds its own columns to the table: native and VM
// today. A kind of devnet brings its own disputes, host configs and replay arguments: one L2 chain and
// output-root claims (Run: Disputes, HostConfig, ReplayArgs), or several L2 chains in one dependency set
// and super-root claims (RunInterop: InteropDisputes, InteropHostConfig, InteropReplayArgs).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// Options are the demo's inputs.
type Options struct {
	Devnet     devnet.Config
	ConfigName string // the devnet configuration's name, for the progress lines
	// DataDir, if set, keeps the preimages (pebble), the configs and replay.txt, a command per dispute
	// that replays it offline.
	DataDir string
	// Program runs the fault proof program in process, for the native verdicts.
	Program host.ProgramFunc

	// VM also settles each dispute inside the VM, with the program built from the checkout Src by
	// BuildPrestate into a directory (as 'faultproof prestate --out'), and Exe (a faultproof binary) as
	// the VM and its host.
	VM            bool
	Src           string
	Exe           string
	BuildPrestate func(src, out string) (common.Hash, error)

	// Then, if set, runs on the devnet after the table when every verdict was the expected one (the
	// demo's --game plays dispute games on it).
	Then func(d *devnet.Devnet) error

	// Stdout gets the table, Stderr the progress lines.
	Stdout, Stderr io.Writer
}

// ErrUnexpectedVerdict is returned when a dispute did not get its expected verdict.
var ErrUnexpectedVerdict = errors.New("a verdict was not the expected one")

// settler decides every dispute one way and fills its columns of the table.
type settler interface {
	// header is the titles of its columns, tab-separated; name says how it settles, in progress lines.
	header() string
	name() string
	settle(ctx context.Context, cfg *host.Config) (code int, cells string, err error)
	// done runs after its last dispute, before the next settler's first.
	done() error
}

// Run builds the devnet and settles the demo's disputes. It fails with ErrUnexpectedVerdict if any verdict
// is not the expected one, after printing the table.
func Run(ctx context.Context, o Options) error {
	start := time.Now()
	fmt.Fprintf(o.Stderr, "Building the devnet (configuration %s)...\n", o.ConfigName)
	d, err := devnet.New(o.Devnet)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	values := d.Preimages()
	fmt.Fprintf(o.Stderr, "Devnet ready in %s: %d L1 blocks, %d L2 blocks, %d blobs, %d preimages\n",
		time.Since(start).Round(time.Millisecond), d.L1Head().NumberU64()+1, d.L2Head().NumberU64()+1, len(d.BlobBlocks()), len(values))
	disputes, err := Disputes(d)
	if err != nil {
		return err
	}
	t := &table{
		header:       "DISPUTE\tAGREED\tCLAIM BLOCK\tEXPECTED",
		program:      "the program",
		preimages:    values,
		writeConfigs: func(dir string) error { return WriteConfigs(dir, d) },
		replayArgs:   ReplayArgs,
	}
	for _, dp := range disputes {
		t.rows = append(t.rows, row{
			name:  dp.Name,
			cells: fmt.Sprintf("%s\t%d\t%d\t%s", dp.Name, dp.Agreed, dp.ClaimBlock, Verdict(dp.Want)),
			cfg:   HostConfig(d, dp),
			want:  dp.Want,
		})
	}
	allAsExpected, err := t.settle(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "\n%d disputes in %s.\n", len(disputes), time.Since(start).Round(time.Millisecond))
	if err := t.writeReplay(o); err != nil {
		return err
	}
	if !allAsExpected {
		return ErrUnexpectedVerdict
	}
	if o.Then != nil {
		return o.Then(d)
	}
	return nil
}

// table is the demo's disputes on one devnet, as the settlers see them, with what replaying them offline
// needs: a kind of devnet (one L2 chain, or several with super-root claims) fills it.
type table struct {
	header       string // the titles of the disputes' own columns
	rows         []row
	program      string // what BuildPrestate builds, in progress lines
	preimages    map[[32]byte][]byte
	writeConfigs func(dir string) error                      // the configs ReplayArgs names, into dir
	replayArgs   func(dir string, cfg *host.Config) []string // 'faultproof run' arguments deciding cfg from dir
}

// row is one dispute: its own columns, the configuration of a host that decides it and its expected exit
// code.
type row struct {
	name  string
	cells string
	cfg   *host.Config
	want  int
}

// settle decides every dispute natively and, with o.VM, inside the VM, keeping the preimages and configs
// in o.DataDir if set, and prints the table. It reports whether every verdict was the expected one.
func (t *table) settle(ctx context.Context, o Options) (bool, error) {
	datadir := o.DataDir
	if o.VM && datadir == "" { // the VM's host is another process: it needs the preimages on disk
		tmp, err := os.MkdirTemp("", "faultproof-demo-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(tmp)
		datadir = tmp
	}
	native := &nativeSettler{program: o.Program, kv: kvstore.NewMem()}
	settlers := []settler{native}
	if o.VM {
		prestate := filepath.Join(datadir, "prestate")
		fmt.Fprintf(o.Stderr, "Building %s for the VM...\n", t.program)
		hash, err := o.BuildPrestate(o.Src, prestate)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(o.Stderr, "Absolute prestate %s\n", hash)
		settlers = append(settlers, &vmSettler{exe: o.Exe, prestate: prestate, datadir: datadir, replayArgs: t.replayArgs})
	}
	if datadir != "" {
		var err error
		if native.kv, _, err = kvstore.Open(filepath.Join(datadir, "preimages"), kvstore.FormatPebble); err != nil {
			return false, err
		}
		if err := t.writeConfigs(datadir); err != nil {
			native.kv.Close()
			return false, err
		}
	}
	defer func() { _ = native.kv.Close() }() // closing twice is harmless
	if err := StorePreimages(native.kv, t.preimages); err != nil {
		return false, err
	}

	cells := make([]string, len(t.rows))
	for i, r := range t.rows {
		cells[i] = r.cells
	}
	header := t.header
	allAsExpected := true
	for _, s := range settlers {
		header += "\t" + s.header()
		for i, r := range t.rows {
			fmt.Fprintf(o.Stderr, "Dispute %d/%d%s: %s...\n", i+1, len(t.rows), s.name(), r.name)
			code, c, err := s.settle(ctx, r.cfg)
			if err != nil {
				return false, fmt.Errorf("dispute %q%s: %w", r.name, s.name(), err)
			}
			allAsExpected = allAsExpected && code == r.want
			cells[i] += "\t" + c
		}
		if err := s.done(); err != nil {
			return false, err
		}
	}

	w := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, c := range cells {
		fmt.Fprintln(w, c)
	}
	return allAsExpected, w.Flush()
}

// writeReplay writes o.DataDir/replay.txt, a command per dispute that replays it offline, if o.DataDir is
// set.
func (t *table) writeReplay(o Options) error {
	if o.DataDir == "" {
		return nil
	}
	replay := make([]string, len(t.rows))
	for i, r := range t.rows {
		replay[i] = "faultproof " + strings.Join(t.replayArgs(o.DataDir, r.cfg), " ")
	}
	path := filepath.Join(o.DataDir, "replay.txt")
	if err := os.WriteFile(path, []byte(strings.Join(replay, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "Preimages and configs are in %s; %s replays each dispute offline.\n", o.DataDir, path)
	return nil
}

// nativeSettler decides each dispute with the host and the program in this process, from kv.
type nativeSettler struct {
	program host.ProgramFunc
	kv      kvstore.KV
}

func (*nativeSettler) header() string { return "VERDICT\tTIME\tPREIMAGES" }
func (*nativeSettler) name() string   { return "" }

func (s *nativeSettler) settle(ctx context.Context, cfg *host.Config) (int, string, error) {
	h := host.New(log.Root(), cfg, s.program)
	h.Store = s.kv
	t0 := time.Now()
	code, err := ExitCode(h.Run(ctx))
	if err != nil {
		return 0, "", err
	}
	preimages, _, _ := h.Stats()
	return code, fmt.Sprintf("%s\t%s\t%d", Verdict(code), time.Since(t0).Round(time.Millisecond), preimages), nil
}

// done releases the store: the VM's host opens the datadir itself.
func (s *nativeSettler) done() error { return s.kv.Close() }

// vmSettler decides each dispute inside the VM, its host serving it from the datadir.
type vmSettler struct {
	exe, prestate, datadir string
	replayArgs             func(dir string, cfg *host.Config) []string
}

func (*vmSettler) header() string { return "VM VERDICT\tVM STEPS\tVM TIME" }
func (*vmSettler) name() string   { return " inside the VM" }

func (s *vmSettler) settle(_ context.Context, cfg *host.Config) (int, string, error) {
	run, err := RunInVM(s.exe, s.prestate, s.replayArgs(s.datadir, cfg))
	if err != nil {
		return 0, "", err
	}
	return run.Code, fmt.Sprintf("%s\t%d\t%s", Verdict(run.Code), run.Steps, run.Elapsed.Round(time.Millisecond)), nil
}

func (*vmSettler) done() error { return nil }

// ExitCode splits a host's result into the program's exit code and an error that is not a verdict.
func ExitCode(err error) (int, error) {
	var exitErr *host.ExitError
	switch {
	case err == nil:
		return preimage.ExitValid, nil
	case errors.As(err, &exitErr):
		return exitErr.Code, nil
	}
	return 0, err
}
