package vm_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/onchain"
)

// fuzzOracle answers every key: the oracle guest's key with its pre-image, any other with bytes derived
// from the key, so that a mutated state that reads a pre-image can still step.
type fuzzOracle struct{}

func (fuzzOracle) Hint([]byte) {}

func (fuzzOracle) GetPreimage(k [32]byte) []byte {
	if k == vm.OracleGuestKey() {
		return []byte("the pre-image served to the guest")
	}
	return bytes.Repeat(crypto.Keccak256(k[:]), 1+int(k[31]%3))
}

// stepErrors are the errors with which a step may refuse a state: the cases where Cannon panics and the
// MIPS64 contract reverts.
var stepErrors = []error{
	vm.ErrInvalidInstruction, vm.ErrUnalignedPC, vm.ErrBranchInDelaySlot, vm.ErrJumpInDelaySlot,
	vm.ErrDivideByZero, vm.ErrUnrecognizedSyscall, vm.ErrPreimageOutOfBounds, vm.ErrEmptyThreadStack,
}

var contract struct {
	once  sync.Once
	mu    sync.Mutex
	chain *onchain.Chain
	err   error
}

// fuzzSeedStates returns states of guest programs at the start, at syscalls and along their run, cut
// down to the pages their next step may touch.
func fuzzSeedStates(tb testing.TB) [][]byte {
	var out [][]byte
	for _, name := range []string{"hello", "oracle", "threads", "exit3"} {
		s, _, err := vm.LoadProgram(vm.GuestELF(tb, name))
		require.NoError(tb, err)
		m := vm.NewVM(s, fuzzOracle{}, nil, nil)
		// The first syscall of each kind (number, and the fd of reads and writes).
		seen := map[[2]uint64]bool{}
		for step := 0; step < 2_000_000 && !s.Exited; step++ {
			t := s.CurrentThread()
			insn := uint32(s.Memory.GetWord(t.Cpu.PC&^7) >> (32 - 32*(t.Cpu.PC&4/4)))
			kind := [2]uint64{t.Registers[2]}
			if kind[0] == 5000 || kind[0] == 5001 { // read, write: each fd
				kind[1] = t.Registers[4]
			}
			atSyscall := insn == 0xc && !seen[kind]
			if step == 0 || atSyscall || step%200_000 == 100_000 {
				seen[kind] = seen[kind] || atSyscall
				var buf bytes.Buffer
				require.NoError(tb, vm.PruneMemory(s).Serialize(&buf))
				out = append(out, buf.Bytes())
			}
			_, err := m.Step(false)
			require.NoError(tb, err, "%s: step %d", name, s.Step)
		}
	}
	return out
}

// FuzzStateStep decodes mutated states and runs one step with a proof: no panic; a state that decodes
// serializes back to itself; the step either fails with one of the VM's errors or gives a witness that
// decodes (state witness, thread witness, instruction proof against the pre-state root), the fast step
// reaches the same post-state, and the MIPS64 contract, fed the witness, computes the same post-state.
//
// Long run: go test ./vm -run XXX -fuzz '^FuzzStateStep$' -fuzztime 30m -fuzzminimizetime 10x
func FuzzStateStep(f *testing.F) {
	if !vm.InFuzzWorker() {
		for _, seed := range fuzzSeedStates(f) {
			f.Add(seed)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := vm.DeserializeState(bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.Memory.PageCount() > 4096 {
			return // hashing every page: keep the fuzzer fast
		}
		var enc bytes.Buffer
		require.NoError(t, s.Serialize(&enc))
		again, err := vm.DeserializeState(bytes.NewReader(enc.Bytes()))
		require.NoError(t, err, "re-decoding")
		var enc2 bytes.Buffer
		if err := again.Serialize(&enc2); err != nil || !bytes.Equal(enc.Bytes(), enc2.Bytes()) {
			require.FailNow(t, "state does not round-trip")
		}
		witness, preHash := s.EncodeWitness()
		if h, err := vm.StateHashFromWitness(witness); err != nil || h != preHash {
			require.FailNow(t, fmt.Sprintf("state witness: %v", err))
		}
		t0 := s.CurrentThread()
		var pre vm.Thread
		if t0 != nil {
			pre = *t0
		}
		root := s.Memory.MerkleRoot()

		fast := vm.NewVM(s.Copy(), fuzzOracle{}, nil, nil)
		_, fastErr := fast.Step(false)
		m := vm.NewVM(s, fuzzOracle{}, nil, nil)
		wit, err := m.Step(true)
		if (err == nil) != (fastErr == nil) {
			require.FailNow(t, fmt.Sprintf("proof step: %v, fast step: %v", err, fastErr))
		}
		if err != nil {
			for _, known := range stepErrors {
				if errors.Is(err, known) {
					return
				}
			}
			require.FailNow(t, fmt.Sprintf("step failed with an error that is not the VM's: %v", err))
		}
		require.Equal(t, s.Hash(), fast.State().Hash(), "fast and proof steps disagree on the post-state")
		if !bytes.Equal(wit.State, witness) || wit.StateHash != preHash || len(wit.ProofData) != vm.ProofDataSize {
			require.FailNow(t, "step witness does not match the pre-state")
		}
		if s.Exited && t0 == nil {
			return
		}
		var tw vm.Thread
		if err := decodeThreadWitness(wit.ProofData[:vm.ThreadEncodingSize], &tw); err != nil || tw != pre {
			require.FailNow(t, fmt.Sprintf("thread witness: %v", err))
		}
		insnProof := wit.ProofData[vm.ThreadWitnessSize : vm.ThreadWitnessSize+vm.MemProofSize]
		_, ok := vm.VerifyMemoryProof(root, pre.Cpu.PC&^7, insnProof)
		require.True(t, ok, "instruction proof does not verify against the pre-state root")
		checkOnChain(t, wit, s.Hash())
	})
}

// decodeThreadWitness decodes a thread's encoding through its JSON-free form: the encoding of a thread
// with the decoded fields must give the same bytes.
func decodeThreadWitness(b []byte, out *vm.Thread) error {
	be := func(i int) uint64 {
		var v uint64
		for _, c := range b[i : i+8] {
			v = v<<8 | uint64(c)
		}
		return v
	}
	*out = vm.Thread{ThreadID: be(0), ExitCode: b[8], Exited: b[9] != 0}
	out.Cpu = vm.Cpu{PC: be(10), NextPC: be(18), LO: be(26), HI: be(34)}
	for i := range out.Registers {
		out.Registers[i] = be(42 + 8*i)
	}
	if !bytes.Equal(out.AppendEncoding(nil), b) {
		return fmt.Errorf("thread encoding does not round-trip (exited byte %d)", b[9])
	}
	return nil
}

// checkOnChain runs the step on the MIPS64 contract and requires its post-state.
func checkOnChain(t *testing.T, wit *vm.StepWitness, post common.Hash) {
	contract.once.Do(func() { contract.chain, contract.err = onchain.New() })
	if contract.err != nil {
		require.FailNow(t, fmt.Sprint(contract.err))
	}
	contract.mu.Lock()
	defer contract.mu.Unlock()
	c := contract.chain
	var local common.Hash
	if wit.HasPreimage() {
		var err error
		if wit.PreimageKey[0] == onchain.LocalKeyType {
			_, err = c.LoadPreimagePart(wit.PreimageKey, wit.PreimageValue, wit.PreimageOffset, local, nil)
		} else {
			err = c.SetPreimagePart(wit.PreimageKey, wit.PreimageValue, wit.PreimageOffset)
		}
		require.NoError(t, err, "loading the pre-image part")
	}
	got, _, err := c.Step(wit.State, wit.ProofData, local)
	require.NoError(t, err, "the contract refuses a step the VM takes")
	require.Equal(t, post, got, "contract post-state %s, ours %s", got, post)
}
