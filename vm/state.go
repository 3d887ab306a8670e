package vm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// StateWitnessSize is the size of an encoded state witness.
const StateWitnessSize = 32 + 32 + 8 + 8 + 1 + 8 + 8 + 1 + 1 + 8 + 8 + 1 + 32 + 32 + 8

// Offsets of the fields that decide the VM status inside a state witness.
const (
	witnessExitCodeOffset = 32 + 32 + 8 + 8 + 1 + 8 + 8
	witnessExitedOffset   = witnessExitCodeOffset + 1
)

// State is the full state of the multithreaded VM.
//
// Threads live on two stacks; the active thread is the top of the right
// stack when TraverseRight is set, else the top of the left stack.
type State struct {
	// Version is the state version: which Cannon rules the VM applies. It is not part of the state
	// hash. Zero means LatestVersion.
	Version Version

	Memory *Memory

	PreimageKey common.Hash
	// PreimageOffset is the read offset into the current pre-image,
	// counting its 8-byte length prefix.
	PreimageOffset uint64

	// Heap is the address the next anonymous mmap returns.
	Heap uint64

	LLReservationStatus uint8
	LLAddress           uint64
	LLOwnerThread       uint64

	ExitCode uint8
	Exited   bool

	Step                        uint64
	StepsSinceLastContextSwitch uint64

	TraverseRight    bool
	LeftThreadStack  []*Thread
	RightThreadStack []*Thread
	NextThreadID     uint64

	// LastHint buffers hint bytes written to fd 4 that do not yet form a
	// complete hint. It is not part of the state hash.
	LastHint []byte
}

// NewState returns the state Cannon creates for a fresh program: one thread
// (id 0) about to execute pc, and the heap starting at heapStart.
func NewState(pc, heapStart uint64) *State {
	t := &Thread{Cpu: Cpu{PC: pc, NextPC: pc + 4}}
	return &State{
		Version:          LatestVersion,
		Memory:           NewMemory(),
		Heap:             heapStart,
		LeftThreadStack:  []*Thread{t},
		RightThreadStack: []*Thread{},
		NextThreadID:     1,
	}
}

// activeStack returns the stack holding the active thread.
func (s *State) activeStack() []*Thread {
	if s.TraverseRight {
		return s.RightThreadStack
	}
	return s.LeftThreadStack
}

// CurrentThread returns the active thread, or nil if the active stack is
// empty (which only happens in a corrupted state).
func (s *State) CurrentThread() *Thread {
	st := s.activeStack()
	if len(st) == 0 {
		return nil
	}
	return st[len(st)-1]
}

// ThreadCount returns the number of threads on both stacks.
func (s *State) ThreadCount() int {
	return len(s.LeftThreadStack) + len(s.RightThreadStack)
}

// VMStatus returns the status byte of the state: valid, invalid or panic
// once exited (exit code 0, 1 or other), unfinished otherwise.
func (s *State) VMStatus() uint8 { return vmStatus(s.Exited, s.ExitCode) }

func vmStatus(exited bool, exitCode uint8) uint8 {
	if !exited {
		return StatusUnfinished
	}
	switch exitCode {
	case 0:
		return StatusValid
	case 1:
		return StatusInvalid
	default:
		return StatusPanic
	}
}

// EncodeWitness returns the state witness (the packed form the MIPS64
// contract reads) and the state hash.
func (s *State) EncodeWitness() ([]byte, common.Hash) {
	out := make([]byte, 0, StateWitnessSize)
	root := s.Memory.MerkleRoot()
	out = append(out, root[:]...)
	out = append(out, s.PreimageKey[:]...)
	out = binary.BigEndian.AppendUint64(out, s.PreimageOffset)
	out = binary.BigEndian.AppendUint64(out, s.Heap)
	out = append(out, s.LLReservationStatus)
	out = binary.BigEndian.AppendUint64(out, s.LLAddress)
	out = binary.BigEndian.AppendUint64(out, s.LLOwnerThread)
	out = append(out, s.ExitCode, boolByte(s.Exited))
	out = binary.BigEndian.AppendUint64(out, s.Step)
	out = binary.BigEndian.AppendUint64(out, s.StepsSinceLastContextSwitch)
	out = append(out, boolByte(s.TraverseRight))
	left := ThreadStackRoot(s.LeftThreadStack)
	right := ThreadStackRoot(s.RightThreadStack)
	out = append(out, left[:]...)
	out = append(out, right[:]...)
	out = binary.BigEndian.AppendUint64(out, s.NextThreadID)
	return out, witnessHash(out)
}

// Hash returns the state hash.
func (s *State) Hash() common.Hash {
	_, h := s.EncodeWitness()
	return h
}

// StateHashFromWitness returns the state hash of an encoded state witness:
// its keccak256 with the top byte replaced by the VM status.
func StateHashFromWitness(w []byte) (common.Hash, error) {
	if len(w) != StateWitnessSize {
		return common.Hash{}, fmt.Errorf("invalid witness length %d, want %d", len(w), StateWitnessSize)
	}
	return witnessHash(w), nil
}

func witnessHash(w []byte) common.Hash {
	h := crypto.Keccak256Hash(w)
	h[0] = vmStatus(w[witnessExitedOffset] == 1, w[witnessExitCodeOffset])
	return h
}

// EncodeThreadWitness returns the active thread's encoding followed by the
// root of the rest of its stack, as a step proof starts with.
func (s *State) EncodeThreadWitness() ([]byte, error) {
	st := s.activeStack()
	if len(st) == 0 {
		return nil, ErrEmptyThreadStack
	}
	out := make([]byte, 0, ThreadWitnessSize)
	out = st[len(st)-1].AppendEncoding(out)
	inner := ThreadStackRoot(st[:len(st)-1])
	return append(out, inner[:]...), nil
}

// Copy returns a deep copy of the state.
func (s *State) Copy() *State {
	c := *s
	c.Memory = s.Memory.Copy()
	c.LeftThreadStack = copyThreads(s.LeftThreadStack)
	c.RightThreadStack = copyThreads(s.RightThreadStack)
	if s.LastHint != nil {
		c.LastHint = append([]byte{}, s.LastHint...)
	}
	return &c
}

func copyThreads(in []*Thread) []*Thread {
	out := make([]*Thread, len(in))
	for i, t := range in {
		ct := *t
		out[i] = &ct
	}
	return out
}
