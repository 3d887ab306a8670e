package vm

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
	if guestErr != nil {
		tb.Fatalf("building guest programs: %v", guestErr)
	}
	data, err := os.ReadFile(filepath.Join(guestDir, name))
	if err != nil {
		tb.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if oracle == nil {
		oracle = NewMemoryOracle()
	}
	g := &guestRun{state: s}
	g.vm = NewVM(s, oracle, &g.stdout, &g.stderr)
	start := time.Now()
	if err := g.vm.Run(200_000_000); err != nil {
		t.Fatalf("step %d: %v", s.Step, err)
	}
	t.Logf("%s: %d steps in %v, exit code %d, %d pages", name, s.Step, time.Since(start), s.ExitCode, s.Memory.PageCount())
	if !s.Exited {
		t.Fatal("guest did not exit")
	}
	return g
}

func TestGuestHello(t *testing.T) {
	g := runGuest(t, "hello", nil)
	if g.state.ExitCode != 0 || g.state.VMStatus() != StatusValid {
		t.Fatalf("exit code %d", g.state.ExitCode)
	}
	if g.stdout.String() != "hello from the guest\n" || g.stderr.String() != "args=1\n" {
		t.Fatalf("stdout %q stderr %q", g.stdout.String(), g.stderr.String())
	}
}

func TestGuestThreads(t *testing.T) {
	g := runGuest(t, "threads", nil)
	if g.state.ExitCode != 1 || g.state.VMStatus() != StatusInvalid {
		t.Fatalf("exit code %d", g.state.ExitCode)
	}
	if want := "results=200 total=287941563570306 gc=true\n"; g.stdout.String() != want {
		t.Fatalf("stdout %q, want %q", g.stdout.String(), want)
	}
	if g.state.NextThreadID < 3 {
		t.Fatalf("only %d threads were created", g.state.NextThreadID)
	}
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
	if g.state.ExitCode != 0 {
		t.Fatalf("exit code %d, stderr %s", g.state.ExitCode, g.stderr.String())
	}
	if want := "preimage=\"the pre-image served to the guest\"\n"; g.stdout.String() != want {
		t.Fatalf("stdout %q", g.stdout.String())
	}
	if h := o.Hints(); len(h) != 1 || string(h[0]) != "fetch-greeting 0x01" {
		t.Fatalf("hints %q", h)
	}
}

// TestGuestWitnesses runs the first steps of a program with witnesses and
// checks each witness against the pre-state, and that proof steps and fast
// steps reach the same state.
func TestGuestWitnesses(t *testing.T) {
	data := guestELF(t, "hello")
	s, _, err := LoadProgram(data)
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fast.Step(false); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, wit.State) || hash != wit.StateHash {
			t.Fatalf("step %d: witness state is not the pre-state", i)
		}
		if len(wit.ProofData) != ProofDataSize {
			t.Fatalf("proof data has %d bytes", len(wit.ProofData))
		}
		if !bytes.Equal(wit.ProofData[:ThreadWitnessSize], tw) {
			t.Fatalf("step %d: thread witness", i)
		}
		root := [32]byte(enc[:32])
		proofs := wit.ProofData[ThreadWitnessSize:]
		insnWord, ok := VerifyMemoryProof(root, th.Cpu.PC&^7, proofs[:MemProofSize])
		if !ok || uint32(insnWord>>(32-(th.Cpu.PC&4)*8)) != insn {
			t.Fatalf("step %d: instruction proof does not verify", i)
		}
		if op := insn >> 26; op >= 0x20 && !exited && !preempt {
			if w, ok := VerifyMemoryProof(root, addr, proofs[MemProofSize:2*MemProofSize]); !ok || w != memWord {
				t.Fatalf("step %d: memory proof for %#x does not verify", i, addr)
			}
			memChecked++
		}
		if i%997 == 0 && s.Hash() != fastState.Hash() {
			t.Fatalf("step %d: proof and fast paths diverged", i)
		}
	}
	if s.Hash() != fastState.Hash() {
		t.Fatal("proof and fast paths diverged")
	}
	if memChecked == 0 {
		t.Fatal("no memory proof checked")
	}
}

func TestGuestPreimageWitness(t *testing.T) {
	o := NewMemoryOracle()
	o.Set(OracleGuestKey(), []byte("witness me"))
	s, _, err := LoadProgram(guestELF(t, "oracle"))
	if err != nil {
		t.Fatal(err)
	}
	m := NewVM(s, o, nil, nil)
	for !s.Exited {
		th := s.CurrentThread()
		isRead := th.Registers[regV0] == sysRead && th.Registers[regA0] == FdPreimageRead && m.fetch(th.Cpu.PC) == syscallInsn
		wit, err := m.Step(isRead)
		if err != nil {
			t.Fatal(err)
		}
		if !isRead {
			continue
		}
		if !wit.HasPreimage() || wit.PreimageKey != OracleGuestKey() {
			t.Fatal("read witness without pre-image")
		}
		want := binary.BigEndian.AppendUint64(nil, 10)
		want = append(want, "witness me"...)
		if !bytes.Equal(wit.PreimageValue, want) || wit.PreimageOffset >= uint64(len(want)) {
			t.Fatalf("pre-image value %q offset %d", wit.PreimageValue, wit.PreimageOffset)
		}
		return
	}
	t.Fatal("no pre-image read seen")
}

// BenchmarkRun measures the fast path on the threads guest program.
func BenchmarkRun(b *testing.B) {
	s, _, err := LoadProgram(guestELF(b, "threads"))
	if err != nil {
		b.Fatal(err)
	}
	var steps uint64
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := s.Copy()
		m := NewVM(st, NewMemoryOracle(), nil, nil)
		if err := m.Run(0); err != nil {
			b.Fatal(err)
		}
		steps += st.Step
	}
	b.ReportMetric(float64(steps)/time.Since(start).Seconds(), "steps/s")
}
