package vm

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// ProofDataSize is the size of StepWitness.ProofData: the thread witness,
// the proof of the instruction word and two memory proofs.
const ProofDataSize = ThreadWitnessSize + 3*MemProofSize

// StepWitness is what the MIPS64 contract needs to verify one step: the
// pre-state witness, the proof data and, when the step read a pre-image,
// the pre-image part the oracle contract must hold.
type StepWitness struct {
	// State is the encoded pre-state (StateWitnessSize bytes).
	State []byte
	// StateHash is the hash of the pre-state.
	StateHash common.Hash
	// ProofData is the active thread (encoded) and the root of the rest of
	// its stack, then the memory proof of the instruction, then up to two
	// memory proofs for the data the step accessed. A memory proof the step
	// does not need holds whatever the last proof step that used it left
	// there, as in Cannon; the contract ignores it.
	ProofData []byte

	// PreimageKey is the key read this step (zero when none was read).
	PreimageKey [32]byte
	// PreimageValue is the pre-image with its 8-byte length prefix.
	PreimageValue []byte
	// PreimageOffset is the offset the step read at.
	PreimageOffset uint64
}

// HasPreimage reports whether the step read pre-image data.
func (w *StepWitness) HasPreimage() bool { return w.PreimageKey != [32]byte{} }

// Step executes one step. With proof set it also returns the witness for
// proving the step on chain; without, it returns a nil witness and does no
// hashing. Both modes produce the same post-state.
func (m *VM) Step(proof bool) (*StepWitness, error) {
	if m.versionErr != nil {
		return nil, m.versionErr
	}
	m.oracle.resetStep()
	m.proof = proof
	m.lastMemAccess = ^uint64(0)
	if !proof {
		return nil, m.step()
	}

	s := m.state
	t := s.CurrentThread()
	if t == nil {
		return nil, ErrEmptyThreadStack
	}
	data := make([]byte, 0, ProofDataSize)
	data = t.AppendEncoding(data)
	inner := ThreadStackRoot(s.activeStack()[:len(s.activeStack())-1])
	data = append(data, inner[:]...)
	insnProof := m.mem.MerkleProof(t.Cpu.PC)
	data = append(data, insnProof[:]...)
	enc, hash := s.EncodeWitness()
	wit := &StepWitness{State: enc, StateHash: hash}

	err := m.step()
	m.proof = false
	if err != nil {
		return nil, err
	}
	data = append(data, m.memProof[:]...)
	data = append(data, m.memProof2[:]...)
	wit.ProofData = data
	if key, value, offset := m.LastPreimage(); offset != ^uint64(0) {
		wit.PreimageKey = key
		wit.PreimageValue = value
		wit.PreimageOffset = offset
	}
	return wit, nil
}

// trackMem records the proof of the word at addr for the step witness,
// taken before the step changes it. A step accesses at most one word
// through trackMem (repeated accesses to it are free).
func (m *VM) trackMem(addr uint64) {
	if !m.proof || m.lastMemAccess == addr {
		return
	}
	if m.lastMemAccess != ^uint64(0) {
		panic(fmt.Sprintf("vm: second memory access at %#x in one step (first at %#x)", addr, m.lastMemAccess))
	}
	m.lastMemAccess = addr
	m.memProof = m.mem.MerkleProof(addr)
}

// trackMem2 records the proof for the word following the one recorded by
// trackMem, taken after the first word was written.
func (m *VM) trackMem2(addr uint64) {
	if !m.proof {
		return
	}
	if m.lastMemAccess+8 != addr {
		panic(fmt.Sprintf("vm: memory access at %#x does not follow %#x", addr, m.lastMemAccess))
	}
	m.lastMemAccess = addr
	m.memProof2 = m.mem.MerkleProof(addr)
}
