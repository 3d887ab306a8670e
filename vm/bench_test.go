package vm

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkRun measures Run, the run loop, on guest programs: threads (scheduling and syscalls), hashes
// and bigint (long blocks of arithmetic), maps and gcchurn (memory-bound, the garbage collector), and
// longrun (221 M steps of all of these, the program of bench vm's figures). Each iteration runs the
// program from its loaded state to its exit; steps/s is the figure to compare.
func BenchmarkRun(b *testing.B) {
	for _, name := range []string{"threads", "hashes", "bigint", "maps", "gcchurn", "longrun"} {
		b.Run(name, func(b *testing.B) {
			loaded, _, err := LoadProgram(guestELF(b, name))
			require.NoError(b, err)
			var steps uint64
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				s := loaded.Copy()
				m := NewVM(s, NewMemoryOracle(), nil, nil)
				b.StartTimer()
				start := time.Now()
				require.NoError(b, m.Run(0))
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

// cpuTime is the process's user and system CPU time: on a machine shared with other work, CPU time per
// step is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBlockOps measures what one guest instruction of a kind costs in the block executors (Go's
// runOps and, where built, the assembly one), in CPU time per step: a loop of 1,000 such instructions
// (registers 8-15 written from 16-31; loads and stores at the stack pointer, on a page written since it
// was hashed), closed by a jump.
func BenchmarkBlockOps(b *testing.B) {
	const code, data = 0x40_0000, 0x80_0000
	kinds := []struct {
		name string
		insn func(i int) uint32
	}{
		{"nop", func(int) uint32 { return 0 }},
		{"daddu", func(i int) uint32 { r := uint32(8 + i%8); return (r+8)<<21 | (r+16)<<16 | r<<11 | 0x2D }},
		{"ld", func(i int) uint32 { return 0x37<<26 | 29<<21 | uint32(8+i%8)<<16 | uint32(i%64)*8 }},
		{"sd", func(i int) uint32 { return 0x3F<<26 | 29<<21 | uint32(8+i%8)<<16 | uint32(i%64)*8 }},
	}
	for _, kind := range kinds {
		for _, asm := range []bool{false, true} {
			if asm && !asmBuilt {
				continue
			}
			b.Run(kind.name+map[bool]string{false: "/go", true: "/asm"}[asm], func(b *testing.B) {
				defer func(was bool) { useAsm = was }(useAsm)
				useAsm = asm
				s := NewState(code, HeapStart)
				for i := range 1000 {
					writeInsn(s.Memory, code+uint64(i)*4, kind.insn(i))
				}
				writeInsn(s.Memory, code+1000*4, 0x02<<26|code>>2) // j code, an empty delay slot
				for r := 1; r < 32; r++ {
					s.CurrentThread().Registers[r] = data + uint64(r)*64
				}
				s.Memory.SetWord(data, 1)
				m := NewVM(s, NewMemoryOracle(), nil, nil)
				const steps = 99_000 // within a scheduling quantum
				start, n := cpuTime(), 0
				for b.Loop() {
					s.StepsSinceLastContextSwitch = 0
					require.NoError(b, m.Run(steps))
					n++
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(n*steps), "cpu-ns/step")
			})
		}
	}
}
