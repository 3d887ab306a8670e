package vm

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomProgram writes n random instructions from code on: mostly the instructions blocks execute, with
// branches and jumps into the program, loads and stores near data and into the code itself (whose
// decoded blocks must then be dropped), and now and then one that blocks leave to the other paths
// (divisions, linking branches, unaligned loads, load-linked/store-conditional, invalid instructions).
func randomProgram(rng *rand.Rand, mem *Memory, code, data uint64, n int) {
	reg := func() uint32 { return uint32(rng.IntN(32)) }
	// Registers 1-9 hold addresses (see randomRegisters); the rest are any value.
	base := func() uint32 { return uint32(1 + rng.IntN(9)) }
	rType := func(fun uint32) uint32 { return reg()<<21 | reg()<<16 | reg()<<11 | uint32(rng.IntN(32))<<6 | fun }
	iType := func(op uint32, rs uint32) uint32 { return op<<26 | rs<<21 | reg()<<16 | uint32(rng.IntN(1<<16)) }
	branchOff := func() uint32 { return uint32(int16(rng.IntN(41)-20)) & 0xFFFF }
	special := []uint32{0x00, 0x02, 0x03, 0x04, 0x06, 0x07, 0x0A, 0x0B, 0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17,
		0x18, 0x19, 0x1C, 0x1D, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
		0x38, 0x3A, 0x3B, 0x3C, 0x3E, 0x3F}
	emptySlot := false // the previous instruction is a branch or jump whose delay slot is to be a nop
	for i := 0; i < n; i++ {
		pc := code + uint64(i)*4
		var insn uint32
		if emptySlot {
			emptySlot = false
			if rng.IntN(2) == 0 {
				insn = rType(0x25) &^ (0x1F << 11) // or with rd = 0, a nop too
			}
			writeInsn(mem, pc, insn)
			continue
		}
		switch k := rng.IntN(100); {
		case k < 30: // SPECIAL arithmetic; rd = 0 now and then, HI/LO functions with rd = 0 mostly
			insn = rType(special[rng.IntN(len(special))])
			if f := insn & 0x3F; (f == 0x11 || f == 0x13 || f == 0x18 || f == 0x19 || f == 0x1C || f == 0x1D) && rng.IntN(8) != 0 {
				insn &^= 0x1F << 11
			}
		case k < 45: // immediate arithmetic
			insn = iType([]uint32{0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x18, 0x19}[rng.IntN(10)], reg())
		case k < 60: // loads near the addresses in registers 1-9
			insn = iType([]uint32{0x20, 0x21, 0x23, 0x24, 0x25, 0x27, 0x37}[rng.IntN(7)], base())&^0xFFFF | uint32(rng.IntN(64))
		case k < 70: // stores, into the code too (registers 1-3 point into it)
			insn = iType([]uint32{0x28, 0x29, 0x2B, 0x3F}[rng.IntN(4)], base())&^0xFFFF | uint32(rng.IntN(64))
		case k < 80: // branches within the program
			op := []uint32{0x04, 0x05, 0x06, 0x07, 0x01}[rng.IntN(5)]
			insn = op<<26 | reg()<<21 | reg()<<16 | branchOff()
			if op == 0x01 {
				insn = insn&^(0x1F<<16) | []uint32{0x00, 0x01, 0x02, 0x03}[rng.IntN(4)]<<16
			}
		case k < 84: // j, jal into the program
			target := code + uint64(rng.IntN(n))*4
			insn = uint32(0x02+rng.IntN(2))<<26 | uint32(target>>2)&0x03FF_FFFF
		case k < 87: // jr, jalr through the code pointers of registers 1-3
			insn = uint32(rng.IntN(3)+1)<<21 | reg()<<11 | []uint32{0x08, 0x09}[rng.IntN(2)]
		case k < 90: // SPECIAL2
			insn = 0x1C<<26 | rType([]uint32{0x02, 0x20, 0x21, 0x24, 0x25}[rng.IntN(5)])
		case k < 97: // nop
		default: // left to the other paths
			switch rng.IntN(6) {
			case 0:
				insn = rType([]uint32{0x1A, 0x1B, 0x1E, 0x1F}[rng.IntN(4)])
			case 1:
				insn = 0x01<<26 | base()<<21 | []uint32{0x10, 0x11}[rng.IntN(2)]<<16 | branchOff()
			case 2:
				insn = iType([]uint32{0x22, 0x26, 0x1A, 0x1B, 0x2A, 0x2E, 0x2C, 0x2D}[rng.IntN(8)], base())
			case 3:
				insn = iType([]uint32{0x30, 0x38, 0x34, 0x3C}[rng.IntN(4)], base())&^0xFFFF | uint32(rng.IntN(8))*8
			case 4:
				insn = rType(0x0F) // sync
			default:
				insn = rng.Uint32() // mostly invalid
				if insn>>26 == 0 && insn&0x3F == 0x0C {
					insn |= 1 // no syscall
				}
			}
		}
		writeInsn(mem, pc, insn)
		// Go's compiler leaves most delay slots empty.
		if op := insn >> 26; (op >= 0x01 && op <= 0x07 || op == 0 && (insn&0x3F == 0x08 || insn&0x3F == 0x09)) && rng.IntN(4) != 0 {
			emptySlot = true
		}
	}
	mem.SetWord(data, rng.Uint64())
}

// randomRegisters sets registers 1-3 to addresses in the code, 4-9 to addresses in data, the rest to any
// value (register 0 too: a state may hold one).
func randomRegisters(rng *rand.Rand, th *Thread, code, data uint64, n int) {
	for r := range th.Registers {
		switch {
		case r >= 1 && r <= 3:
			th.Registers[r] = code + uint64(rng.IntN(n))*4
		case r >= 4 && r <= 9:
			th.Registers[r] = data + uint64(rng.IntN(2*PageSize))
		case rng.IntN(2) == 0:
			th.Registers[r] = uint64(rng.IntN(64))
		default:
			th.Registers[r] = rng.Uint64()
		}
	}
}

// TestRunBlocksMatchStep runs random programs (see randomProgram) with Run in chunks of random sizes next
// to Step, comparing the states after each chunk: blocks must give exactly the reference step's effects,
// whatever their length, wherever they are entered, across page ends, with stores into their own code and
// with budgets that end inside them.
func TestRunBlocksMatchStep(t *testing.T) {
	executors(t, testRunBlocksMatchStep)
}

// executors runs test with each block executor this build has: runOps, and the assembly one where it is
// built.
func executors(t *testing.T, test func(t *testing.T)) {
	defer func(was bool) { useAsm = was }(useAsm)
	for _, asm := range []bool{false, true} {
		if asm && !asmBuilt {
			continue
		}
		useAsm = asm
		t.Run(map[bool]string{false: "go", true: "asm"}[asm], test)
	}
}

func testRunBlocksMatchStep(t *testing.T) {
	programs := 2000
	if testing.Short() {
		programs = 300
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for prog := 0; prog < programs; prog++ {
		checkRandomProgram(t, rng, prog)
	}
}

// FuzzRunBlocksMatchStep is TestRunBlocksMatchStep with the random programs drawn from the fuzzer's
// seeds, for long runs (go test -run XXX -fuzz FuzzRunBlocksMatchStep ./vm), with each block executor.
func FuzzRunBlocksMatchStep(f *testing.F) {
	f.Add(uint64(7), uint64(8))
	f.Add(uint64(1), uint64(2))
	f.Fuzz(func(t *testing.T, seed1, seed2 uint64) {
		defer func(was bool) { useAsm = was }(useAsm)
		for _, asm := range []bool{false, true} {
			if asm && !asmBuilt {
				continue
			}
			useAsm = asm
			checkRandomProgram(t, rand.New(rand.NewPCG(seed1, seed2)), 0)
		}
	})
}

// checkRandomProgram makes one random program from rng and runs it with Run in chunks of random sizes
// next to Step, comparing the states after each chunk.
func checkRandomProgram(t *testing.T, rng *rand.Rand, prog int) {
	// The program straddles a page end now and then, so that blocks and delay slots meet it.
	code := uint64(0x40_0000) + uint64(rng.IntN(3))*PageSize - uint64(rng.IntN(64))*4
	data := uint64(0x80_0000)
	n := 64 + rng.IntN(512)
	s := NewState(code, HeapStart)
	randomProgram(rng, s.Memory, code, data, n)
	randomRegisters(rng, s.CurrentThread(), code, data, n)
	if rng.IntN(3) == 0 {
		s.LLReservationStatus, s.LLAddress, s.LLOwnerThread = 1, data+uint64(rng.IntN(64))*8, 0
	}
	fast, ref := s.Copy(), s.Copy()
	fm, rm := NewVM(fast, NewMemoryOracle(), nil, nil), NewVM(ref, NewMemoryOracle(), nil, nil)
	for chunk := 0; chunk < 40 && !ref.Exited; chunk++ {
		steps := uint64(1 + rng.IntN(200))
		fastErr := fm.Run(steps)
		var refErr error
		for range steps {
			if _, refErr = rm.Step(false); refErr != nil || ref.Exited {
				break
			}
		}
		if refErr != nil {
			require.Error(t, fastErr, "program %d chunk %d: step %d: %v; fast at step %d pc %x", prog, chunk, ref.Step, refErr, fast.Step, fast.CurrentThread().Cpu.PC)
			require.Equal(t, refErr.Error(), fastErr.Error(), "program %d chunk %d", prog, chunk)
			break
		}
		require.NoError(t, fastErr, "program %d chunk %d", prog, chunk)
		require.NoError(t, sameStepState(fast, ref), "program %d chunk %d", prog, chunk)
		if rng.IntN(4) == 0 {
			// Hashes now valid must be invalidated by the writes that follow.
			require.Equal(t, ref.Hash(), fast.Hash(), "program %d chunk %d", prog, chunk)
		}
	}
	require.Equal(t, ref.Hash(), fast.Hash(), "program %d", prog)
}

// TestRunWhileHashingInBackground runs guest programs from decoded states whose memory is hashed in the
// background during the run, as vm run does: the final states and hashes are those of a plain run.
func TestRunWhileHashingInBackground(t *testing.T) {
	executors(t, testRunWhileHashingInBackground)
}

func testRunWhileHashingInBackground(t *testing.T) {
	for _, name := range []string{"hello", "gcchurn"} {
		t.Run(name, func(t *testing.T) {
			loaded, _, err := LoadProgram(guestELF(t, name))
			require.NoError(t, err)
			encoded := serialize(t, loaded)
			run := func(background bool) *State {
				s, err := DeserializeState(bytes.NewReader(encoded))
				require.NoError(t, err)
				if background {
					s.Memory.HashInBackground()
				}
				require.NoError(t, NewVM(s, NewMemoryOracle(), nil, nil).Run(0))
				return s
			}
			plain, bg := run(false), run(true)
			require.True(t, bg.Exited)
			require.Equal(t, plain.Hash(), bg.Hash())
			require.Equal(t, serialize(t, plain), serialize(t, bg))
		})
	}
}
