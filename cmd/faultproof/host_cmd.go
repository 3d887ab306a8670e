package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/host"
)

// runCommand is the main job: decide one claim, with the program in this process and the host serving it
// from the datadir or, with --l1, --l2 and --l1.beacon, from RPC.
var runCommand = &cli.Command{
	Name:   "run",
	Usage:  "Decide a claim: run the fault proof program in process, served by the host (same flags as host, or --bundle)",
	Flags:  append(slices.Clone(hostFlags), bundleFlag, bundleMaxSizeFlag),
	Before: setupLogging,
	Action: runHost,
}

var hostCommand = &cli.Command{
	Name:  "host",
	Usage: "Serve preimages to the fault proof program (op-program host compatible)",
	Description: `Serves the program's preimage requests: local keys from the flags, everything else from the
datadir (offline) or fetched over RPC (online, with --l1, --l2 and --l1.beacon).

Modes:
  --server      serve a VM that started the host, on file descriptors 3-6
                (e.g. faultproof vm run ... -- faultproof host --server ...)
  --exec PATH   start the program at PATH with the channels on its fds 3-6 and exit with its code
  (neither)     run the program in this process

Flags may also be set through OP_PROGRAM_* environment variables, as for op-program.`,
	Flags:  hostFlags,
	Before: setupLogging,
	Action: runHost,
}

func runHost(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	warnUnknownEnv(hostFlags)
	if ctx.IsSet(bundleFlag.Name) {
		return runBundle(ctx)
	}
	cfg, err := hostConfigFromCLI(ctx)
	if err != nil {
		return err
	}
	program := inprocess.Program
	if cfg.Interop != nil {
		program = inprocess.InteropProgram
	}
	h := host.New(log.Root(), cfg, program)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	return runHostWithMetrics(ctx, h)
}

// runHostWithMetrics runs h until it is done or interrupted, serving its metrics with --metrics.enabled.
func runHostWithMetrics(ctx *cli.Context, h *host.Host) error {
	if port := ctx.Int(metricsPortFlag.Name); port < 0 || port > 65535 {
		return fmt.Errorf("--%s %d: want a port from 0 to 65535", metricsPortFlag.Name, port)
	}
	sigCtx, stop := signal.NotifyContext(ctx.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !ctx.Bool(metricsEnabledFlag.Name) {
		return h.Run(sigCtx)
	}
	m := host.NewMetrics()
	addr := net.JoinHostPort(ctx.String(metricsAddrFlag.Name), strconv.Itoa(ctx.Int(metricsPortFlag.Name)))
	srv, err := host.StartMetricsServer(log.Root(), addr, m)
	if err != nil {
		return err
	}
	defer srv.Close()
	m.Instrument(h)
	err = h.Run(sigCtx)
	m.Finish(h)
	return err
}
