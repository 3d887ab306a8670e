package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// CannonBackend runs the program under Cannon's binary, as op-challenger does: a first run from the
// prestate writes a snapshot every SnapshotEvery steps and the final state; a state or a proof at a step is
// a run from the snapshot below it. State hashes and witnesses are Cannon's (cannon witness), so a game
// played on this backend checks ours.
type CannonBackend struct {
	// Cannon is the binary; PrestateFile its input state (prestate.bin.gz), PrestateHash its hash.
	Cannon       string
	PrestateFile string
	PrestateHash common.Hash
	// Host returns the pre-image server command for a run's inputs (after cannon run's "--").
	Host func(in LocalInputs) []string
	// Dir holds the traces' snapshots and proofs, a directory per trace.
	Dir           string
	SnapshotEvery uint64

	mu     sync.Mutex
	traces int
	steps  uint64
}

// Prestate implements Backend.
func (b *CannonBackend) Prestate() common.Hash { return b.PrestateHash }

// StepsRun is how many steps the backend's Cannon runs executed.
func (b *CannonBackend) StepsRun() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.steps
}

// Trace implements Backend.
func (b *CannonBackend) Trace(in LocalInputs, depth uint64) (ExecTrace, error) {
	b.mu.Lock()
	b.traces++
	dir := filepath.Join(b.Dir, fmt.Sprintf("trace-%d", b.traces))
	b.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &cannonTrace{b: b, in: in, length: 1 << depth, dir: dir, hashes: map[uint64]common.Hash{0: b.PrestateHash}}, nil
}

type cannonTrace struct {
	b      *CannonBackend
	in     LocalInputs
	length uint64
	dir    string

	mu        sync.Mutex
	ran       bool     // the first run is done
	snapshots []uint64 // steps with a snapshot
	exited    bool
	exitStep  uint64
	final     *cannonWitness
	hashes    map[uint64]common.Hash
	reads     map[string]uint64 // FirstRead answers by stop flags
}

// cannonWitness is cannon witness's answer.
type cannonWitness struct {
	WitnessHash common.Hash   `json:"witnessHash"`
	Witness     hexutil.Bytes `json:"witness"`
	Step        uint64        `json:"step"`
	Exited      bool          `json:"exited"`
}

func (t *cannonTrace) run(args ...string) error {
	cmd := exec.Command(t.b.Cannon, append(append([]string{"run"}, args...), append([]string{"--"}, t.b.Host(t.in)...)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannon run: %v: %s", err, lastLine(stderr.String()))
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func (t *cannonTrace) witness(state string) (*cannonWitness, error) {
	out, err := exec.Command(t.b.Cannon, "witness", "--input", state).Output()
	if err != nil {
		return nil, fmt.Errorf("cannon witness %s: %w", state, err)
	}
	var w cannonWitness
	if err := json.Unmarshal(out, &w); err != nil {
		return nil, fmt.Errorf("cannon witness: %w", err)
	}
	return &w, nil
}

func (t *cannonTrace) snapshot(step uint64) string {
	return filepath.Join(t.dir, fmt.Sprintf("snapshot-%d.bin.gz", step))
}

// firstRun runs the whole trace once, with snapshots.
func (t *cannonTrace) firstRun() error {
	if t.ran {
		return nil
	}
	final := filepath.Join(t.dir, "final.bin.gz")
	if err := t.run("--input", t.b.PrestateFile, "--output", final, "--meta", "", "--info-at", "never",
		"--snapshot-at", fmt.Sprintf("%%%d", t.b.SnapshotEvery), "--snapshot-fmt", filepath.Join(t.dir, "snapshot-%d.bin.gz"),
		"--stop-at", fmt.Sprintf("=%d", t.length)); err != nil {
		return err
	}
	w, err := t.witness(final)
	if err != nil {
		return err
	}
	t.ran, t.final, t.exited, t.exitStep = true, w, w.Exited, w.Step
	t.b.mu.Lock()
	t.b.steps += w.Step
	t.b.mu.Unlock()
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if s, ok := strings.CutPrefix(e.Name(), "snapshot-"); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(s, ".bin.gz"), 10, 64); err == nil {
				t.snapshots = append(t.snapshots, n)
			}
		}
	}
	sort.Slice(t.snapshots, func(i, j int) bool { return t.snapshots[i] < t.snapshots[j] })
	return nil
}

// base is the state file to run from for a step: the snapshot at or below it.
func (t *cannonTrace) base(step uint64) (string, uint64) {
	i := sort.Search(len(t.snapshots), func(i int) bool { return t.snapshots[i] > step }) - 1
	if i < 0 {
		return t.b.PrestateFile, 0
	}
	return t.snapshot(t.snapshots[i]), t.snapshots[i]
}

func (t *cannonTrace) hashAt(step uint64) (common.Hash, error) {
	if err := t.firstRun(); err != nil {
		return common.Hash{}, err
	}
	if t.exited && step >= t.exitStep {
		return t.final.WitnessHash, nil
	}
	if h, ok := t.hashes[step]; ok {
		return h, nil
	}
	in, from := t.base(step)
	out := filepath.Join(t.dir, fmt.Sprintf("state-%d.bin.gz", step))
	if err := t.run("--input", in, "--output", out, "--meta", "", "--info-at", "never", "--stop-at", fmt.Sprintf("=%d", step)); err != nil {
		return common.Hash{}, err
	}
	w, err := t.witness(out)
	os.Remove(out)
	if err != nil {
		return common.Hash{}, err
	}
	t.b.mu.Lock()
	t.b.steps += step - from
	t.b.mu.Unlock()
	t.hashes[step] = w.WitnessHash
	return w.WitnessHash, nil
}

// Claim implements ExecTrace.
func (t *cannonTrace) Claim(i uint64) (common.Hash, error) {
	if i >= t.length {
		return common.Hash{}, fmt.Errorf("trace index %d beyond the trace's %d steps", i, t.length)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.firstRun(); err != nil {
		return common.Hash{}, err
	}
	if i == t.length-1 && !t.exited {
		return common.Hash{}, fmt.Errorf("%w: not exited after %d steps", ErrNotExited, t.length)
	}
	return t.hashAt(i + 1)
}

// ExitStep implements ExecTrace.
func (t *cannonTrace) ExitStep() (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.firstRun(); err != nil {
		return 0, err
	}
	if !t.exited {
		return 0, fmt.Errorf("%w: not exited after %d steps", ErrNotExited, t.length)
	}
	return t.exitStep, nil
}

// cannonProof is Cannon's proof file.
type cannonProof struct {
	Step         uint64        `json:"step"`
	Pre          common.Hash   `json:"pre"`
	Post         common.Hash   `json:"post"`
	StateData    hexutil.Bytes `json:"state-data"`
	ProofData    hexutil.Bytes `json:"proof-data"`
	OracleKey    hexutil.Bytes `json:"oracle-key"`
	OracleValue  hexutil.Bytes `json:"oracle-value"`
	OracleOffset uint64        `json:"oracle-offset"`
}

// Step implements ExecTrace.
func (t *cannonTrace) Step(i uint64) (*StepData, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.firstRun(); err != nil {
		return nil, err
	}
	if t.exited && i >= t.exitStep { // trace extension: the final state, which a step leaves as it is
		return &StepData{TraceIndex: i, PreState: t.final.Witness, PreHash: t.final.WitnessHash, PostHash: t.final.WitnessHash}, nil
	}
	in, from := t.base(i)
	file := filepath.Join(t.dir, fmt.Sprintf("proof-%d.json", i))
	if err := t.run("--input", in, "--output", "", "--meta", "", "--info-at", "never", "--proof-at", fmt.Sprintf("=%d", i),
		"--proof-fmt", filepath.Join(t.dir, "proof-%d.json"), "--stop-at", fmt.Sprintf("=%d", i+1)); err != nil {
		return nil, err
	}
	t.b.mu.Lock()
	t.b.steps += i + 1 - from
	t.b.mu.Unlock()
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p cannonProof
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("cannon proof %s: %w", file, err)
	}
	d := &StepData{TraceIndex: i, PreState: p.StateData, Proof: p.ProofData, PreHash: p.Pre, PostHash: p.Post, OracleOffset: p.OracleOffset}
	if len(p.OracleKey) == 32 {
		d.OracleKey = common.Hash(p.OracleKey)
		d.OracleValue = p.OracleValue
	}
	return d, nil
}

// cannonKeyTypes are --stop-at-preimage-type's names.
var cannonKeyTypes = map[byte]string{1: "local", 2: "keccak", 4: "sha256", 5: "blob", 6: "precompile"}

// FirstRead implements ExecTrace with Cannon's pre-image stops: a run from the prestate that stops after
// the first read of the key type (and size).
func (t *cannonTrace) FirstRead(keyType byte, minSize int) (uint64, bool, error) {
	typ, ok := cannonKeyTypes[keyType]
	if !ok {
		return 0, false, fmt.Errorf("cannon cannot stop at pre-image key type %d", keyType)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := fmt.Sprintf("%s/%d", typ, minSize)
	if s, ok := t.reads[key]; ok {
		return s, s != ^uint64(0), nil
	}
	out := filepath.Join(t.dir, "read.bin.gz")
	args := []string{"--input", t.b.PrestateFile, "--output", out, "--meta", "", "--info-at", "never", "--stop-at-preimage-type", typ,
		"--stop-at", fmt.Sprintf("=%d", t.length)}
	if minSize > 0 {
		args = append(args, "--stop-at-preimage-larger-than", strconv.Itoa(minSize+8-1)) // Cannon counts the length prefix
	}
	if err := t.run(args...); err != nil {
		return 0, false, err
	}
	w, err := t.witness(out)
	os.Remove(out)
	if err != nil {
		return 0, false, err
	}
	if t.reads == nil {
		t.reads = map[string]uint64{}
	}
	if w.Exited || w.Step >= t.length {
		t.reads[key] = ^uint64(0)
		return 0, false, nil
	}
	t.reads[key] = w.Step - 1 // stopped after the step that read
	return w.Step - 1, true, nil
}
