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
	"os"
	"runtime"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/preimage"
)

func main() {
	logger := log.NewLogger(log.LogfmtHandlerWithLevel(os.Stdout, log.LevelInfo))
	oracle := preimage.NewOracleClient(preimageChannel())
	hinter := preimage.NewHintWriter(hintChannel())
	// Inside the VM (mips64) recomputing blob commitments would cost tens of billions of steps; the on-chain
	// oracle already proves each field element against its commitment. Natively the check is cheap.
	err := client.RunWithOptions(logger, oracle, hinter, client.Options{SkipBlobCommitments: runtime.GOARCH == "mips64"})
	if err != nil {
		logger.Error("Program finished", "err", err)
	}
	os.Exit(client.ExitCode(err))
}
