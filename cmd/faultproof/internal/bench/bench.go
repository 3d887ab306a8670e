// Package bench holds the benchmarks behind 'faultproof bench': native block re-execution through the
// preimage oracle (Native), the program's VM steps per claim on the demo's disputes (Program), our VM
// against Cannon's binary on one ELF (VM), and the online host's RPC requests per derived block with and
// without the witness fast path (Online). Each runs on the embedded devnet or a given ELF, needs no
// network, and writes a table; Summary runs them and puts every headline figure beside its anchor
// (anchors.go) in one Report, written as a table or as JSON. Package main only turns the flags into
// options.
package bench

import (
	"slices"
	"syscall"
	"time"
)

func median[T int64 | uint64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// peakRSS is the most memory this process has held (max RSS), in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
