package vm

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkRun measures Run, the run loop, on guest programs: threads (scheduling and syscalls), hashes
// and bigint (long blocks of arithmetic), maps and gcchurn (memory-bound, the garbage collector), and
// longrun (221 M steps of all of these, the program of bench vm's figures). Each iteration runs the
// program from its loaded state to its exit; steps/s is the figure to compare.
func BenchmarkRun(b *testing.B) {
	for _, name := range []string{"threads", "hashes", "bigint", "maps", "gcchurn", "longrun"} {
		b.Run(name, func(b *testing.B) {
			loaded, _, err := LoadProgram(guestELF(b, name))
			if err != nil {
				b.Fatal(err)
			}
			var steps uint64
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				s := loaded.Copy()
				m := NewVM(s, NewMemoryOracle(), nil, nil)
				b.StartTimer()
				start := time.Now()
				if err := m.Run(0); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				steps += s.Step
			}
			b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
		})
	}
}

// BenchmarkMerkleRoot measures hashing a memory none of whose pages is hashed yet, as at the end of a run
// from a loaded state: 4096 pages whose 64-byte chunks hold data with the given probability (a program's
// heap is mostly zero chunks; its code and data are not), on all CPUs.
func BenchmarkMerkleRoot(b *testing.B) {
	for _, tc := range []struct {
		name string
		data float64 // probability that a chunk holds data
	}{{"dense", 1}, {"half", 0.5}, {"sparse", 0.05}} {
		b.Run(tc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			const pages = 4096
			contents := make([][PageSize]byte, pages)
			for i := range contents {
				for off := 0; off < PageSize; off += 64 {
					if rng.Float64() < tc.data {
						contents[i][off+rng.IntN(64)] = byte(1 + rng.IntN(255))
					}
				}
			}
			b.SetBytes(pages * PageSize)
			for b.Loop() {
				b.StopTimer()
				m := NewMemory()
				for i := range contents {
					m.SetRange(uint64(i)*PageSize, contents[i][:])
				}
				b.StartTimer()
				m.MerkleRoot()
			}
		})
	}
}
