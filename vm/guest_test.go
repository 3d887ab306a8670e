package vm

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm/vmtest"
)

// Guest programs live in testdata/guest (a module of their own) and are
// compiled for the VM once per test binary.
var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if guestDir != "" {
		os.RemoveAll(guestDir)
	}
	os.Exit(code)
}

// guestELF returns the ELF of the named guest program.
func guestELF(tb testing.TB, name string) []byte {
	tb.Helper()
	guestOnce.Do(func() {
		guestDir, guestErr = os.MkdirTemp("", "vm-guests")
		if guestErr != nil {
			return
		}
		guestErr = vmtest.BuildGuests(guestDir, guestPrograms...)
	})
	require.NoError(tb, guestErr, "building guest programs")
	data, err := os.ReadFile(filepath.Join(guestDir, name))
	require.NoError(tb, err)
	return data
}

type guestRun struct {
	state          *State
	stdout, stderr bytes.Buffer
	vm             *VM
}

func runGuest(t *testing.T, name string, oracle PreimageOracle) *guestRun {
	t.Helper()
	s, _, err := LoadProgram(guestELF(t, name))
	require.NoError(t, err)
	if oracle == nil {
		oracle = NewMemoryOracle()
	}
	g := &guestRun{state: s}
	g.vm = NewVM(s, oracle, &g.stdout, &g.stderr)
	start := time.Now()
	require.NoError(t, g.vm.Run(200_000_000), "step %d", s.Step)
	t.Logf("%s: %d steps in %v, exit code %d, %d pages", name, s.Step, time.Since(start), s.ExitCode, s.Memory.PageCount())
	require.True(t, s.Exited, "guest did not exit")
	return g
}

func TestGuestHello(t *testing.T) {
	g := runGuest(t, "hello", nil)
	require.Equal(t, uint8(0), g.state.ExitCode, "exit code %d", g.state.ExitCode)
	require.Equal(t, uint8(StatusValid), g.state.VMStatus(), "exit code %d", g.state.ExitCode)
	require.Equal(t, "hello from the guest\n", g.stdout.String(), "stdout %q stderr %q", g.stdout.String(), g.stderr.String())
	require.Equal(t, "args=1\n", g.stderr.String(), "stdout %q stderr %q", g.stdout.String(), g.stderr.String())
}

func TestGuestThreads(t *testing.T) {
	g := runGuest(t, "threads", nil)
	require.Equal(t, uint8(1), g.state.ExitCode, "exit code %d", g.state.ExitCode)
	require.Equal(t, uint8(StatusInvalid), g.state.VMStatus(), "exit code %d", g.state.ExitCode)
	want := "results=200 total=287941563570306 gc=true\n"
	require.Equal(t, want, g.stdout.String(), "stdout %q, want %q", g.stdout.String(), want)
	require.GreaterOrEqual(t, g.state.NextThreadID, uint64(3), "only %d threads were created", g.state.NextThreadID)
}

// OracleGuestKey is the pre-image key the oracle guest program requests.
func OracleGuestKey() [32]byte {
	var k [32]byte
	k[0] = 2
	for i := 1; i < 32; i++ {
		k[i] = byte(i)
	}
	return k
}

func TestGuestOracle(t *testing.T) {
	o := NewMemoryOracle()
	o.Set(OracleGuestKey(), []byte("the pre-image served to the guest"))
	g := runGuest(t, "oracle", o)
	require.Equal(t, uint8(0), g.state.ExitCode, "exit code %d, stderr %s", g.state.ExitCode, g.stderr.String())
	want := "preimage=\"the pre-image served to the guest\"\n"
	require.Equal(t, want, g.stdout.String(), "stdout %q", g.stdout.String())
	h := o.Hints()
	require.Len(t, h, 1, "hints %q", h)
	require.Equal(t, "fetch-greeting 0x01", string(h[0]), "hints %q", h)
}

// TestGuestWitnesses runs the first steps of a program with witnesses and
// checks each witness against the pre-state, and that proof steps and fast
// steps reach the same state.
func TestGuestWitnesses(t *testing.T) {
	data := guestELF(t, "hello")
	s, _, err := LoadProgram(data)
	require.NoError(t, err)
	fastState := s.Copy()
	m := NewVM(s, NewMemoryOracle(), nil, nil)
	fast := NewVM(fastState, NewMemoryOracle(), nil, nil)
	steps := 20_000
	if testing.Short() {
		steps = 3_000
	}
	memChecked := 0
	for i := 0; i < steps; i++ {
		// Everything the witness must show, taken from the pre-state.
		enc, hash := s.EncodeWitness()
		tw, _ := s.EncodeThreadWitness()
		th := *s.CurrentThread()
		exited := th.Exited
		preempt := s.StepsSinceLastContextSwitch >= SchedQuantum
		insn := m.fetch(th.Cpu.PC)
		addr := (th.Registers[(insn>>21)&31] + signExtImm(insn)) &^ 7
		memWord := s.Memory.GetWord(addr)

		wit, err := m.Step(true)
		require.NoError(t, err)
		_, err = fast.Step(false)
		require.NoError(t, err)
		require.Equal(t, wit.State, enc, "step %d: witness state is not the pre-state", i)
		require.Equal(t, wit.StateHash, hash, "step %d: witness state is not the pre-state", i)
		require.Len(t, wit.ProofData, ProofDataSize, "proof data has %d bytes", len(wit.ProofData))
		require.Equal(t, tw, wit.ProofData[:ThreadWitnessSize], "step %d: thread witness", i)
		root := [32]byte(enc[:32])
		proofs := wit.ProofData[ThreadWitnessSize:]
		insnWord, ok := VerifyMemoryProof(root, th.Cpu.PC&^7, proofs[:MemProofSize])
		require.True(t, ok, "step %d: instruction proof does not verify", i)
		require.Equal(t, insn, uint32(insnWord>>(32-(th.Cpu.PC&4)*8)), "step %d: instruction proof does not verify", i)
		if op := insn >> 26; op >= 0x20 && !exited && !preempt {
			w, ok := VerifyMemoryProof(root, addr, proofs[MemProofSize:2*MemProofSize])
			require.True(t, ok, "step %d: memory proof for %#x does not verify", i, addr)
			require.Equal(t, memWord, w, "step %d: memory proof for %#x does not verify", i, addr)
			memChecked++
		}
		require.False(t, i%997 == 0 && s.Hash() != fastState.Hash(), "step %d: proof and fast paths diverged", i)
	}
	require.Equal(t, fastState.Hash(), s.Hash(), "proof and fast paths diverged")
	require.NotEqual(t, 0, memChecked, "no memory proof checked")
}

func TestGuestPreimageWitness(t *testing.T) {
	o := NewMemoryOracle()
	o.Set(OracleGuestKey(), []byte("witness me"))
	s, _, err := LoadProgram(guestELF(t, "oracle"))
	require.NoError(t, err)
	m := NewVM(s, o, nil, nil)
	for !s.Exited {
		th := s.CurrentThread()
		isRead := th.Registers[regV0] == sysRead && th.Registers[regA0] == FdPreimageRead && m.fetch(th.Cpu.PC) == syscallInsn
		wit, err := m.Step(isRead)
		require.NoError(t, err)
		if !isRead {
			continue
		}
		require.True(t, wit.HasPreimage(), "read witness without pre-image")
		require.Equal(t, OracleGuestKey(), wit.PreimageKey, "read witness without pre-image")
		want := binary.BigEndian.AppendUint64(nil, 10)
		want = append(want, "witness me"...)
		require.Equal(t, want, wit.PreimageValue, "pre-image value %q offset %d", wit.PreimageValue, wit.PreimageOffset)
		require.Less(t, wit.PreimageOffset, uint64(len(want)), "pre-image value %q offset %d", wit.PreimageValue, wit.PreimageOffset)
		return
	}
	require.FailNow(t, "no pre-image read seen")
}

// BenchmarkRun measures the fast path on the threads guest program.
func BenchmarkRun(b *testing.B) {
	s, _, err := LoadProgram(guestELF(b, "threads"))
	require.NoError(b, err)
	var steps uint64
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := s.Copy()
		m := NewVM(st, NewMemoryOracle(), nil, nil)
		require.NoError(b, m.Run(0))
		steps += st.Step
	}
	b.ReportMetric(float64(steps)/time.Since(start).Seconds(), "steps/s")
}
