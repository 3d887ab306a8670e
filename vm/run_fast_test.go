package vm

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// sameStepState reports the first difference between two states in what a
// step can change outside memory: counters, scheduling, the reservation,
// the pre-image cursor and the active thread's registers.
func sameStepState(a, b *State) error {
	switch {
	case a.Step != b.Step:
		return fmt.Errorf("step %d vs %d", a.Step, b.Step)
	case a.StepsSinceLastContextSwitch != b.StepsSinceLastContextSwitch:
		return fmt.Errorf("steps since context switch %d vs %d", a.StepsSinceLastContextSwitch, b.StepsSinceLastContextSwitch)
	case a.Exited != b.Exited || a.ExitCode != b.ExitCode:
		return fmt.Errorf("exit %v/%d vs %v/%d", a.Exited, a.ExitCode, b.Exited, b.ExitCode)
	case a.TraverseRight != b.TraverseRight || len(a.LeftThreadStack) != len(b.LeftThreadStack) || len(a.RightThreadStack) != len(b.RightThreadStack):
		return errors.New("thread stacks differ")
	case a.LLReservationStatus != b.LLReservationStatus || a.LLAddress != b.LLAddress || a.LLOwnerThread != b.LLOwnerThread:
		return errors.New("reservations differ")
	case a.Heap != b.Heap || a.PreimageKey != b.PreimageKey || a.PreimageOffset != b.PreimageOffset || a.NextThreadID != b.NextThreadID:
		return errors.New("heap, pre-image cursor or next thread id differ")
	}
	ta, tb := a.CurrentThread(), b.CurrentThread()
	if (ta == nil) != (tb == nil) || ta != nil && *ta != *tb {
		return fmt.Errorf("active thread differs:\n%+v\n%+v", ta, tb)
	}
	return nil
}

// TestRunMatchesStep runs guest programs with Run one step at a time (so
// that Run's fast path executes every instruction it can on its own) next
// to Step, comparing the states after every step and their hashes every
// 20,000 steps; and with Run in chunks of irregular sizes (so that batches
// end at scheduling events, chunk ends and the instructions Run leaves to
// Step), comparing the hashes at each chunk's end.
func TestRunMatchesStep(t *testing.T) {
	guests := []string{"hello", "oracle", "threads", "mutex", "timers", "exit3", "panic", "badsyscall", "badinsn",
		"maps", "bigint", "hashes", "gcchurn"}
	if testing.Short() {
		guests = guests[:9]
	}
	for _, name := range guests {
		t.Run(name, func(t *testing.T) {
			oracle := func() PreimageOracle {
				o := NewMemoryOracle()
				o.Set(OracleGuestKey(), []byte("the pre-image served to the guest"))
				return o
			}
			data := guestELF(t, name)
			load := func() *State {
				s, _, err := LoadProgram(data)
				require.NoError(t, err)
				return s
			}

			// One step at a time.
			fast, ref := load(), load()
			fm, rm := NewVM(fast, oracle(), nil, nil), NewVM(ref, oracle(), nil, nil)
			var fastErr, refErr error
			for !ref.Exited {
				fastErr = fm.Run(1)
				_, refErr = rm.Step(false)
				require.Equal(t, (refErr == nil), (fastErr == nil), "step %d: Run: %v, Step: %v", ref.Step, fastErr, refErr)
				require.False(t, fastErr != nil && fastErr.Error() != refErr.Error(), "step %d: Run: %v, Step: %v", ref.Step, fastErr, refErr)
				if refErr != nil {
					break
				}
				require.NoError(t, sameStepState(fast, ref), "after step %d", ref.Step)
				fk, fv, fo := fm.LastPreimage()
				rk, rv, ro := rm.LastPreimage()
				require.Equal(t, rk, fk, "after step %d: last pre-image differs", ref.Step)
				require.Equal(t, rv, fv, "after step %d: last pre-image differs", ref.Step)
				require.Equal(t, ro, fo, "after step %d: last pre-image differs", ref.Step)
				require.False(t, ref.Step%20_000 == 0 && fast.Hash() != ref.Hash(), "after step %d: state hashes differ", ref.Step)
			}
			require.Equal(t, serialize(t, ref), serialize(t, fast), "final states differ")
			steps := ref.Step

			// Irregular chunks.
			fast, ref = load(), load()
			fm, rm = NewVM(fast, oracle(), nil, nil), NewVM(ref, oracle(), nil, nil)
			chunks := []uint64{1, 2, 3, 7, 97, 4099, 65_537, 99_991, 100_000, 100_001, 250_007}
			for i := 0; !ref.Exited; i++ {
				n := chunks[i%len(chunks)]
				fastErr = fm.Run(n)
				for j := uint64(0); j < n && !ref.Exited; j++ {
					if _, refErr = rm.Step(false); refErr != nil {
						break
					}
				}
				require.Equal(t, (refErr == nil), (fastErr == nil), "chunk %d: Run: %v, Step: %v", i, fastErr, refErr)
				require.NoError(t, sameStepState(fast, ref), "after chunk %d (step %d)", i, ref.Step)
				if refErr != nil {
					break
				}
				require.Equal(t, ref.Hash(), fast.Hash(), "after chunk %d (step %d): state hashes differ", i, ref.Step)
			}
			t.Logf("%s: %d steps identical, exit code %d, error %v", name, steps, ref.ExitCode, refErr)
		})
	}
}

func serialize(t *testing.T, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Serialize(&buf))
	return buf.Bytes()
}

// TestRunInstructions compares Run's fast path with Step on random
// instructions: every opcode and SPECIAL and SPECIAL2 function (syscalls
// aside), random registers with edge values, HI and LO, memory at the
// effective address, load-linked reservations on it, and delay slots.
func TestRunInstructions(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	edges := []uint64{0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000,
		0xFFFF_FFFF, 1 << 32, 0x7FFF_FFFF_FFFF_FFFF, 1 << 63, ^uint64(0), ^uint64(0) - 1, 0xFFFF_FFFF_8000_0000}
	value := func() uint64 {
		if rng.IntN(2) == 0 {
			return edges[rng.IntN(len(edges))]
		}
		return rng.Uint64()
	}
	covered := map[uint32]int{}
	for i := 0; i < n; i++ {
		insn := rng.Uint32()
		switch k := rng.IntN(10); {
		case k < 4: // SPECIAL
			insn &^= 0x3F << 26
			if insn&0x3F == 0x0C { // a syscall with random arguments would be a different test
				insn |= 0x3F
			}
		case k < 5: // SPECIAL2, mostly its valid functions
			insn = insn&^(0x3F<<26) | 0x1C<<26
			if rng.IntN(2) == 0 {
				insn = insn&^0x3F | []uint32{0x02, 0x20, 0x21, 0x24, 0x25}[rng.IntN(5)]
			}
		}
		if insn>>26 == 0 && insn&0x3F == 0x0C {
			insn |= 0x3F
		}
		op := insn >> 26
		if op == 0 || op == 0x1C {
			covered[op<<8|insn&0x3F]++
		} else {
			covered[op<<8|0xFF]++
		}

		s := NewState(testPC, HeapStart)
		writeInsn(s.Memory, testPC, insn)
		th := s.CurrentThread()
		for r := 1; r < 32; r++ {
			th.Registers[r] = value()
		}
		if rng.IntN(4) == 0 { // a base register pointing near the code
			th.Registers[(insn>>21)&0x1F] = testPC + uint64(rng.IntN(64))
		}
		th.Cpu.HI, th.Cpu.LO = value(), value()
		if rng.IntN(10) == 0 {
			th.Cpu.NextPC = value() &^ 3 // the instruction is in a delay slot
		}
		if rng.IntN(50) == 0 {
			th.Cpu.PC |= 2 // unaligned
		}
		ea := th.Registers[(insn>>21)&0x1F] + signExtImm(insn)
		if (insn>>21)&0x1F == 0 {
			ea = signExtImm(insn)
		}
		if ea&addrMask != testPC&addrMask {
			s.Memory.SetWord(ea&addrMask, value())
		}
		if rng.IntN(3) == 0 {
			s.LLReservationStatus = uint8(1 + rng.IntN(2))
			s.LLAddress = ea
			s.LLOwnerThread = th.ThreadID
		}
		s.StepsSinceLastContextSwitch = uint64(rng.IntN(SchedQuantum))

		fast, ref := s.Copy(), s.Copy()
		fm, rm := NewVM(fast, NewMemoryOracle(), nil, nil), NewVM(ref, NewMemoryOracle(), nil, nil)
		fastErr := fm.Run(1)
		_, refErr := rm.Step(false)
		require.Equal(t, (refErr == nil), (fastErr == nil), "insn %08x: Run: %v, Step: %v", insn, fastErr, refErr)
		require.False(t, fastErr != nil && fastErr.Error() != refErr.Error(), "insn %08x: Run: %v, Step: %v", insn, fastErr, refErr)
		if refErr != nil {
			continue
		}
		require.NoError(t, sameStepState(fast, ref), "insn %08x", insn)
		require.Equal(t, ref.Memory.GetWord(ea&addrMask), fast.Memory.GetWord(ea&addrMask), "insn %08x: memory differs", insn)
		require.Equal(t, ref.Memory.PageCount(), fast.Memory.PageCount(), "insn %08x: memory differs", insn)
		require.False(t, i%97 == 0 && fast.Hash() != ref.Hash(), "insn %08x: state hashes differ", insn)
	}
	// Every opcode, and every SPECIAL and SPECIAL2 function, was tried.
	require.GreaterOrEqual(t, len(covered), 62+64+64-1, "only %d opcodes and functions covered", len(covered))

	// Code on a page never written reads as nops.
	s := NewState(0x10_0000, HeapStart)
	fast, ref := s.Copy(), s.Copy()
	require.NoError(t, NewVM(fast, NewMemoryOracle(), nil, nil).Run(3))
	rm := NewVM(ref, NewMemoryOracle(), nil, nil)
	for range 3 {
		_, err := rm.Step(false)
		require.NoError(t, err)
	}
	err := sameStepState(fast, ref)
	require.NoError(t, err, "unwritten code")
	require.Equal(t, uint64(0x10_000c), fast.CurrentThread().Cpu.PC, "unwritten code: %v", err)
}
