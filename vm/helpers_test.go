package vm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

const testPC = 0x1000

// rtype encodes a SPECIAL-format instruction.
func rtype(op, rs, rt, rd, sa, fun uint32) uint32 {
	return op<<26 | rs<<21 | rt<<16 | rd<<11 | sa<<6 | fun
}

// special encodes a SPECIAL (opcode 0) instruction.
func special(rs, rt, rd, sa, fun uint32) uint32 { return rtype(0, rs, rt, rd, sa, fun) }

// itype encodes an I-format instruction.
func itype(op, rs, rt uint32, imm uint16) uint32 {
	return op<<26 | rs<<21 | rt<<16 | uint32(imm)
}

// newTestVM returns a VM with one thread at testPC about to run insns.
func newTestVM(insns ...uint32) (*VM, *Thread, *bytes.Buffer) {
	s := NewState(testPC, HeapStart)
	for i, insn := range insns {
		writeInsn(s.Memory, testPC+uint64(4*i), insn)
	}
	out := new(bytes.Buffer)
	m := NewVM(s, NewMemoryOracle(), out, out)
	return m, s.CurrentThread(), out
}

// writeInsn stores one instruction in memory.
func writeInsn(mem *Memory, pc uint64, insn uint32) {
	w := mem.GetWord(pc &^ 7)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w)
	binary.BigEndian.PutUint32(b[pc&4:], insn)
	mem.SetWord(pc&^7, binary.BigEndian.Uint64(b[:]))
}

// mustStep steps once in proof mode and once (on a copy) in fast mode and
// checks that both give the same post-state.
func mustStep(t *testing.T, m *VM) {
	t.Helper()
	require.NoError(t, stepBoth(t, m), "step")
}

// stepBoth steps m with a witness and a copy of it without, returning the
// error (which must be the same for both) and failing the test when the
// post-states differ.
func stepBoth(t *testing.T, m *VM) error {
	t.Helper()
	fast := NewVM(m.state.Copy(), hintless{m.oracle.oracle}, nil, nil)
	_, errFast := fast.Step(false)
	_, errProof := m.Step(true)
	require.Equal(t, (errProof == nil), (errFast == nil), "fast step error %v, proof step error %v", errFast, errProof)
	require.False(t, errProof == nil && fast.state.Hash() != m.state.Hash(), "fast and proof steps disagree on the post-state")
	return errProof
}

// hintless forwards pre-image requests but drops hints.
type hintless struct{ PreimageOracle }

func (hintless) Hint([]byte) {}
