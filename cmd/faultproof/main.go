// Command faultproof is the OP Stack fault proof toolkit: the preimage host, chain configs, the program, the
// VM and the demo. Started as cannon, op-program or kona-host (symlinks made by install-links), it answers
// those tools' command lines, so that op-challenger can run it in their place.
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
