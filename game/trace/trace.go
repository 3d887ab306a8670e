// Package trace gives the claims an actor of a FaultDisputeGame would make at each position: output roots
// above the split depth (one per L2 block after the anchor, the claimed block's repeated past it), and
// below it the VM's state hashes over the fault proof program's run for the L2 block bisected to (the
// final state repeated once the program exits). It sits between the game's contracts and the actors:
// the actors ask this package what is true at a position, and for the pre-state, proof and pre-image of a
// step.
//
// The VM traces come from a Backend: our VM in process (VMBackend, with state checkpoints so that a
// bisection does not re-run the program from the start at each move) or Cannon's binary (CannonBackend).
package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// VM status bytes: the top byte of a state hash.
const (
	StatusValid      = 0
	StatusInvalid    = 1
	StatusPanic      = 2
	StatusUnfinished = 3
)

// OutputSource knows the L2 chain: its output roots and block hashes.
type OutputSource interface {
	OutputRoot(block uint64) (common.Hash, error)
	BlockHash(block uint64) (common.Hash, error)
}

// LocalInputs are the boot inputs of one run of the fault proof program: the local keys 1-5 the
// contract serves (addLocalData), and the agreed block's hash, which a host wants besides.
type LocalInputs struct {
	L1Head       common.Hash
	L2Head       common.Hash // hash of the agreed block
	AgreedOutput common.Hash // local key 2: the starting output root
	Claim        common.Hash // local key 3: the disputed output root
	ClaimBlock   uint64      // local key 4
	ChainID      uint64      // local key 5
}

// LocalKeyValue is the value of local key ident (1-5), as the contract loads it.
func (in LocalInputs) LocalKeyValue(ident uint64) ([]byte, error) {
	switch ident {
	case 1:
		return in.L1Head.Bytes(), nil
	case 2:
		return in.AgreedOutput.Bytes(), nil
	case 3:
		return in.Claim.Bytes(), nil
	case 4:
		return binary.BigEndian.AppendUint64(nil, in.ClaimBlock), nil
	case 5:
		return binary.BigEndian.AppendUint64(nil, in.ChainID), nil
	}
	return nil, fmt.Errorf("local key %d: the game serves only local keys 1-5", ident)
}

// StepData is what a step on chain needs: the encoded pre-state and proof, and the pre-image part the
// step reads (OracleKey zero when it reads none).
type StepData struct {
	TraceIndex   uint64 // the step executes the instruction at this step number
	PreState     []byte
	Proof        []byte
	PreHash      common.Hash
	PostHash     common.Hash // the state hash the step produces
	OracleKey    common.Hash
	OracleValue  []byte // with its 8-byte length prefix
	OracleOffset uint64
}

// HasPreimage says whether the step reads a pre-image part.
func (s *StepData) HasPreimage() bool { return s.OracleKey != (common.Hash{}) }

// ExecTrace is the VM's trace for one run of the program.
type ExecTrace interface {
	// Claim is the claim at trace index i: the hash of the state after i+1 steps (the final state once the
	// program has exited).
	Claim(i uint64) (common.Hash, error)
	// Step is the step from the state at step i (the absolute prestate for 0) to the next.
	Step(i uint64) (*StepData, error)
	// ExitStep is the step at which the program exited, or an error if it did not within the trace's
	// length.
	ExitStep() (uint64, error)
	// FirstRead finds the first step that reads a pre-image of a key type of at least minSize bytes
	// (without the length prefix): the step whose proof carries it.
	FirstRead(keyType byte, minSize int) (step uint64, found bool, err error)
}

// Backend makes the VM traces of program runs.
type Backend interface {
	// Prestate is the absolute prestate hash.
	Prestate() common.Hash
	// Trace returns the trace for the inputs, over 2^depth steps.
	Trace(in LocalInputs, depth uint64) (ExecTrace, error)
}

// Accessor answers an actor's questions about a game: what it would claim at a position, and the data of
// a step. Positions below the split depth need the claim the question starts from (ref), to find the
// execution subgame.
type Accessor interface {
	Get(g *Game, ref *Claim, pos Position) (common.Hash, error)
	StepData(g *Game, ref *Claim, pos Position) (*StepData, error)
}

// Outputs is the output root trace of a game: trace index i at the split depth is the output of L2 block
// AnchorBlock+i+1, and every index past the claimed block repeats its output (the contract disputes
// min(AnchorBlock+i+1, ClaimBlock)).
type Outputs struct {
	Source      OutputSource
	AnchorBlock uint64
	AnchorRoot  common.Hash
	ClaimBlock  uint64
	SplitDepth  uint64
}

// BlockAt is the L2 block a position at or above the split depth commits to.
func (o *Outputs) BlockAt(pos Position) uint64 {
	return min(o.AnchorBlock+pos.TraceIndex(o.SplitDepth)+1, o.ClaimBlock)
}

// Get is the output root at a position at or above the split depth.
func (o *Outputs) Get(pos Position) (common.Hash, error) {
	if pos.Depth() > o.SplitDepth {
		return common.Hash{}, fmt.Errorf("position %s is below the split depth %d", pos, o.SplitDepth)
	}
	return o.Source.OutputRoot(o.BlockAt(pos))
}

// Honest is the honest accessor: outputs from the L2 chain, VM traces from a backend, one per execution
// subgame's inputs (cached).
type Honest struct {
	Outputs  *Outputs
	Backend  Backend
	L1Head   common.Hash
	ChainID  uint64
	MaxDepth uint64

	mu     sync.Mutex
	traces map[LocalInputs]ExecTrace
	order  []subgameEntry
}

type subgameEntry struct {
	agreedBlock uint64
	in          LocalInputs
	trace       ExecTrace
}

// SubgameInfo is an execution subgame the accessor was asked about.
type SubgameInfo struct {
	AgreedBlock, ClaimBlock uint64
	ExitStep                uint64 // 0 if the program did not exit
	Status                  byte   // the final state's VM status
}

// Subgames lists the execution subgames asked about, in order.
func (h *Honest) Subgames() []SubgameInfo {
	h.mu.Lock()
	entries := append([]subgameEntry(nil), h.order...)
	h.mu.Unlock()
	var out []SubgameInfo
	for _, e := range entries {
		info := SubgameInfo{AgreedBlock: e.agreedBlock, ClaimBlock: e.in.ClaimBlock, Status: StatusUnfinished}
		if exit, err := e.trace.ExitStep(); err == nil {
			info.ExitStep = exit
			if c, err := e.trace.Claim(uint64(1)<<h.ExecDepth() - 1); err == nil {
				info.Status = c[0]
			}
		}
		out = append(out, info)
	}
	return out
}

// NewHonest returns the honest accessor of a game.
func NewHonest(outputs *Outputs, backend Backend, l1Head common.Hash, chainID, maxDepth uint64) *Honest {
	return &Honest{Outputs: outputs, Backend: backend, L1Head: l1Head, ChainID: chainID, MaxDepth: maxDepth, traces: map[LocalInputs]ExecTrace{}}
}

// ExecDepth is the depth of an execution subgame: 2^ExecDepth steps.
func (h *Honest) ExecDepth() uint64 { return h.MaxDepth - h.Outputs.SplitDepth - 1 }

// Inputs are the program's inputs for an execution subgame: the agreed output is the pre claim's (the
// anchor's without one), the disputed output the post claim's, at the blocks their positions commit to.
func (h *Honest) Inputs(sub *ExecSubgame) (LocalInputs, error) {
	in := LocalInputs{L1Head: h.L1Head, ChainID: h.ChainID, Claim: sub.Post.Value, ClaimBlock: h.Outputs.BlockAt(sub.Post.Position)}
	agreedBlock := h.Outputs.AnchorBlock
	in.AgreedOutput = h.Outputs.AnchorRoot
	if sub.Pre != nil {
		agreedBlock = h.Outputs.BlockAt(sub.Pre.Position)
		in.AgreedOutput = sub.Pre.Value
	}
	var err error
	if in.L2Head, err = h.Outputs.Source.BlockHash(agreedBlock); err != nil {
		return in, err
	}
	return in, nil
}

// ExecTrace returns the VM trace of an execution subgame.
func (h *Honest) ExecTrace(sub *ExecSubgame) (ExecTrace, LocalInputs, error) {
	in, err := h.Inputs(sub)
	if err != nil {
		return nil, in, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.traces[in]; ok {
		return t, in, nil
	}
	t, err := h.Backend.Trace(in, h.ExecDepth())
	if err != nil {
		return nil, in, err
	}
	h.traces[in] = t
	agreed := h.Outputs.AnchorBlock
	if sub.Pre != nil {
		agreed = h.Outputs.BlockAt(sub.Pre.Position)
	}
	h.order = append(h.order, subgameEntry{agreedBlock: agreed, in: in, trace: t})
	return t, in, nil
}

// execIndex is a position's trace index in its execution subgame.
func (h *Honest) execIndex(pos Position) (uint64, error) {
	rel, err := pos.RelativeTo(h.Outputs.SplitDepth + 1)
	if err != nil {
		return 0, err
	}
	return rel.TraceIndex(h.ExecDepth()), nil
}

// Get implements Accessor.
func (h *Honest) Get(g *Game, ref *Claim, pos Position) (common.Hash, error) {
	if pos.Depth() <= h.Outputs.SplitDepth {
		return h.Outputs.Get(pos)
	}
	sub, err := g.SubgameOf(ref, pos)
	if err != nil {
		return common.Hash{}, err
	}
	t, _, err := h.ExecTrace(sub)
	if err != nil {
		return common.Hash{}, err
	}
	idx, err := h.execIndex(pos)
	if err != nil {
		return common.Hash{}, err
	}
	return t.Claim(idx)
}

// StepData implements Accessor: the step whose pre-state is the state at the trace index of pos (a
// position at the maximum depth, or one index past the last).
func (h *Honest) StepData(g *Game, ref *Claim, pos Position) (*StepData, error) {
	sub, err := g.SubgameOf(ref, pos)
	if err != nil {
		return nil, err
	}
	t, _, err := h.ExecTrace(sub)
	if err != nil {
		return nil, err
	}
	idx, err := h.execIndex(pos)
	if err != nil {
		return nil, err
	}
	return t.Step(idx)
}

// LocalContext is the local context of an execution subgame: the key its local pre-image keys are
// localized with (FaultDisputeGame._computeLocalContext).
func (s *ExecSubgame) LocalContext() common.Hash {
	enc := func(c *Claim) []byte {
		return append(c.Value.Bytes(), common.BigToHash(c.Position.Big()).Bytes()...)
	}
	if s.Pre == nil {
		return crypto.Keccak256Hash(enc(s.Post))
	}
	return crypto.Keccak256Hash(enc(s.Pre), enc(s.Post))
}

// Cached shares traces between games: the same inputs and depth give the same trace.
func Cached(b Backend) Backend { return &cachedBackend{Backend: b, traces: map[cacheKey]ExecTrace{}} }

type cacheKey struct {
	in    LocalInputs
	depth uint64
}

type cachedBackend struct {
	Backend
	mu     sync.Mutex
	traces map[cacheKey]ExecTrace
}

func (c *cachedBackend) Trace(in LocalInputs, depth uint64) (ExecTrace, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{in, depth}
	if t, ok := c.traces[k]; ok {
		return t, nil
	}
	t, err := c.Backend.Trace(in, depth)
	if err == nil {
		c.traces[k] = t
	}
	return t, err
}

// StepsRun is how many VM steps a backend ran so far, if it counts them.
func StepsRun(b Backend) uint64 {
	for {
		switch x := b.(type) {
		case *cachedBackend:
			b = x.Backend
			continue
		case interface{ StepsRun() uint64 }:
			return x.StepsRun()
		}
		return 0
	}
}

// ErrNotExited is a trace whose program did not exit within the trace's length: its final claim would be
// an unfinished state, which no execution subgame's root may be.
var ErrNotExited = errors.New("the program did not exit within the execution trace")
