package crosscheck

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

const randPC = 0x2_0000

// syscallNumbers are the syscalls the VMs know, plus a few they do not.
var syscallNumbers = []uint64{
	5000, 5001, 5002, 5003, 5004, 5005, 5008, 5009, 5010, 5011, 5012, 5013, 5014, 5015,
	5016, 5023, 5026, 5027, 5034, 5036, 5038, 5055, 5058, 5061, 5070, 5087, 5095, 5100,
	5102, 5129, 5178, 5194, 5196, 5205, 5208, 5216, 5217, 5220, 5222, 5225, 5247, 5257,
	5272, 5284, 5285, 5287, 5297, 5313,
	5153, 5060, 4001, 0,
}

// randomState builds a single-step test case: a thread with registers that
// mostly point into written memory, about to run a random instruction.
func randomState(rng *rand.Rand) *vm.State {
	s := vm.NewState(randPC, vm.HeapStart)
	t := s.CurrentThread()
	const dataBase = 0x10_0000
	for i := range 64 {
		s.Memory.SetWord(dataBase+uint64(8*i), rng.Uint64())
	}
	for i := 1; i < 32; i++ {
		switch rng.IntN(4) {
		case 0:
			t.Registers[i] = rng.Uint64()
		case 1:
			t.Registers[i] = uint64(rng.IntN(64))
		case 2:
			t.Registers[i] = dataBase + uint64(rng.IntN(512))
		case 3:
			t.Registers[i] = uint64(int64(rng.IntN(9)) - 4)
		}
	}
	t.Cpu.HI, t.Cpu.LO = rng.Uint64(), rng.Uint64()
	if rng.IntN(20) == 0 {
		t.Cpu.NextPC = randPC + 0x100 // in a delay slot
	}

	var insn uint32
	switch rng.IntN(4) {
	case 0: // anything
		insn = rng.Uint32()
	case 1: // SPECIAL with a random function
		insn = rng.Uint32() &^ (0x3F << 26)
	case 2: // loads, stores and RMW near the data
		insn = uint32(0x1A+rng.IntN(0x40-0x1A))<<26 | rng.Uint32()&0x03FF_0000 | uint32(rng.IntN(64)-32)&0xFFFF
	case 3: // syscall
		insn = 0x0000000C
		t.Registers[2] = syscallNumbers[rng.IntN(len(syscallNumbers))]
		t.Registers[4] = []uint64{0, 1, 2, 3, 4, 5, 6, 7, 100, rng.Uint64(), 128, 129, 0x50f00, dataBase + uint64(rng.IntN(512))}[rng.IntN(14)]
		t.Registers[5] = []uint64{0, 1, 3, 0x80, 128, 129, rng.Uint64() & 0xFFFF, dataBase + uint64(rng.IntN(512))}[rng.IntN(8)]
		t.Registers[6] = uint64(rng.IntN(40))
		if t.Registers[2] == 5055 && rng.IntN(2) == 0 {
			t.Registers[4] = 0x50f00 // the valid clone flags
		}
		if rng.IntN(4) == 0 {
			s.PreimageKey = [32]byte{2, 1}
			s.PreimageOffset = uint64(rng.IntN(12))
		}
	}
	if rng.IntN(8) == 0 {
		s.LLReservationStatus = uint8(1 + rng.IntN(2))
		s.LLAddress = t.Registers[rng.IntN(32)] + uint64(rng.IntN(8))
		s.LLOwnerThread = uint64(rng.IntN(2))
	}
	s.Step = rng.Uint64N(1 << 40)
	s.StepsSinceLastContextSwitch = uint64(rng.IntN(100))
	if rng.IntN(50) == 0 {
		s.StepsSinceLastContextSwitch = vm.SchedQuantum
	}
	w := s.Memory.GetWord(randPC &^ 7)
	w = w&0xFFFFFFFF | uint64(insn)<<32 // randPC is 8-aligned: high half
	s.Memory.SetWord(randPC, w)
	return s
}

// TestRandomSteps executes random single instructions in both VMs and
// requires the same outcome: both fail, or both succeed with identical
// witnesses and post-states.
func TestRandomSteps(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	rng := rand.New(rand.NewPCG(7, 8))
	logger := log.NewLogger(log.DiscardHandler())
	var failedBoth, ok int
	for i := range n {
		ours := randomState(rng)
		cs := toCannon(t, ours)
		require.Equal(t, serializeOurs(t, ours), serializeCannon(t, cs), "state conversion")
		o1, o2 := vm.NewMemoryOracle(), vm.NewMemoryOracle()
		for _, o := range []*vm.MemoryOracle{o1, o2} {
			o.Set([32]byte{2, 1}, []byte("0123456789"))
		}
		var cOut, oOut bytes.Buffer
		cvm := cs.CreateVM(logger, o1, &cOut, io.Discard, nil)
		ovm := vm.NewVM(ours, o2, &oOut, io.Discard)
		insn := uint32(ours.Memory.GetWord(randPC) >> 32)

		cw, cerr := cannonStep(cvm, true)
		ow, oerr := ovm.Step(true)
		require.Equal(t, (oerr == nil), (cerr == nil), "case %d insn %08x v0=%d: cannon error %v, ours %v", i, insn, cs.GetRegistersRef()[2], cerr, oerr)
		if cerr != nil {
			failedBoth++
			continue
		}
		ok++
		require.Equal(t, ow.State, cw.State, "case %d insn %08x: witnesses differ", i, insn)
		require.Equal(t, ow.ProofData, cw.ProofData, "case %d insn %08x: witnesses differ", i, insn)
		require.Equal(t, ow.PreimageKey, cw.PreimageKey, "case %d insn %08x: witnesses differ", i, insn)
		require.Equal(t, ow.PreimageValue, cw.PreimageValue, "case %d insn %08x: witnesses differ", i, insn)
		require.Equal(t, ow.PreimageOffset, cw.PreimageOffset, "case %d insn %08x: witnesses differ", i, insn)
		if !bytes.Equal(serializeCannon(t, cs), serializeOurs(t, ours)) {
			ch, oh := hashesOf(cs, ours)
			require.FailNow(t, fmt.Sprintf("case %d insn %08x v0=%d: post-states differ (cannon %x, ours %x)", i, insn, ours.CurrentThread().Registers[2], ch, oh))
		}
		require.Equal(t, oOut.String(), cOut.String(), "case %d: stdout differs", i)
	}
	t.Logf("%d random steps: %d identical post-states, %d rejected by both", n, ok, failedBoth)
}
