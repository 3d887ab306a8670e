package onchain

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/onchain"
)

// TestRandomInstructionsMatchContract covers the instructions Go programs do not emit (32-bit
// multiply and divide, unaligned loads and stores, conditional moves, count-leading-zeros, bit-field
// and byte-swap instructions, traps...): each step executes one instruction of the tables of
// classify_test.go with random registers, operands and memory, and the contract's post-state must be
// ours; a step our VM rejects (an instruction neither implements, an invalid operand) must make the
// contract revert.
func TestRandomInstructionsMatchContract(t *testing.T) {
	chain, what := newChain(t)
	t.Logf("contracts: %s", what)
	type enc struct {
		name string
		make func(rng *rand.Rand) uint32
	}
	var encs []enc
	field := func(rng *rand.Rand) (rs, rt, rd, sa uint32) {
		return uint32(rng.Intn(32)), uint32(rng.Intn(32)), uint32(rng.Intn(32)), uint32(rng.Intn(32))
	}
	for op, name := range opNames {
		if name == "j" || name == "jal" {
			continue // jumps leave the one page of code; branches stay near
		}
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			rs, rt, _, _ := field(rng)
			return op<<26 | rs<<21 | rt<<16 | uint32(rng.Intn(1<<16))
		}})
	}
	for funct, name := range specialNames {
		if name == "syscall" || name == "jr" || name == "jalr" {
			continue
		}
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			rs, rt, rd, sa := field(rng)
			return rs<<21 | rt<<16 | rd<<11 | sa<<6 | funct
		}})
	}
	for rt, name := range regimmNames {
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			rs, _, _, _ := field(rng)
			return 1<<26 | rs<<21 | rt<<16 | uint32(rng.Intn(1<<16))
		}})
	}
	for funct, name := range special2Names {
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			rs, rt, rd, sa := field(rng)
			return 0x1c<<26 | rs<<21 | rt<<16 | rd<<11 | sa<<6 | funct
		}})
	}
	for funct, name := range special3Names {
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			rs, rt, rd, sa := field(rng)
			return 0x1f<<26 | rs<<21 | rt<<16 | rd<<11 | sa<<6 | funct
		}})
	}
	for sa, name := range bshflNames {
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			_, rt, rd, _ := field(rng)
			return 0x1f<<26 | rt<<16 | rd<<11 | sa<<6 | 0x20
		}})
	}
	for sa, name := range dbshflNames {
		encs = append(encs, enc{name, func(rng *rand.Rand) uint32 {
			_, rt, rd, _ := field(rng)
			return 0x1f<<26 | rt<<16 | rd<<11 | sa<<6 | 0x24
		}})
	}
	sort.Slice(encs, func(i, j int) bool { return encs[i].name < encs[j].name })

	per := 40
	if testing.Short() {
		per = 8
	}
	rng := rand.New(rand.NewSource(8))
	matched, rejected := 0, 0
	reasons := map[string]int{}
	byName := map[string]int{}
	for _, e := range encs {
		for i := 0; i < per; i++ {
			const pc = 0x10_0000
			const data = 0x20_0000 // a page of random memory the loads and stores use
			s := vm.NewState(pc, 0x4000_0000)
			th := s.CurrentThread()
			for r := 1; r < 32; r++ {
				switch rng.Intn(4) {
				case 0:
					th.Registers[r] = uint64(rng.Intn(64)) // small: shift amounts, sizes
				case 1:
					th.Registers[r] = data + uint64(rng.Intn(4096)) // addresses near the data page
				default:
					th.Registers[r] = rng.Uint64()
				}
			}
			th.Cpu.LO, th.Cpu.HI = rng.Uint64(), rng.Uint64()
			for a := uint64(data - 0x8000); a < data+0x9000; a += 8 {
				s.Memory.SetWord(a, rng.Uint64())
			}
			insn := e.make(rng)
			if insn>>26 >= 0x20 { // loads and stores: base register near the data page
				insn = insn&^(31<<21) | uint32(1+rng.Intn(31))<<21
				th.Registers[insn>>21&31] = data + uint64(rng.Intn(4096))
			}
			s.Memory.SetRange(pc, []byte{byte(insn >> 24), byte(insn >> 16), byte(insn >> 8), byte(insn)})
			if rng.Intn(3) == 0 { // a load-linked reservation, sometimes the one a store-conditional checks
				s.LLReservationStatus = uint8(1 + rng.Intn(2))
				s.LLAddress = (data + uint64(rng.Intn(4096))) &^ 7
				s.LLOwnerThread = th.ThreadID
			}
			// The proof of a step that does not touch memory, for the steps our VM rejects.
			preState, _ := s.EncodeWitness()
			preProof := th.AppendEncoding(nil)
			inner := vm.ThreadStackRoot(nil)
			preProof = append(preProof, inner[:]...)
			insnProof := s.Memory.MerkleProof(pc)
			preProof = append(append(preProof, insnProof[:]...), make([]byte, 2*vm.MemProofSize)...)

			m := vm.NewVM(s, vm.NewMemoryOracle(), nil, nil)
			wit, err := stepRecover(m)
			if err != nil {
				// Our VM rejects the step (an unsupported instruction or an invalid operand): so must
				// the contract.
				_, _, cerr := chain.Step(preState, preProof, testLocalContext)
				var rev *onchain.RevertError
				require.ErrorAs(t, cerr, &rev, "%s %08x: our VM fails (%v), the contract did not revert: %v", e.name, insn, err, cerr)
				rejected++
				reasons[e.name+": "+rev.Reason]++
				continue
			}
			post := s.Hash()
			got, _, cerr := chain.Step(wit.State, wit.ProofData, testLocalContext)
			switch {
			case cerr != nil:
				require.FailNow(t, fmt.Sprintf("%s %08x: the contract rejected our step: %v\nstate %x\nproof %x", e.name, insn, cerr, wit.State, wit.ProofData))
			case got != post:
				require.FailNow(t, fmt.Sprintf("%s %08x: contract post %s, ours %s\nstate %x\nproof %x", e.name, insn, got, post, wit.State, wit.ProofData))
			}
			matched++
			byName[e.name]++
		}
	}
	t.Logf("%d encodings x %d random cases: %d post-states equal, %d rejected by our VM and reverted by the contract", len(encs), per, matched, rejected)
	var unsupported []string
	for _, e := range encs {
		if byName[e.name] == 0 {
			unsupported = append(unsupported, e.name)
		}
	}
	t.Logf("rejected in every case (not implemented by either): %v", unsupported)
	var rs []string
	for r, n := range reasons {
		rs = append(rs, fmt.Sprintf("%4d  %s", n, r))
	}
	sort.Strings(rs)
	t.Logf("revert reasons of the rejected steps:\n%s", strings.Join(rs, "\n"))
}

// stepRecover steps with a proof, turning a VM panic into an error.
func stepRecover(m *vm.VM) (w *vm.StepWitness, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic")
		}
	}()
	return m.Step(true)
}
