// Package crosscheck holds differential tests that run faultproof's vm
// package side by side with Cannon (github.com/ethereum-optimism/optimism
// v1.19.6, state version multithreaded64-5) and require identical results.
package crosscheck

import (
	"testing"

	"github.com/ethereum-optimism/optimism/cannon/mipsevm/memory"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/multithreaded"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

var programs = []string{"hello", "threads", "oracle"}

func oracleKey() [32]byte {
	var k [32]byte
	k[0] = 2
	for i := 1; i < 32; i++ {
		k[i] = byte(i)
	}
	return k
}

var oraclePreimages = map[[32]byte][]byte{oracleKey(): []byte("the pre-image served to the guest")}

func TestEmptyRoots(t *testing.T) {
	got := [32]byte(memory.NewMemory().MerkleRoot())
	require.Equal(t, vm.EmptyMemoryRoot, got, "empty memory root: cannon %x, ours %x", got, vm.EmptyMemoryRoot)
	_, ch := multithreaded.CreateEmptyState().EncodeWitness()
	oh := vm.NewState(0, 0).Hash()
	require.Equal(t, ch, oh, "empty state hash: cannon %s, ours %s", ch, oh)
}

// TestLoadELF compares the state and metadata of load-elf.
func TestLoadELF(t *testing.T) {
	for _, name := range programs {
		t.Run(name, func(t *testing.T) { compareLoad(t, guestPath(t, name)) })
	}
}

// TestRunToExit runs each program to completion in both VMs, comparing
// state hashes at checkpoints on the way, and the final state, step count,
// exit code and stdout.
func TestRunToExit(t *testing.T) {
	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name == "threads" {
				t.Skip("slow")
			}
			p := newPair(t, name, oraclePreimages)
			checkpoints := map[uint64]bool{0: true, 1: true, 2: true, 10: true, 100: true, 1000: true, 10_000: true, 100_001: true, 250_000: true}
			for step := uint64(0); !p.os.Exited || !p.cs.GetExited(); step++ {
				if checkpoints[step] || step%500_000 == 0 {
					ch, oh := p.hashes()
					require.Equal(t, oh, ch, "step %d: state hash cannon %x, ours %x", step, ch, oh)
				}
				_, err := cannonStep(p.cvm, false)
				require.NoError(t, err, "cannon step %d", step)
				_, err = p.ovm.Step(false)
				require.NoError(t, err, "our step %d", step)
				require.Equal(t, p.cs.GetExited(), p.os.Exited, "step %d: exited cannon %v, ours %v", step, p.cs.GetExited(), p.os.Exited)
			}
			ch, oh := p.hashes()
			require.Equal(t, oh, ch, "final state hash cannon %x, ours %x", ch, oh)
			require.Equal(t, p.os.Step, p.cs.GetStep(), "cannon: %d steps, exit %d; ours: %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode)
			require.Equal(t, p.os.ExitCode, p.cs.GetExitCode(), "cannon: %d steps, exit %d; ours: %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode)
			require.Equal(t, p.oOut.String(), p.cOut.String(), "stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
			require.Equal(t, serializeOurs(t, p.os), serializeCannon(t, p.cs), "final serialized states differ")
			t.Logf("%s: %d steps, exit code %d, final state hash %x", name, p.os.Step, p.os.ExitCode, oh)
		})
	}
}

// TestStepWitnesses compares step witnesses in windows of consecutive proof
// steps spread over each program, including pre-image reads.
func TestStepWitnesses(t *testing.T) {
	windows := map[string][][2]uint64{
		"hello":   {{0, 3000}, {100_000, 101_000}, {440_000, 441_000}},
		"threads": {{0, 1000}, {99_500, 100_500}, {1_000_000, 1_001_000}, {4_000_000, 4_001_000}},
		"oracle":  {{0, 500}, {100_000, 101_000}, {450_000, 480_000}},
	}
	for _, name := range programs {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name == "threads" {
				t.Skip("slow")
			}
			p := newPair(t, name, oraclePreimages)
			compared, withPreimage, secondProofs := 0, 0, 0
			syscalls := map[uint64]int{}
			for step := uint64(0); !p.os.Exited; step++ {
				proof := false
				for _, w := range windows[name] {
					proof = proof || (step >= w[0] && step < w[1])
				}
				// Also prove every syscall: they have the most varied witnesses.
				num, isSys := nextSyscall(p.os)
				proof = proof || isSys
				usesSecondProof := isSys && num == 5222 // clock_gettime
				cw, err := cannonStep(p.cvm, proof)
				require.NoError(t, err, "cannon step %d", step)
				ow, err := p.ovm.Step(proof)
				require.NoError(t, err, "our step %d", step)
				if !proof {
					continue
				}
				require.Equal(t, ow.State, cw.State, "step %d: witness state differs", step)
				require.Equal(t, ow.StateHash, cw.StateHash, "step %d: witness state differs", step)
				// Cannon also refreshes the second memory proof on fast
				// clock_gettime steps, so steps that do not use it may carry a
				// different stale value there (the contract ignores it).
				n := len(ow.ProofData)
				if !usesSecondProof {
					n -= vm.MemProofSize
				}
				require.Len(t, cw.ProofData, len(ow.ProofData), "step %d: proof data differs (first difference at byte %d)", step, firstDiff(cw.ProofData, ow.ProofData))
				require.Equal(t, ow.ProofData[:n], cw.ProofData[:n], "step %d: proof data differs (first difference at byte %d)", step, firstDiff(cw.ProofData, ow.ProofData))
				if usesSecondProof {
					secondProofs++
				}
				if isSys {
					syscalls[num]++
				}
				require.Equal(t, ow.HasPreimage(), cw.HasPreimage(), "step %d: pre-image witness differs", step)
				require.Equal(t, ow.PreimageKey, cw.PreimageKey, "step %d: pre-image witness differs", step)
				require.Equal(t, ow.PreimageValue, cw.PreimageValue, "step %d: pre-image witness differs", step)
				require.Equal(t, ow.PreimageOffset, cw.PreimageOffset, "step %d: pre-image witness differs", step)
				if ow.HasPreimage() {
					withPreimage++
				}
				compared++
			}
			ch, oh := p.hashes()
			require.Equal(t, oh, ch, "final states differ")
			t.Logf("%s: %d witnesses identical (%d with pre-image data, %d with two memory proofs); syscalls proven: %v", name, compared, withPreimage, secondProofs, syscalls)
			require.False(t, name == "oracle" && withPreimage == 0, "no pre-image witness compared")
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// nextSyscall reports whether the next step of s executes a syscall
// instruction, and its number.
func nextSyscall(s *vm.State) (uint64, bool) {
	t := s.CurrentThread()
	if s.Exited || t.Exited || s.StepsSinceLastContextSwitch >= vm.SchedQuantum {
		return 0, false
	}
	w := s.Memory.GetWord(t.Cpu.PC &^ 7)
	insn := uint32(w >> (32 - (t.Cpu.PC&4)*8))
	return t.Registers[2], insn == 0x0000000C
}
