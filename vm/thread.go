package vm

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ThreadEncodingSize is the size of an encoded Thread: id (8), exit code
// (1), exited (1), PC, NextPC, LO, HI (4x8) and 32 registers (32x8).
const ThreadEncodingSize = 8 + 1 + 1 + 4*8 + 32*8

// ThreadWitnessSize is the size of the thread part of a step proof: the
// encoded active thread and the root of the rest of its stack.
const ThreadWitnessSize = ThreadEncodingSize + 32

// EmptyThreadsRoot is the root of an empty thread stack,
// keccak256(bytes32(0) ++ bytes32(0)).
var EmptyThreadsRoot = common.Hash(crypto.Keccak256Hash(make([]byte, 64)))

// Cpu holds a thread's special registers.
type Cpu struct {
	PC     uint64 `json:"pc"`
	NextPC uint64 `json:"nextPC"`
	LO     uint64 `json:"lo"`
	HI     uint64 `json:"hi"`
}

// Thread is the state of one VM thread.
type Thread struct {
	ThreadID  uint64     `json:"threadId"`
	ExitCode  uint8      `json:"exit"`
	Exited    bool       `json:"exited"`
	Cpu       Cpu        `json:"cpu"`
	Registers [32]uint64 `json:"registers"`
}

// AppendEncoding appends the thread's big-endian encoding, the form used
// both in serialized states and in thread witnesses.
func (t *Thread) AppendEncoding(out []byte) []byte {
	out = binary.BigEndian.AppendUint64(out, t.ThreadID)
	out = append(out, t.ExitCode, boolByte(t.Exited))
	out = binary.BigEndian.AppendUint64(out, t.Cpu.PC)
	out = binary.BigEndian.AppendUint64(out, t.Cpu.NextPC)
	out = binary.BigEndian.AppendUint64(out, t.Cpu.LO)
	out = binary.BigEndian.AppendUint64(out, t.Cpu.HI)
	for _, r := range t.Registers {
		out = binary.BigEndian.AppendUint64(out, r)
	}
	return out
}

// decodeThread parses a thread encoded by AppendEncoding. As in Cannon, any
// non-zero exited byte reads as true.
func decodeThread(b []byte) (*Thread, error) {
	if len(b) != ThreadEncodingSize {
		return nil, fmt.Errorf("thread encoding has %d bytes, want %d", len(b), ThreadEncodingSize)
	}
	t := &Thread{
		ThreadID: binary.BigEndian.Uint64(b[0:]),
		ExitCode: b[8],
		Exited:   b[9] != 0,
	}
	t.Cpu.PC = binary.BigEndian.Uint64(b[10:])
	t.Cpu.NextPC = binary.BigEndian.Uint64(b[18:])
	t.Cpu.LO = binary.BigEndian.Uint64(b[26:])
	t.Cpu.HI = binary.BigEndian.Uint64(b[34:])
	for i := range t.Registers {
		t.Registers[i] = binary.BigEndian.Uint64(b[42+8*i:])
	}
	return t, nil
}

// Hash returns keccak256 of the thread's encoding.
func (t *Thread) Hash() common.Hash {
	var buf [ThreadEncodingSize]byte
	return crypto.Keccak256Hash(t.AppendEncoding(buf[:0]))
}

// pushThreadRoot returns the root of a stack with root prev after pushing t:
// keccak256(prev ++ keccak256(encode(t))).
func pushThreadRoot(prev common.Hash, t *Thread) common.Hash {
	th := t.Hash()
	return crypto.Keccak256Hash(prev[:], th[:])
}

// ThreadStackRoot returns the hash onion of a thread stack (bottom first).
func ThreadStackRoot(stack []*Thread) common.Hash {
	root := EmptyThreadsRoot
	for _, t := range stack {
		root = pushThreadRoot(root, t)
	}
	return root
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
