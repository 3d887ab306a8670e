// Command fpp-client is the fault proof program alone: it reads the preimage and hint channels on file
// descriptors 3-6 and exits 0 if the claim is valid, 1 if it is not, and 2 if it cannot decide. It is
// what 'faultproof host --exec' runs and what the VM's prestate is built from.
//
// The VM does not implement the prctl that Go 1.25+ uses to name memory mappings: decoratemappings=0
// turns it off.
//
//go:debug decoratemappings=0
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/preimage"
)

// programMode selects the claims the program decides: empty for output-root claims, "interop" for
// super-root claims (the super dispute game's program). It is set at build time with
// -ldflags=-X=main.programMode=interop: as op-program's interop client, it is a program, and prestate, of
// its own, because the super game serves only local keys 1-4 and nothing tells the two kinds of claim apart.
var programMode string

func main() {
	logger := log.NewLogger(log.LogfmtHandlerWithLevel(os.Stdout, log.LevelInfo))
	oracle := preimage.NewOracleClient(preimageChannel())
	hinter := preimage.NewHintWriter(hintChannel())
	// Inside the VM (mips64) recomputing blob commitments would cost tens of billions of steps; the on-chain
	// oracle already proves each field element against its commitment. Natively the check is cheap.
	opts := client.Options{SkipBlobCommitments: runtime.GOARCH == "mips64"}
	var err error
	switch programMode {
	case "":
		err = client.RunWithOptions(logger, oracle, hinter, opts)
	case "interop":
		err = client.RunInterop(logger, oracle, hinter, opts)
	default:
		err = fmt.Errorf("program built with an unknown mode %q", programMode)
	}
	if err != nil {
		logger.Error("Program finished", "err", err)
	}
	os.Exit(client.ExitCode(err))
}
