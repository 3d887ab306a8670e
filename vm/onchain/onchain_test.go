package onchain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// MIPS64 encodings for the test program.
const (
	rZero, rV0, rA0, rA1, rA2, rT0, rT1, rT2 = 0, 2, 4, 5, 6, 8, 9, 10
)

func iType(op, rs, rt uint32, imm uint16) uint32 { return op<<26 | rs<<21 | rt<<16 | uint32(imm) }
func lui(rt uint32, imm uint16) uint32           { return iType(0x0f, 0, rt, imm) }
func daddiu(rt, rs uint32, imm uint16) uint32    { return iType(0x19, rs, rt, imm) }
func sd(rt, base uint32, off uint16) uint32      { return iType(0x3f, base, rt, off) }
func ld(rt, base uint32, off uint16) uint32      { return iType(0x37, base, rt, off) }

const syscallInsn = 0x0000000c

// testPreimage is the keccak256 pre-image the test program reads.
var testPreimage = []byte("a pre-image for the MIPS64 contract, longer than one 32-byte part of the oracle")

func keccakKey(data []byte) [32]byte {
	k := crypto.Keccak256Hash(data)
	k[0] = Keccak256KeyType
	return k
}

// testProgram is a state that stores and loads a word, writes a pre-image key to fd 6, reads the
// pre-image from fd 5 in three reads and exits with code 3.
func testProgram() (*vm.State, *vm.MemoryOracle) {
	const pc = 0x1000
	code := []uint32{
		lui(rT0, 0x10), daddiu(rT1, rZero, 0x1234), sd(rT1, rT0, 8), ld(rT2, rT0, 8),
		daddiu(rA0, rZero, 6), lui(rA1, 0x20), daddiu(rA2, rZero, 32),
		// A write to fd 6 takes at most the rest of an 8-byte word: four writes for the key.
		daddiu(rV0, rZero, 5001), syscallInsn, daddiu(rA1, rA1, 8),
		daddiu(rV0, rZero, 5001), syscallInsn, daddiu(rA1, rA1, 8),
		daddiu(rV0, rZero, 5001), syscallInsn, daddiu(rA1, rA1, 8),
		daddiu(rV0, rZero, 5001), syscallInsn,
		daddiu(rV0, rZero, 5000), daddiu(rA0, rZero, 5), lui(rA1, 0x30), daddiu(rA2, rZero, 5), syscallInsn,
		daddiu(rV0, rZero, 5000), syscallInsn,
		daddiu(rV0, rZero, 5000), daddiu(rA2, rZero, 32), syscallInsn,
		daddiu(rV0, rZero, 5205), daddiu(rA0, rZero, 3), syscallInsn,
	}
	s := vm.NewState(pc, 0x4000_0000)
	var buf []byte
	for _, insn := range code {
		buf = append(buf, byte(insn>>24), byte(insn>>16), byte(insn>>8), byte(insn))
	}
	s.Memory.SetRange(pc, buf)
	key := keccakKey(testPreimage)
	s.Memory.SetRange(0x200000, key[:])
	o := vm.NewMemoryOracle()
	o.Set(key, testPreimage)
	return s, o
}

// proofs runs the test program to its end with a proof of every step.
func proofs(t *testing.T) (wits []*vm.StepWitness, posts []common.Hash) {
	s, o := testProgram()
	m := vm.NewVM(s, o, nil, nil)
	for !s.Exited {
		w, err := m.Step(true)
		require.NoError(t, err, "step %d", s.Step)
		wits = append(wits, w)
		posts = append(posts, s.Hash())
	}
	require.Equal(t, uint8(3), s.ExitCode, "exit code %d", s.ExitCode)
	return wits, posts
}

func newChain(t *testing.T) *Chain {
	c, err := New()
	require.NoError(t, err)
	return c
}

func TestEmbeddedArtifacts(t *testing.T) {
	var prov struct {
		Contracts map[string]struct {
			InitCodeHash common.Hash `json:"initCodeHash"`
		} `json:"contracts"`
		Compiler struct {
			Version string `json:"version"`
		} `json:"compiler"`
	}
	require.NoError(t, json.Unmarshal(Provenance(), &prov))
	for name, a := range map[string]*Artifact{"MIPS64": MIPS64(), "PreimageOracle": PreimageOracle()} {
		require.Equal(t, name, a.ContractName, "%s.json names %s", name, a.ContractName)
		if got, want := a.InitCodeHash(), prov.Contracts[name].InitCodeHash; got != want {
			require.FailNow(t, fmt.Sprintf("%s: creation code hash %s, provenance.json says %s", name, got, want))
		}
	}
	_, ok := MIPS64().ABI.Methods["step"]
	require.True(t, ok, "MIPS64 ABI has no step")
}

// TestDeployedCode checks that the constructors leave the embedded deployed bytecode, with the
// immutables filled in: the oracle's address and the state version in MIPS64.
func TestDeployedCode(t *testing.T) {
	c := newChain(t)
	for _, d := range []struct {
		a    *Artifact
		addr common.Address
	}{{MIPS64(), c.MIPSAddress()}, {PreimageOracle(), c.OracleAddress()}} {
		code := c.Code(d.addr)
		require.Len(t, code, len(d.a.DeployedBytecode), "%s: deployed %d bytes, compiled %d", d.a.ContractName, len(code), len(d.a.DeployedBytecode))
		masked := bytes.Clone(code)
		var values [][]byte
		for _, refs := range d.a.ImmutableReferences {
			for _, r := range refs {
				values = append(values, bytes.Clone(code[r.Start:r.Start+r.Length]))
				copy(masked[r.Start:r.Start+r.Length], make([]byte, r.Length))
			}
		}
		require.Equal(t, []byte(d.a.DeployedBytecode), masked, "%s: deployed code differs from the compiled deployed bytecode outside the immutables", d.a.ContractName)
		if d.a.ContractName == "MIPS64" {
			var sawOracle, sawVersion bool
			for _, v := range values {
				sawOracle = sawOracle || common.BytesToAddress(v) == c.OracleAddress()
				sawVersion = sawVersion || common.BytesToHash(v) == common.BigToHash(common.Big0.SetUint64(StateVersion))
			}
			require.True(t, sawOracle, "MIPS64 immutables %x: want the oracle address and the state version", values)
			require.True(t, sawVersion, "MIPS64 immutables %x: want the oracle address and the state version", values)
		}
	}
}

func TestStepsMatchContract(t *testing.T) {
	wits, posts := proofs(t)
	c := newChain(t)
	var local common.Hash
	reads := 0
	for i, w := range wits {
		if w.HasPreimage() {
			how, err := c.LoadPreimagePart(w.PreimageKey, w.PreimageValue, w.PreimageOffset, local, nil)
			require.NoError(t, err, "step %d: loading the part (%s)", i, how)
			require.Equal(t, LoadedKeccak256, how, "step %d: loading the part (%s): %v", i, how, err)
			reads++
		}
		post, gas, err := c.Step(w.State, w.ProofData, local)
		require.NoError(t, err, "step %d", i)
		require.Equal(t, posts[i], post, "step %d: contract post %s, ours %s", i, post, posts[i])
		require.NotEqual(t, uint64(0), gas, "step %d: gas %d", i, gas)
		require.LessOrEqual(t, gas, uint64(callGas), "step %d: gas %d", i, gas)
	}
	require.Equal(t, 3, reads, "%d pre-image reads, want 3", reads)
	last := posts[len(posts)-1]
	require.Equal(t, byte(2), last[0], "final post-state status byte %d, want 2 (exited with a code above 1)", last[0])
}

// TestTamperedProofs flips one bit in the memory proof, the state data and the instruction of a
// step: the contract reverts or returns another post-state.
func TestTamperedProofs(t *testing.T) {
	wits, posts := proofs(t)
	const storeStep = 2 // sd: uses the instruction proof and the first memory proof
	w := wits[storeStep]
	insnProof := vm.ThreadWitnessSize
	memProof := vm.ThreadWitnessSize + vm.MemProofSize
	for _, tc := range []struct {
		name  string
		state bool
		at    int
		bit   byte
	}{
		{"memory proof: the stored word's leaf", false, memProof + 3, 0x10},
		{"memory proof: a sibling", false, memProof + 32*7 + 5, 0x01},
		{"instruction", false, insnProof + int(0x1000+storeStep*4)%32, 0x04},
		{"instruction proof: a sibling", false, insnProof + 32*9, 0x80},
		{"state data: memory root", true, 0, 0x01},
		{"state data: heap", true, 72 + 4, 0x02},
		{"state data: step", true, 32 + 32 + 8 + 8 + 1 + 8 + 8 + 1 + 1, 0x01},
		{"thread: a register", false, 8 + 1 + 1 + 4*8 + 9*8 + 7, 0x01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, proof := bytes.Clone(w.State), bytes.Clone(w.ProofData)
			if tc.state {
				state[tc.at] ^= tc.bit
			} else {
				proof[tc.at] ^= tc.bit
			}
			post, _, err := newChain(t).Step(state, proof, common.Hash{})
			var revert *RevertError
			switch {
			case errors.As(err, &revert):
				t.Logf("reverted: %s", revert.Reason)
			case err != nil:
				require.NoError(t, err)
			case post == posts[storeStep]:
				require.FailNow(t, "the contract accepted the tampered proof with the same post-state")
			default:
				t.Logf("different post-state %s", post)
			}
		})
	}
}

// TestSetPreimagePart checks that a part written into the oracle's storage reads back as the loader
// stores it.
func TestSetPreimagePart(t *testing.T) {
	loaded, stored := newChain(t), newChain(t)
	key := keccakKey(testPreimage)
	value := append(make([]byte, 8), testPreimage...)
	value[7] = byte(len(testPreimage))
	for _, off := range []uint64{0, 1, 7, 8, 40, uint64(len(value)) - 1} {
		_, err := loaded.LoadPreimagePart(key, value, off, common.Hash{}, nil)
		require.NoError(t, err)
		require.NoError(t, stored.SetPreimagePart(key, value, off))
		d1, n1, err1 := loaded.ReadPreimage(key, off)
		d2, n2, err2 := stored.ReadPreimage(key, off)
		require.NoError(t, err1, "offset %d: loader %x/%d/, storage %x/%d/%v", off, d1, n1, d2, n2, err2)
		require.NoError(t, err2, "offset %d: loader %x/%d/%v, storage %x/%d/", off, d1, n1, err1, d2, n2)
		require.Equal(t, d2, d1, "offset %d: loader %x/%d/%v, storage %x/%d/%v", off, d1, n1, err1, d2, n2, err2)
		require.Equal(t, n2, n1, "offset %d: loader %x/%d/%v, storage %x/%d/%v", off, d1, n1, err1, d2, n2, err2)
	}
	// A value that is not the key's pre-image.
	bad := bytes.Clone(value)
	bad[len(bad)-1] ^= 1
	_, err := loaded.LoadPreimagePart(key, bad, 8, common.Hash{}, nil)
	require.Error(t, err, "loaded a part of a value that does not hash to the key")
	// Out of range.
	var revert *RevertError
	err = loaded.LoadKeccak256PreimagePart(uint64(len(value)), testPreimage)
	require.ErrorAs(t, err, &revert, "part offset beyond the pre-image: %v", err)
	require.Equal(t, "PartOffsetOOB()", revert.Reason, "part offset beyond the pre-image: %v", err)
}
