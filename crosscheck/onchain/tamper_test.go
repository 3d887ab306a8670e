package onchain

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/onchain"
)

// llFields is the offset of the load-linked reservation in the state data: after the memory root, the
// pre-image key and offset and the heap.
const llFields = 32 + 32 + 8 + 8

// provenStep is one step's proof and our post-state.
type provenStep struct {
	class string
	wit   *vm.StepWitness
	post  common.Hash
}

// firstOfClasses runs a guest and returns the proof of the first step of each of the classes.
func firstOfClasses(t *testing.T, elfPath string, oracle vm.PreimageOracle, classes ...string) []provenStep {
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	if oracle == nil {
		oracle = vm.NewMemoryOracle()
	}
	m := vm.NewVM(s, oracle, nil, nil)
	want := map[string]bool{}
	for _, c := range classes {
		want[c] = true
	}
	var out []provenStep
	for !s.Exited && len(want) > 0 {
		class := stepClass(s)
		if !want[class] {
			_, err := m.Step(false)
			require.NoError(t, err)
			continue
		}
		delete(want, class)
		w, err := m.Step(true)
		require.NoError(t, err)
		out = append(out, provenStep{class, w, s.Hash()})
	}
	require.Empty(t, want, "no step of %v", want)
	return out
}

// TestTamperedProofsRejected takes proofs of real guest steps (loads, stores, a load-linked/
// store-conditional pair, syscalls, pre-image reads), checks that the contract accepts them, then
// flips single bits in the parts of the proof the step uses: the memory proof of the accessed word
// (leaf and siblings), the instruction and its proof, the thread witness and the state data. Every
// flip must make the contract revert or return another post-state.
func TestTamperedProofsRejected(t *testing.T) {
	chain, what := newChain(t)
	t.Logf("contracts: %s", what)
	steps := firstOfClasses(t, guestPath(t, "hello"), nil,
		"insn: sd", "insn: ld", "insn: sb", "insn: lbu", "insn: ll", "insn: sc", "insn: daddu", "insn: jalr",
		"syscall: mmap", "syscall: write (stdout)", "syscall: clock_gettime")
	steps = append(steps, firstOfClasses(t, guestPath(t, "bootinfo"), bootOracle(),
		"syscall: read (pre-image read, local key, data part)", "syscall: read (pre-image read, keccak256 key, data part)")...)
	rng := rand.New(rand.NewSource(1))
	flips, reverted := 0, 0
	for _, st := range steps {
		t.Run(st.class, func(t *testing.T) {
			w := st.wit
			load := func(c *onchain.Chain) {
				if w.HasPreimage() {
					_, err := c.LoadPreimagePart(w.PreimageKey, w.PreimageValue, w.PreimageOffset, testLocalContext, nil)
					require.NoError(t, err)
				}
			}
			load(chain)
			post, _, err := chain.Step(w.State, w.ProofData, testLocalContext)
			require.NoError(t, err, "untampered proof: post %s; want %s", post, st.post)
			require.Equal(t, st.post, post, "untampered proof: post %s, %v; want %s", post, err, st.post)
			// The regions the step uses: the thread witness and the instruction proof always; the
			// first memory proof for a memory access; the state data always.
			type region struct {
				name       string
				state      bool
				start, end int
			}
			regions := []region{
				{"state data", true, 0, vm.StateWitnessSize},
				{"thread witness", false, 0, vm.ThreadEncodingSize},
				{"instruction leaf", false, vm.ThreadWitnessSize, vm.ThreadWitnessSize + 32},
				{"instruction proof siblings", false, vm.ThreadWitnessSize + 32, vm.ThreadWitnessSize + vm.MemProofSize},
			}
			switch st.class {
			case "insn: daddu", "insn: jalr", "syscall: mmap", "syscall: write (stdout)":
				// No memory access: the memory proofs are not read.
			default:
				base := vm.ThreadWitnessSize + vm.MemProofSize
				regions = append(regions,
					region{"memory proof leaf", false, base, base + 32},
					region{"memory proof siblings", false, base + 32, base + vm.MemProofSize})
			}
			for _, r := range regions {
				for i := 0; i < 6; i++ {
					at := r.start + rng.Intn(r.end-r.start)
					if r.state && (st.class == "insn: ll" || st.class == "insn: lld") && at >= llFields && at < llFields+17 {
						continue // a load-linked sets the reservation (status, address, owner) whatever it was
					}
					bit := byte(1) << rng.Intn(8)
					state, proof := bytes.Clone(w.State), bytes.Clone(w.ProofData)
					if r.state {
						state[at] ^= bit
					} else {
						proof[at] ^= bit
					}
					post, _, err := chain.Step(state, proof, testLocalContext)
					var rev *onchain.RevertError
					switch {
					case errors.As(err, &rev):
						reverted++
					case err != nil:
						require.NoError(t, err)
					case post == st.post:
						require.FailNow(t, fmt.Sprintf("%s byte %d bit %#x flipped: the contract returned our post-state %s", r.name, at-r.start, bit, post))
					}
					flips++
				}
			}
		})
	}
	t.Logf("%d single-bit flips in %d proofs: %d reverted, %d gave another post-state", flips, len(steps), reverted, flips-reverted)
}
