package trace

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// PreimageSource serves global pre-images (every key type but local).
type PreimageSource interface {
	Get(key [32]byte) ([]byte, error)
}

// MapSource serves pre-images from a map.
type MapSource map[[32]byte][]byte

func (m MapSource) Get(key [32]byte) ([]byte, error) {
	v, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("missing pre-image %x", key)
	}
	return v, nil
}

// VMBackend runs the program in our VM, in process. Each trace keeps a few state checkpoints: the state
// at a step is computed from the nearest checkpoint below it, so a bisection runs the program about twice
// in all instead of once per move.
type VMBackend struct {
	prestate *vm.State // hashed once; never run
	hash     common.Hash
	witness  []byte
	source   PreimageSource
	// Checkpoints is how many states a trace keeps besides the prestate (each is a copy of the VM's
	// memory: tens of MB for the fault proof program).
	Checkpoints int
	// Stats counts the work done.
	Stats VMStats
}

// VMStats counts the steps a backend ran and the states it copied.
type VMStats struct {
	mu          sync.Mutex
	Steps       uint64
	Copies      int
	ProofsTaken int
}

func (s *VMStats) add(steps uint64, copies, proofs int) {
	s.mu.Lock()
	s.Steps += steps
	s.Copies += copies
	s.ProofsTaken += proofs
	s.mu.Unlock()
}

// Snapshot returns the counts so far.
func (s *VMStats) Snapshot() (steps uint64, copies, proofs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Steps, s.Copies, s.ProofsTaken
}

// NewVMBackend makes a backend running prestate (a state at step 0, e.g. from vm.LoadProgram), with
// global pre-images from source.
func NewVMBackend(prestate *vm.State, source PreimageSource) *VMBackend {
	s := prestate.Copy()
	w, h := s.EncodeWitness()
	return &VMBackend{prestate: s, hash: h, witness: w, source: source, Checkpoints: 6}
}

// StepsRun is how many VM steps the backend ran.
func (b *VMBackend) StepsRun() uint64 {
	steps, _, _ := b.Stats.Snapshot()
	return steps
}

// Prestate implements Backend.
func (b *VMBackend) Prestate() common.Hash { return b.hash }

// Trace implements Backend.
func (b *VMBackend) Trace(in LocalInputs, depth uint64) (ExecTrace, error) {
	if depth > 62 {
		return nil, fmt.Errorf("execution trace depth %d: at most 62", depth)
	}
	return &vmTrace{b: b, in: in, length: 1 << depth, hashes: map[uint64]common.Hash{0: b.hash},
		checkpoints: []checkpoint{{step: 0, state: b.prestate}}}, nil
}

type checkpoint struct {
	step  uint64
	state *vm.State // not run again: runs start from copies
}

// vmTrace is one program run's trace.
type vmTrace struct {
	b      *VMBackend
	in     LocalInputs
	length uint64 // steps in the trace: 2^depth

	mu          sync.Mutex
	checkpoints []checkpoint // by step; [0] is the prestate
	hashes      map[uint64]common.Hash
	final       *vm.State // once the program exited
	finalHash   common.Hash
	lastQuery   uint64
	// reads are the pre-image reads of a run from the prestate to the exit: the step that read a key
	// the VM had not just read, the key and the pre-image's size.
	reads     []preimageRead
	readsDone bool
}

type preimageRead struct {
	step uint64
	key  [32]byte
	size int
}

// oracleFailure carries an oracle error out of the VM, which has no error path for pre-image reads.
type oracleFailure struct{ err error }

// vmOracle serves one run: local keys from its inputs, global keys from the source, each checked
// against its key.
type vmOracle struct {
	in     LocalInputs
	source PreimageSource
	record func(key [32]byte, size int)
}

func (o *vmOracle) Hint([]byte) {}

func (o *vmOracle) GetPreimage(k [32]byte) []byte {
	var v []byte
	var err error
	if preimage.KeyType(k[0]) == preimage.LocalKeyType {
		v, err = o.in.LocalKeyValue(binary.BigEndian.Uint64(k[24:]))
	} else if v, err = o.source.Get(k); err == nil {
		err = preimage.Verify(k, v)
	}
	if err != nil {
		panic(oracleFailure{err})
	}
	if o.record != nil {
		o.record(k, len(v))
	}
	return v
}

// runTo advances s to step target (or its exit) in the VM. A run from the prestate to the exit records
// the pre-image reads.
func (t *vmTrace) runTo(s *vm.State, target uint64) (err error) {
	start := s.Step
	o := &vmOracle{in: t.in, source: t.b.source}
	var reads []preimageRead
	if start == 0 && !t.readsDone {
		o.record = func(key [32]byte, size int) {
			reads = append(reads, preimageRead{step: s.Step - 1, key: key, size: size}) // Step counts the step being executed
		}
	}
	defer func() {
		if p := recover(); p != nil {
			if f, ok := p.(oracleFailure); ok {
				err = fmt.Errorf("step %d: %w", s.Step, f.err)
				return
			}
			err = fmt.Errorf("step %d: VM failure: %v", s.Step, p)
		}
		t.b.Stats.add(s.Step-start, 0, 0)
		if err == nil && o.record != nil && s.Exited {
			t.reads, t.readsDone = reads, true
		}
	}()
	m := vm.NewVM(s, o, nil, nil)
	for s.Step < target && !s.Exited {
		if err := m.Run(target - s.Step); err != nil {
			return fmt.Errorf("step %d: %w", s.Step, err)
		}
	}
	return nil
}

// FirstRead implements ExecTrace.
func (t *vmTrace) FirstRead(keyType byte, minSize int) (uint64, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.readsDone {
		s := t.b.prestate.Copy()
		if err := t.runTo(s, t.length); err != nil {
			return 0, false, err
		}
		if !s.Exited {
			return 0, false, fmt.Errorf("%w: not exited after %d steps", ErrNotExited, t.length)
		}
	}
	for _, r := range t.reads {
		if r.key[0] == keyType && r.size >= minSize {
			return r.step, true, nil
		}
	}
	return 0, false, nil
}

// stateAt returns the state at a step (the final state past the program's exit), as a checkpoint the
// caller must not run.
func (t *vmTrace) stateAt(step uint64) (*vm.State, error) {
	t.lastQuery = step
	if t.final != nil && step >= t.final.Step {
		return t.final, nil
	}
	i := sort.Search(len(t.checkpoints), func(i int) bool { return t.checkpoints[i].step > step }) - 1
	base := t.checkpoints[i]
	if base.step == step {
		return base.state, nil
	}
	s := base.state.Copy()
	t.b.Stats.add(0, 1, 0)
	if err := t.runTo(s, step); err != nil {
		return nil, fmt.Errorf("program run for claim %s at L2 block %d: %w", t.in.Claim, t.in.ClaimBlock, err)
	}
	if s.Exited {
		t.final, t.finalHash = s, s.Hash()
		t.hashes[s.Step] = t.finalHash
		return s, nil
	}
	t.addCheckpoint(checkpoint{step: step, state: s})
	return s, nil
}

// addCheckpoint keeps a state, dropping the one farthest from the last query beyond the capacity.
func (t *vmTrace) addCheckpoint(c checkpoint) {
	i := sort.Search(len(t.checkpoints), func(i int) bool { return t.checkpoints[i].step > c.step })
	t.checkpoints = append(t.checkpoints[:i], append([]checkpoint{c}, t.checkpoints[i:]...)...)
	for len(t.checkpoints) > t.b.Checkpoints+1 {
		far, dist := 0, uint64(0)
		for j := 1; j < len(t.checkpoints); j++ {
			d := max(t.checkpoints[j].step, t.lastQuery) - min(t.checkpoints[j].step, t.lastQuery)
			if d >= dist {
				far, dist = j, d
			}
		}
		t.checkpoints = append(t.checkpoints[:far], t.checkpoints[far+1:]...)
	}
}

func (t *vmTrace) hashAt(step uint64) (common.Hash, error) {
	if h, ok := t.hashes[step]; ok {
		return h, nil
	}
	if t.final != nil && step >= t.final.Step {
		return t.finalHash, nil
	}
	s, err := t.stateAt(step)
	if err != nil {
		return common.Hash{}, err
	}
	h := s.Hash()
	t.hashes[s.Step] = h
	return h, nil
}

// Claim implements ExecTrace.
func (t *vmTrace) Claim(i uint64) (common.Hash, error) {
	if i >= t.length {
		return common.Hash{}, fmt.Errorf("trace index %d beyond the trace's %d steps", i, t.length)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i == t.length-1 { // the subgame's root claims the final state
		if _, err := t.exitStep(); err != nil {
			return common.Hash{}, err
		}
	}
	return t.hashAt(i + 1)
}

// ExitStep implements ExecTrace.
func (t *vmTrace) ExitStep() (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exitStep()
}

func (t *vmTrace) exitStep() (uint64, error) {
	if t.final == nil {
		s, err := t.stateAt(t.length)
		if err != nil {
			return 0, err
		}
		if !s.Exited {
			return 0, fmt.Errorf("%w: not exited after %d steps", ErrNotExited, t.length)
		}
	}
	return t.final.Step, nil
}

// Step implements ExecTrace.
func (t *vmTrace) Step(i uint64) (*StepData, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pre, err := t.stateAt(i)
	if err != nil {
		return nil, err
	}
	if pre.Exited { // trace extension: the step leaves the final state as it is
		w, h := pre.EncodeWitness()
		return &StepData{TraceIndex: i, PreState: w, PreHash: h, PostHash: h}, nil
	}
	s := pre.Copy()
	t.b.Stats.add(0, 1, 1)
	var wit *vm.StepWitness
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("proof of step %d: %v", i, p)
			}
		}()
		wit, err = vm.NewVM(s, &vmOracle{in: t.in, source: t.b.source}, nil, nil).Step(true)
	}()
	if err != nil {
		return nil, err
	}
	d := &StepData{TraceIndex: i, PreState: wit.State, Proof: wit.ProofData, PreHash: wit.StateHash, PostHash: s.Hash()}
	if wit.HasPreimage() {
		d.OracleKey, d.OracleValue, d.OracleOffset = wit.PreimageKey, wit.PreimageValue, wit.PreimageOffset
	}
	return d, nil
}
