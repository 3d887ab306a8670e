package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/bench"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/vm"
)

var benchCommand = &cli.Command{
	Name:  "bench",
	Usage: "Every headline figure beside its anchor, in one table (--json for tracking); no network",
	Description: `Runs, on the embedded devnet: native block re-execution and a one-block claim with its batch in a blob
as a whole 'faultproof run' process (native); the demo's claims inside the VM, the program built from the
checkout in --src (program); the honest 6-block claim online with and without the witness fast path, and
with the L1 head 100 blocks past the data (online). It prints one table: each figure, this build's value,
its anchor (op-program's, Cannon's, or an earlier figure of ours), their ratio, and where the anchor comes
from: "recorded" anchors are constants with their provenance (internal/bench/anchors.go), "measured" ones
come from this run (--cannon measures Cannon on the honest claim, --op-program op-program's host on the native
claim). A part that cannot run here is listed as
skipped, with the reason. Progress goes to stderr. The subcommands are the harnesses behind the table.`,
	Flags: append([]cli.Flag{
		&cli.PathFlag{Name: "src", Usage: "Checkout of the faultproof repository, to build the program from", Value: "."},
		&cli.PathFlag{Name: "cannon", Usage: "A cannon binary: measure its steps/s on the honest claim as the VM's anchor", TakesFile: true},
		&cli.PathFlag{Name: "op-program", Usage: "An op-program binary: measure its native time on the same one-block claim as the anchor", TakesFile: true},
		&cli.StringSliceFlag{Name: "skip", Usage: "Parts not to run: " + strings.Join(bench.Parts, ", ")},
		&cli.StringFlag{Name: "json", Usage: "Also write the figures as JSON to this file (- for stdout, instead of the table)"},
		&cli.IntFlag{Name: "l2.blocks", Usage: "Number of devnet L2 blocks re-executed natively", Value: 20},
		&cli.IntFlag{Name: "rounds", Usage: "Runs of each native measurement; the median is reported", Value: 5},
	}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() > 0 {
			return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
		}
		defer quietLogs(ctx)()
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		r, err := bench.Summary(ctx.Context, bench.SummaryOptions{
			Src:           ctx.Path("src"),
			BuildPrestate: buildDemoPrestate,
			Exe:           exe,
			Program:       inprocess.Program,
			Cannon:        ctx.Path("cannon"),
			OpProgram:     ctx.Path("op-program"),
			Blocks:        ctx.Int("l2.blocks"),
			Rounds:        ctx.Int("rounds"),
			Skip:          ctx.StringSlice("skip"),
		}, os.Stderr)
		if err != nil {
			return err
		}
		switch path := ctx.String("json"); path {
		case "-":
			return r.WriteJSON(os.Stdout)
		case "":
		default:
			if err := writeOutput(path, r.WriteJSON); err != nil {
				return fmt.Errorf("write --json: %w", err)
			}
		}
		return r.WriteTable(os.Stdout)
	},

	Subcommands: []*cli.Command{benchNativeCommand, benchVMCommand, benchProgramCommand, benchOnlineCommand},
}

var benchNativeCommand = &cli.Command{
	Name:  "native",
	Usage: "Native block re-execution on the embedded devnet: time and oracle reads per block, peak memory",
	Description: `Builds the devnet L2 chain with op-geth and re-executes every block through the preimage oracle from
a cold start, as a one-block claim does, reporting the median time per block, the oracle reads per block and
the process's peak memory.`,
	Flags: append([]cli.Flag{
		&cli.IntFlag{Name: "l2.blocks", Usage: "Number of devnet L2 blocks", Value: 20},
		&cli.IntFlag{Name: "rounds", Usage: "Re-executions of each block; the median is reported", Value: 5},
	}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		defer quietLogs(ctx)()
		return bench.Native(ctx.Int("l2.blocks"), ctx.Int("rounds"), os.Stdout)
	},
}

var benchProgramCommand = &cli.Command{
	Name:  "program",
	Usage: "VM steps of the fault proof program per claim and per derived L2 block, on the devnet",
	Description: `Builds the prestate from the checkout in --src and the devnet, then runs the demo's disputes inside
the VM, served by the host, and reports steps, steps per L2 block derived, VM time and steps per second.`,
	Flags: append([]cli.Flag{
		&cli.PathFlag{Name: "src", Usage: "Checkout of the faultproof repository", Value: "."},
		&cli.PathFlag{Name: "pprof.dir", Usage: "Write a guest profile of each claim (vm run --pprof.guest) into this directory"},
		&cli.StringFlag{Name: "claims", Usage: "Run only the claims whose names contain this text"},
	}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		defer quietLogs(ctx)()
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		return bench.Program(bench.ProgramOptions{
			Src:           ctx.Path("src"),
			BuildPrestate: buildDemoPrestate,
			Exe:           exe,
			ProfDir:       ctx.Path("pprof.dir"),
			Claims:        ctx.String("claims"),
		}, os.Stdout, os.Stderr)
	},
}

var (
	benchVMELFFlag = &cli.PathFlag{
		Name:      "elf",
		Usage:     "The program to run: a 64-bit big-endian MIPS ELF (as for vm load-elf)",
		TakesFile: true,
		Required:  true,
	}
	benchVMCannonFlag = &cli.PathFlag{
		Name:      "cannon",
		Usage:     "A cannon binary to run the same program with, for comparison",
		TakesFile: true,
	}
	benchVMStepsFlag = &cli.Uint64Flag{
		Name:  "steps",
		Usage: "Stop after this many steps (0: run the program to its exit)",
	}
	benchVMRoundsFlag = &cli.IntFlag{
		Name:  "rounds",
		Usage: "Runs of each VM; the median is reported",
		Value: 3,
	}
)

var benchVMCommand = &cli.Command{
	Name:      "vm",
	Usage:     "Measure the VM's speed on a program, optionally against Cannon",
	ArgsUsage: "[-- pre-image server command...]",
	Description: `Loads --elf as vm load-elf does and measures, --rounds times each, reporting medians:
  ours                    the run loop alone: the state run in this process to its exit (or --steps steps);
                          loading the state and writing the final state are not timed
  ours (whole process)    "faultproof vm run --input state.bin.gz --output out.bin.gz --info-at never" as a
                          process: start-up, loading the state, the run, hashing and writing the final state
With --cannon, also "<cannon> run" with the same flags and "--stop-at =N", N being our run's final step (or
--steps), so that both VMs do the same work, and it fails unless Cannon's load-elf state, final step and final
state file are ours:
  cannon                  its run loop: its process time minus the process's fixed cost (start-up, loading
                          the state, writing the output state), measured as the median of --rounds runs
                          with --stop-at =0
  cannon (whole process)  its process time
Whole processes run back to back, ours then Cannon's in each round, so that both see the same machine load;
the load average is printed before and after. CPU is user plus system time (with a pre-image server, the
server's too); peak RSS is the largest max RSS (of the process or the server it waits for). The ratios are of
our steps per second to Cannon's: of the run loops and of the whole processes.

A pre-image server command after "--" is started for every run, as vm run starts it. Without one,
pre-image requests fail: the program must run without a pre-image server.`,
	Flags:  append([]cli.Flag{benchVMELFFlag, benchVMCannonFlag, benchVMStepsFlag, benchVMRoundsFlag}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the faultproof binary: %w", err)
		}
		return bench.VM(bench.VMOptions{
			ELF:    ctx.Path(benchVMELFFlag.Name),
			Cannon: ctx.Path(benchVMCannonFlag.Name),
			Steps:  ctx.Uint64(benchVMStepsFlag.Name),
			Rounds: ctx.Int(benchVMRoundsFlag.Name),
			Exe:    exe,
			// The server command is everything after "--", which urfave/cli drops, as for vm run.
			Host:      ctx.Args().Slice(),
			StartHost: startBenchHost,
		}, os.Stdout)
	},
}

// startBenchHost starts a pre-image server for bench vm's run loop, as vm run starts it.
func startBenchHost(args []string) (vm.PreimageOracle, func() error, error) {
	h, err := startHost(log.Root(), args)
	if err != nil {
		return nil, nil, err
	}
	return newHostOracle(h), func() error { return h.stop(false) }, nil
}

var benchOnlineCommand = &cli.Command{
	Name:  "online",
	Usage: "RPC calls and wall time per derived L2 block of the online host, with and without the witness fast path",
	Description: `Serves the devnet over JSON-RPC and the beacon API on 127.0.0.1 and decides the demo's disputes online
into an empty datadir each time, once with --l2 only (every state node is a debug_dbGet) and once with the
same node as --l2.experimental (the program's l2-payload-witness hint becomes one debug_executePayload per
block). Reports requests, round trips (HTTP requests: a batch is one) and wall time per derived L2 block,
medians over --rounds, and their ratio. --rpc.latency delays every request, as a node across a network
would. --l1.past puts the L1 head that many empty blocks past the data (a devnet for each value): the
program walks back from the head to the data.`,
	Flags: append([]cli.Flag{
		&cli.IntFlag{Name: "rounds", Usage: "Runs of each dispute in each mode; the median is reported", Value: 3},
		&cli.DurationFlag{Name: "rpc.latency", Usage: "Delay added to every request to the devnet's nodes", Value: 0},
		&cli.Uint64SliceFlag{Name: "l1.past", Usage: "Empty L1 blocks between the data and the L1 head; one devnet for each", Value: cli.NewUint64Slice(0, 100, 500)},
	}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		defer quietLogs(ctx)()
		return bench.Online(ctx.Context, bench.OnlineOptions{
			Rounds:  ctx.Int("rounds"),
			Latency: ctx.Duration("rpc.latency"),
			L1Past:  ctx.Uint64Slice("l1.past"),
			Program: inprocess.Program,
		}, os.Stdout, os.Stderr)
	},
}
