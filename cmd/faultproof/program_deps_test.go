package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// forbiddenInProgram are the packages (and the packages below them) that must never be linked into the
// fault proof program: networking and RPC clients, the host, the VM, the devnet. The program reads
// everything through the preimage oracle; what it links beyond that is dead weight in the ELF at best
// and a hidden input at worst.
var forbiddenInProgram = []string{
	"github.com/ethereum/go-ethereum/rpc",
	"github.com/ethereum/go-ethereum/ethclient",
	"github.com/ethereum/go-ethereum/beacon/engine", // what brought rpc in: use rollup.PayloadAttributes
	"github.com/ethereum/go-ethereum/node",
	"github.com/ethereum/go-ethereum/p2p",
	"github.com/ethereum/go-ethereum/eth",
	"github.com/ethereum/go-ethereum/miner",
	"github.com/gorilla/websocket",
	"github.com/cockroachdb/pebble",
	"github.com/faultproof/faultproof/host",
	"github.com/faultproof/faultproof/vm",
	"github.com/faultproof/faultproof/devnet",
	"github.com/faultproof/faultproof/cmd/faultproof",
}

// knownInProgram are packages the program links although it never uses them, each with the packages it
// may come through. They come with op-geth and brotli, not from our code: a new importer fails the test
// (keep them from spreading), and so does an entry that no longer holds (the list must say what is
// linked). Removing them takes changes to dependencies:
//   - net/http: brotli's HTTP helper (brotli/http.go, in the same package as the decoder) and otel's
//     propagation package (below). A decoder-only brotli, or our own, would drop brotli's.
//   - os/exec: gopsutil's common package, through op-geth's metrics (CPU stats), which core, state and
//     trie import for their meters. Only an op-geth patch in the prestate's build tree would drop it.
//   - go.opentelemetry.io/otel: op-geth's internal/telemetry, which core and consensus/beacon import to
//     trace block processing. Again an op-geth patch (or an op-geth release without it).
var knownInProgram = map[string][]string{
	"net/http": {
		"github.com/andybalholm/brotli",
		"go.opentelemetry.io/otel/propagation",
	},
	"os/exec":                        {"github.com/shirou/gopsutil/internal/common"},
	"go.opentelemetry.io/otel":       {"github.com/ethereum/go-ethereum/internal/telemetry"},
	"github.com/shirou/gopsutil/cpu": {"github.com/ethereum/go-ethereum/metrics"},
}

// TestProgramDependencies lists the packages of cmd/fpp-client as the prestate builds them (mips64, the
// prestate's build tag) and fails on any forbidden one, naming what imports it. The interop build differs
// only in -ldflags=-X=main.programMode=interop, which sets a string and links the same packages.
func TestProgramDependencies(t *testing.T) {
	list := exec.Command("go", "list", "-deps", "-tags", prestateBuildTag, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./cmd/fpp-client")
	list.Dir = "../.."
	list.Env = append(os.Environ(), prestateBuildEnv...)
	out, err := list.Output()
	require.NoError(t, err, "go list: %s", exitStderr(err))

	importers := map[string][]string{} // package -> the listed packages that import it
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkgs = append(pkgs, fields[0])
		for _, imp := range fields[1:] {
			importers[imp] = append(importers[imp], fields[0])
		}
	}
	require.Contains(t, pkgs, "github.com/faultproof/faultproof/client", "the list is cmd/fpp-client's")

	var forbidden []string
	for _, p := range pkgs {
		for _, f := range forbiddenInProgram {
			if p == f || strings.HasPrefix(p, f+"/") {
				forbidden = append(forbidden, fmt.Sprintf("%s (imported by %v)", p, importers[p]))
			}
		}
	}
	require.Empty(t, forbidden, "packages the program must not link")
	for pkg, via := range knownInProgram {
		got := importers[pkg]
		slices.Sort(got)
		require.Equal(t, via, got, "what brings %s into the program (update knownInProgram if a dependency changed)", pkg)
	}
}

// exitStderr is what a failed command wrote on stderr.
func exitStderr(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}
