package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
)

// runCommand is the main job: decide one claim, with the program in this process and the host serving it
// from the datadir or, with --l1, --l2 and --l1.beacon, from RPC.
var runCommand = &cli.Command{
	Name:   "run",
	Usage:  "Decide a claim: run the fault proof program in process, served by the host (same flags as host)",
	Flags:  hostFlags,
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
	cfg, err := hostConfigFromCLI(ctx)
	if err != nil {
		return err
	}
	sigCtx, stop := signal.NotifyContext(ctx.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := host.New(log.Root(), cfg, inProcessProgram)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	return h.Run(sigCtx)
}

// inProcessProgram runs the fault proof program in the host's process, over the same channels a child
// would get.
func inProcessProgram(ctx context.Context, preimageCh, hintCh io.ReadWriter) error {
	err := client.Run(log.Root(), preimage.NewOracleClient(preimageCh), preimage.NewHintWriter(hintCh))
	if code := client.ExitCode(err); code != client.ExitValid {
		return &host.ExitError{Code: code, Err: err}
	}
	return nil
}
