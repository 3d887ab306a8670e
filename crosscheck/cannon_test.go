// Package crosscheck holds differential tests that run faultproof's vm
// package side by side with Cannon (github.com/ethereum-optimism/optimism
// v1.19.6, state version multithreaded64-5) and require identical results.
package crosscheck

import (
	"bytes"
	"testing"

	"github.com/ethereum-optimism/optimism/cannon/mipsevm/memory"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/multithreaded"

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
	if got := [32]byte(memory.NewMemory().MerkleRoot()); got != vm.EmptyMemoryRoot {
		t.Fatalf("empty memory root: cannon %x, ours %x", got, vm.EmptyMemoryRoot)
	}
	_, ch := multithreaded.CreateEmptyState().EncodeWitness()
	if oh := vm.NewState(0, 0).Hash(); oh != ch {
		t.Fatalf("empty state hash: cannon %s, ours %s", ch, oh)
	}
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
					if ch, oh := p.hashes(); ch != oh {
						t.Fatalf("step %d: state hash cannon %x, ours %x", step, ch, oh)
					}
				}
				if _, err := cannonStep(p.cvm, false); err != nil {
					t.Fatalf("cannon step %d: %v", step, err)
				}
				if _, err := p.ovm.Step(false); err != nil {
					t.Fatalf("our step %d: %v", step, err)
				}
				if p.os.Exited != p.cs.GetExited() {
					t.Fatalf("step %d: exited cannon %v, ours %v", step, p.cs.GetExited(), p.os.Exited)
				}
			}
			ch, oh := p.hashes()
			if ch != oh {
				t.Fatalf("final state hash cannon %x, ours %x", ch, oh)
			}
			if p.cs.GetStep() != p.os.Step || p.cs.GetExitCode() != p.os.ExitCode {
				t.Fatalf("cannon: %d steps, exit %d; ours: %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode)
			}
			if p.cOut.String() != p.oOut.String() {
				t.Fatalf("stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
			}
			if !bytes.Equal(serializeCannon(t, p.cs), serializeOurs(t, p.os)) {
				t.Fatal("final serialized states differ")
			}
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
				if err != nil {
					t.Fatalf("cannon step %d: %v", step, err)
				}
				ow, err := p.ovm.Step(proof)
				if err != nil {
					t.Fatalf("our step %d: %v", step, err)
				}
				if !proof {
					continue
				}
				if !bytes.Equal(cw.State, ow.State) || cw.StateHash != ow.StateHash {
					t.Fatalf("step %d: witness state differs", step)
				}
				// Cannon also refreshes the second memory proof on fast
				// clock_gettime steps, so steps that do not use it may carry a
				// different stale value there (the contract ignores it).
				n := len(ow.ProofData)
				if !usesSecondProof {
					n -= vm.MemProofSize
				}
				if len(cw.ProofData) != len(ow.ProofData) || !bytes.Equal(cw.ProofData[:n], ow.ProofData[:n]) {
					t.Fatalf("step %d: proof data differs (first difference at byte %d)", step, firstDiff(cw.ProofData, ow.ProofData))
				}
				if usesSecondProof {
					secondProofs++
				}
				if isSys {
					syscalls[num]++
				}
				if cw.HasPreimage() != ow.HasPreimage() || cw.PreimageKey != ow.PreimageKey ||
					!bytes.Equal(cw.PreimageValue, ow.PreimageValue) || cw.PreimageOffset != ow.PreimageOffset {
					t.Fatalf("step %d: pre-image witness differs", step)
				}
				if ow.HasPreimage() {
					withPreimage++
				}
				compared++
			}
			if ch, oh := p.hashes(); ch != oh {
				t.Fatal("final states differ")
			}
			t.Logf("%s: %d witnesses identical (%d with pre-image data, %d with two memory proofs); syscalls proven: %v", name, compared, withPreimage, secondProofs, syscalls)
			if name == "oracle" && withPreimage == 0 {
				t.Fatal("no pre-image witness compared")
			}
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
