// Command faultproof is the OP Stack fault proof toolkit: the preimage host, chain configs, and (as they
// land) the program, the VM and the demo.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host"
)

// Exit codes. 0 and 1 are the program's verdict (claim valid, claim invalid); everything that is not a
// verdict exits 2, so that a broken setup can never be mistaken for an invalid claim.
const (
	exitValid   = 0
	exitInvalid = 1
	exitFailure = 2
)

func newApp() *cli.App {
	return &cli.App{
		Name:  "faultproof",
		Usage: "OP Stack fault proofs: preimage host, fault proof program and Cannon-compatible VM",
		Description: "Exit codes: 0 the claim is valid, 1 the claim is invalid, 2 anything else " +
			"(bad flags, missing data, program failure).",
		Commands:             []*cli.Command{demoCommand, devnetCommand, runCommand, hostCommand, configsCommand, execBlockCommand, batchesCommand, benchCommand, vmCommand, prestateCommand, bundleCommand, gameCommand},
		EnableBashCompletion: true,
		// We print errors ourselves, once, and choose the exit code.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int {
	err := newApp().Run(args)
	if err == nil {
		return exitValid
	}
	var exitErr *host.ExitError
	if errors.As(err, &exitErr) {
		switch {
		case exitErr.Code == exitInvalid && exitErr.Err != nil:
			log.Warn("Exiting", "exit", exitErr.Code, "reason", exitErr.Err)
		case exitErr.Code == exitInvalid:
			log.Warn("Claim is invalid", "exit", exitErr.Code)
		default:
			log.Error("Program failed", "exit", exitErr.Code, "err", exitErr)
		}
		return exitErr.Code
	}
	fmt.Fprintf(os.Stderr, "faultproof: %v\n", err)
	return exitFailure
}
