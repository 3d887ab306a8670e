package crosscheck

import (
	"io"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// BenchmarkCannonRun runs the threads guest to exit in Cannon, for
// comparison with BenchmarkOursRun (and vm.BenchmarkRun).
func BenchmarkCannonRun(b *testing.B) {
	path := guestPath(b, "threads")
	logger := log.NewLogger(log.DiscardHandler())
	var steps uint64
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		cs, meta := cannonLoad(b, path)
		cvm := cs.CreateVM(logger, vm.NewMemoryOracle(), io.Discard, io.Discard, meta)
		start := time.Now()
		for !cs.GetExited() {
			_, err := cvm.Step(false)
			require.NoError(b, err)
		}
		elapsed += time.Since(start)
		steps += cs.GetStep()
	}
	b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
}

// BenchmarkOursRun is BenchmarkCannonRun for the vm package, stepping
// through the public Step method like Cannon's run loop.
func BenchmarkOursRun(b *testing.B) {
	path := guestPath(b, "threads")
	var steps uint64
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		s, _ := ourLoad(b, path)
		m := vm.NewVM(s, vm.NewMemoryOracle(), io.Discard, io.Discard)
		start := time.Now()
		for !s.Exited {
			_, err := m.Step(false)
			require.NoError(b, err)
		}
		elapsed += time.Since(start)
		steps += s.Step
	}
	b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
}
