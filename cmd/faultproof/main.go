// Command faultproof is the OP Stack fault proof toolkit: it decides claims with the fault proof program
// in process, served by the preimage host (run), or runs the host alone for a program it starts as a child
// or for a VM (host); it runs the Cannon-compatible MIPS64 VM (vm), builds the program's prestate
// (prestate), reads chain configs, blocks and batches (configs, exec-block, batches), packs a run's
// preimages into one file (bundle), makes a devnet to settle disputes on (demo, devnet serve) and to play
// dispute games on (game), and measures it all (bench). Started as cannon, op-program or kona-host
// (symlinks made by install-links), it answers those tools' command lines, so that op-challenger can run
// it in their place.
//
// This package holds the commands and their flags; the demo's and the benchmarks' work is in
// internal/demo and internal/bench, the program run in the host's process in internal/inprocess.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
)

func newApp() *cli.App {
	return &cli.App{
		Name:  "faultproof",
		Usage: "OP Stack fault proofs: preimage host, fault proof program and Cannon-compatible VM",
		Description: "Exit codes: 0 the claim is valid, 1 the claim is invalid, 2 anything else " +
			"(bad flags, missing data, program failure).",
		Commands:             []*cli.Command{demoCommand, devnetCommand, runCommand, hostCommand, configsCommand, execBlockCommand, batchesCommand, benchCommand, vmCommand, prestateCommand, bundleCommand, gameCommand, installLinksCommand},
		EnableBashCompletion: true,
		// We print errors ourselves, once, and choose the exit code.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	os.Exit(run(os.Args))
}

// run runs the CLI that the binary's name asks for (see appFor) and returns the exit code.
func run(args []string) int {
	app, args := appFor(args)
	err := app.Run(args)
	if err == nil {
		return preimage.ExitValid
	}
	var exitErr *host.ExitError
	if errors.As(err, &exitErr) {
		switch {
		case exitErr.Code == preimage.ExitInvalid && exitErr.Err != nil:
			log.Warn("Exiting", "exit", exitErr.Code, "reason", exitErr.Err)
		case exitErr.Code == preimage.ExitInvalid:
			log.Warn("Claim is invalid", "exit", exitErr.Code)
		default:
			log.Error("Program failed", "exit", exitErr.Code, "err", exitErr)
		}
		return exitErr.Code
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", app.Name, err)
	return preimage.ExitFailure
}
