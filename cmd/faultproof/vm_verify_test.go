package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// verifyStepFinder runs a guest with the vm package and returns the first step for which pick, given
// the state before the step and the instruction it executes, holds; and the run's last step.
func verifyStepFinder(t *testing.T, elfPath string, oracle vm.PreimageOracle, pick func(s *vm.State, insn uint32) bool) (found, last uint64) {
	t.Helper()
	s, m := libState(t, elfPath, oracle, 1)
	found = ^uint64(0)
	for !s.Exited {
		if found == ^uint64(0) {
			pc := s.CurrentThread().Cpu.PC
			insn := uint32(s.Memory.GetWord(pc&^7) >> (32 - (pc&4)*8))
			if pick(s, insn) {
				found = s.Step
			}
		}
		require.NoError(t, m.Run(1))
	}
	require.NotEqual(t, ^uint64(0), found)
	return found, s.Step - 1
}

// writeVerifyProof runs vm run to write the proof of step at into dir (name: at.json or at.json.gz).
func writeVerifyProof(t *testing.T, state, dir string, at uint64, gz bool, host []string) string {
	t.Helper()
	ext := ".json"
	if gz {
		ext = ".json.gz"
	}
	args := append([]string{"vm", "run", "--input", state, "--output", "", "--meta", "",
		"--proof-at", fmt.Sprintf("=%d", at), "--proof-fmt", filepath.Join(dir, "%d"+ext),
		"--stop-at", fmt.Sprintf("=%d", at+1)}, host...)
	vmCLIOK(t, args...)
	return filepath.Join(dir, fmt.Sprintf("%d%s", at, ext))
}

// requireVerifyOK runs vm verify on a proof file and requires "ok post=<the file's post>".
func requireVerifyOK(t *testing.T, path string) {
	t.Helper()
	stdout, stderr, code := vmCLI(t, "vm", "verify", "--proof", path)
	require.Equal(t, 0, code, "vm verify %s: stdout %q stderr:\n%s", filepath.Base(path), stdout, stderr)
	require.Equal(t, fmt.Sprintf("ok post=%s\n", readProof(t, path).Post.Hex()), stdout)
}

// TestVMVerify proves steps with vm run (hello; bootinfo under our host, reading local and keccak256
// pre-images) and checks them with vm verify; then tampered and broken proof files.
func TestVMVerify(t *testing.T) {
	guests := vmGuests(t, t.TempDir())
	dir := t.TempDir()
	hello := filepath.Join(guests, "hello")
	helloState := filepath.Join(dir, "hello.bin.gz")
	vmCLIOK(t, "vm", "load-elf", "--type", vm.StateVersionName, "--path", hello, "--out", helloState, "--meta", "")

	// A store (sd), a syscall, and the last step (exit_group) of hello.
	store, last := verifyStepFinder(t, hello, nil, func(_ *vm.State, insn uint32) bool { return insn>>26 == 0x3f })
	write, _ := verifyStepFinder(t, hello, nil, func(s *vm.State, insn uint32) bool {
		return insn == 0xc && s.CurrentThread().Registers[2] == 5001 // write
	})
	storeProof := writeVerifyProof(t, helloState, dir, store, false, nil)
	t.Run("hello", func(t *testing.T) {
		requireVerifyOK(t, storeProof)
		requireVerifyOK(t, writeVerifyProof(t, helloState, dir, 0, false, nil))
		requireVerifyOK(t, writeVerifyProof(t, helloState, dir, write, true, nil))
		requireVerifyOK(t, writeVerifyProof(t, helloState, dir, last, false, nil))
	})

	t.Run("bootinfo under our host", func(t *testing.T) {
		b := newBootInfo(t)
		bootinfo := filepath.Join(guests, "bootinfo")
		state := filepath.Join(dir, "bootinfo.bin.gz")
		vmCLIOK(t, "vm", "load-elf", "--type", vm.StateVersionName, "--path", bootinfo, "--out", state, "--meta", "")
		readOf := func(keyType byte, data bool) func(*vm.State, uint32) bool {
			return func(s *vm.State, insn uint32) bool {
				th := s.CurrentThread()
				return insn == 0xc && th.Registers[2] == 5000 && th.Registers[4] == vm.FdPreimageRead &&
					s.PreimageKey[0] == keyType && (s.PreimageOffset >= 8) == data
			}
		}
		for _, c := range []struct {
			name    string
			keyType byte
			data    bool
		}{{"local key length", 1, false}, {"local key data", 1, true}, {"keccak256 length", 2, false}, {"keccak256 data", 2, true}} {
			at, _ := verifyStepFinder(t, bootinfo, b.oracle(t), readOf(c.keyType, c.data))
			path := writeVerifyProof(t, state, dir, at, c.keyType == 2, b.hostArgs(t))
			p := readProof(t, path)
			require.NotNil(t, p.OracleKey, "%s: step %d read no pre-image", c.name, at)
			require.Equal(t, c.keyType, p.OracleKey[0])
			requireVerifyOK(t, path)
			t.Logf("%s: step %d verified (oracle offset %d)", c.name, at, p.OracleOffset)

			if c.keyType == 2 && c.data {
				// A pre-image value that is not the key's: the loader would store it elsewhere.
				bad := *p
				bad.OracleValue = append(hexutil.Bytes(nil), p.OracleValue...)
				bad.OracleValue[len(bad.OracleValue)-1] ^= 1
				requireVerifyFails(t, writeVerifyJSON(t, filepath.Join(dir, "bad-value.json"), &bad), "oracle rejected the pre-image part")
			}
		}
	})

	t.Run("tampered", func(t *testing.T) {
		p := readProof(t, storeProof)
		tamper := func(name string, edit func(p *stepProof)) string {
			q := *p
			q.StateData = append(hexutil.Bytes(nil), p.StateData...)
			q.ProofData = append(hexutil.Bytes(nil), p.ProofData...)
			edit(&q)
			return writeVerifyJSON(t, filepath.Join(dir, name+".json"), &q)
		}
		rehash := func(q *stepProof) {
			h, err := vm.StateHashFromWitness(q.StateData)
			require.NoError(t, err)
			q.Pre = h
		}
		insnAt := vm.ThreadWitnessSize + int(storePC(t, p)%32)
		for _, c := range []struct {
			name string
			edit func(q *stepProof)
			want string
		}{
			{"memory-proof", func(q *stepProof) { q.ProofData[vm.ThreadWitnessSize+vm.MemProofSize+5] ^= 0x08 }, "reverted: InvalidMemoryProof()"},
			{"instruction", func(q *stepProof) { q.ProofData[insnAt] ^= 0x04 }, "reverted: InvalidMemoryProof()"},
			{"state-data", func(q *stepProof) { q.StateData[72+7] ^= 0x01; rehash(q) }, ""}, // the heap: another post-state
			{"state-data-root", func(q *stepProof) { q.StateData[3] ^= 0x40; rehash(q) }, "reverted: InvalidMemoryProof()"},
			{"state-data-pre", func(q *stepProof) { q.StateData[72+7] ^= 0x01 }, "mismatch: pre="},
			{"post", func(q *stepProof) { q.Post[31] ^= 0x01 }, "mismatch: contract post="},
		} {
			t.Run(c.name, func(t *testing.T) {
				stdout := requireVerifyFails(t, tamper(c.name, c.edit), c.want)
				t.Log(strings.TrimSpace(stdout))
			})
		}
	})

	t.Run("bad files", func(t *testing.T) {
		write := func(name, content string) string {
			path := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
			return path
		}
		p := readProof(t, storeProof)
		short := *p
		short.ProofData = p.ProofData[:100]
		for _, c := range []struct {
			name, path, want string
		}{
			{"missing", filepath.Join(dir, "nope.json"), "no such file"},
			{"not JSON", write("text.json", "a proof, honestly\n"), "invalid character"},
			{"not gzip", write("plain.json.gz", "{\"step\": 0, \"pre\": \"0x00\"}\n"), "gzip: invalid header"},
			{"empty object", write("empty.json", "{}\n"), "not a step proof: no step, pre, post, state-data, proof-data"},
			{"short proof-data", writeVerifyJSON(t, filepath.Join(dir, "short.json"), &short), "proof-data has 100 bytes"},
		} {
			t.Run(c.name, func(t *testing.T) {
				stdout, stderr, code := vmCLI(t, "vm", "verify", "--proof", c.path)
				require.Equal(t, 2, code, "stdout %q stderr %q", stdout, stderr)
				require.Empty(t, stdout)
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				require.Len(t, lines, 1, stderr)
				require.True(t, strings.HasPrefix(lines[0], "faultproof: failed to read proof"), lines[0])
				require.Contains(t, lines[0], c.want)
			})
		}
	})
}

// storePC is the pc of a proof's step: in the thread witness after the thread id, exit code and
// exited flag.
func storePC(t *testing.T, p *stepProof) uint64 {
	var pc uint64
	for _, b := range p.ProofData[10:18] {
		pc = pc<<8 | uint64(b)
	}
	return pc
}

func writeVerifyJSON(t *testing.T, path string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// requireVerifyFails runs vm verify and requires exit code 1 and stdout containing want; with want
// empty, a revert or a post-state mismatch.
func requireVerifyFails(t *testing.T, path, want string) string {
	t.Helper()
	stdout, stderr, code := vmCLI(t, "vm", "verify", "--proof", path)
	require.Equal(t, 1, code, "stdout %q stderr %q", stdout, stderr)
	if want == "" {
		require.True(t, strings.HasPrefix(stdout, "reverted: ") || strings.HasPrefix(stdout, "mismatch: contract post="), stdout)
	} else {
		require.Contains(t, stdout, want)
	}
	return stdout
}

// TestVMVerifyOracleData checks --preimage-oracle-data on a proof of a step reading a precompile key
// (the result of the sha256 precompile), made with the vm package from a hand-assembled program.
func TestVMVerifyOracleData(t *testing.T) {
	input := []byte("abc")
	call := append(append(make([]byte, 19), 2), binary.BigEndian.AppendUint64(nil, 72)...) // sha256 precompile, gas 72
	call = append(call, input...)
	key := crypto.Keccak256Hash(call)
	key[0] = 6
	sum := sha256.Sum256(input)
	value := append([]byte{1}, sum[:]...) // status 1 (success) ++ output

	iType := func(op, rs, rt uint32, imm uint16) uint32 { return op<<26 | rs<<21 | rt<<16 | uint32(imm) }
	daddiu := func(rt, rs uint32, imm uint16) uint32 { return iType(0x19, rs, rt, imm) }
	lui := func(rt uint32, imm uint16) uint32 { return iType(0x0f, 0, rt, imm) }
	const sys, v0, a0, a1, a2 = 0xc, 2, 4, 5, 6
	code := []uint32{daddiu(a0, 0, 6), lui(a1, 0x20), daddiu(a2, 0, 32)}
	for i := 0; i < 4; i++ { // the key, 8 bytes a write
		code = append(code, daddiu(v0, 0, 5001), sys, daddiu(a1, a1, 8))
	}
	code = append(code, daddiu(v0, 0, 5000), daddiu(a0, 0, 5), lui(a1, 0x30), daddiu(a2, 0, 8), sys, daddiu(v0, 0, 5000), sys)
	s := vm.NewState(0x1000, 0x4000_0000)
	var buf []byte
	for _, insn := range code {
		buf = binary.BigEndian.AppendUint32(buf, insn)
	}
	s.Memory.SetRange(0x1000, buf)
	s.Memory.SetRange(0x200000, key[:])
	o := vm.NewMemoryOracle()
	o.Set(key, value)
	m := vm.NewVM(s, o, nil, nil)
	require.NoError(t, m.Run(uint64(len(code)-1)))
	step := s.Step
	wit, err := m.Step(true)
	require.NoError(t, err)
	require.True(t, wit.HasPreimage())
	require.Equal(t, uint64(8), wit.PreimageOffset)
	path := writeVerifyJSON(t, filepath.Join(t.TempDir(), "precompile.json"), &stepProof{
		Step: step, Pre: wit.StateHash, Post: s.Hash(), StateData: wit.State, ProofData: wit.ProofData,
		OracleKey: wit.PreimageKey[:], OracleValue: wit.PreimageValue, OracleOffset: wit.PreimageOffset,
	})

	stdout, stderr, code0 := vmCLI(t, "vm", "verify", "--proof", path)
	require.Equal(t, 0, code0, stderr)
	require.Equal(t, fmt.Sprintf("ok post=%s\n", s.Hash().Hex()), stdout)
	require.Contains(t, stderr, "written to the oracle's storage")

	stdout, stderr, code0 = vmCLI(t, "vm", "verify", "--proof", path, "--preimage-oracle-data", hexutil.Encode(call))
	require.Equal(t, 0, code0, stderr)
	require.Equal(t, fmt.Sprintf("ok post=%s\n", s.Hash().Hex()), stdout)
	require.Contains(t, stderr, "how=loadPrecompilePreimagePart")

	wrong := append(append([]byte{}, call...), 'd')
	stdout, _, code0 = vmCLI(t, "vm", "verify", "--proof", path, "--preimage-oracle-data", hexutil.Encode(wrong))
	require.Equal(t, 1, code0)
	require.Contains(t, stdout, "oracle rejected the pre-image part")

	_, stderr, code0 = vmCLI(t, "vm", "verify", "--proof", path, "--preimage-oracle-data", "xyz")
	require.Equal(t, 2, code0)
	require.Contains(t, stderr, "invalid --preimage-oracle-data")
}

// TestVMVerifyClient proves steps of the fault proof program deciding a claim in our VM under our host
// (every 1,000,003rd step, and the first reads of local and keccak256 pre-images, data parts included)
// and checks each with vm verify.
func TestVMVerifyClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips64 program and runs it in the VM")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	pre := t.TempDir()
	_, stderr, code := runCLI(t, "prestate", "--out", pre, "--src", "../..")
	require.Equal(t, 0, code, stderr)
	b := testL2Chain(t)
	host := append([]string{"--", exe}, devnetHostArgs(t, b, 14, common.Hash{0xba, 0xd}, 11)...)
	host = append(host, "--server")
	prestate := filepath.Join(pre, "prestate.bin.gz")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		args = append(append([]string{"vm", "run", "--input", prestate, "--meta", ""}, args...), host...)
		_, stderr, code := runCLI(t, args...)
		require.Equal(t, 0, code, stderr)
	}

	run("--output", "", "--proof-at", "%1000003", "--proof-fmt", filepath.Join(dir, "stride-%d.json.gz"))
	var proofs []string
	for _, stop := range []string{"local", "keccak"} {
		for _, data := range []bool{false, true} {
			// The step of the first such read: stop after it, then prove it.
			after := filepath.Join(dir, "after.bin.gz")
			args := []string{"--output", after, "--stop-at-preimage-type", stop}
			if data {
				typ := map[string]string{"local": "01", "keccak": "02"}[stop]
				args = []string{"--output", after, "--stop-at-preimage", typ + "@8"}
			}
			run(args...)
			s, err := vm.LoadStateFile(after)
			require.NoError(t, err)
			at := s.Step - 1
			run("--output", "", "--proof-at", fmt.Sprintf("=%d", at), "--proof-fmt", filepath.Join(dir, "read-%d.json"), "--stop-at", fmt.Sprintf("=%d", at+1))
			path := filepath.Join(dir, fmt.Sprintf("read-%d.json", at))
			p := readProof(t, path)
			require.NotNil(t, p.OracleKey, "step %d", at)
			proofs = append(proofs, path)
		}
	}
	strides, err := filepath.Glob(filepath.Join(dir, "stride-*.json.gz"))
	require.NoError(t, err)
	require.Greater(t, len(strides), 20)
	proofs = append(proofs, strides...)
	for _, path := range proofs {
		requireVerifyOK(t, path)
	}
	t.Logf("%d proofs of the program's steps verified by the contract (%d at pre-image reads)", len(proofs), len(proofs)-len(strides))
}
