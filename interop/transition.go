package interop

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// The step layout of one timestamp's transition (specs/interop/fault-proof.md; op-program's
// ConsolidateStep, kona's TRANSITION_STATE_MAX_STEPS): the dispute game bisects over StepsPerTimestamp
// claims per second. Step i < number of chains derives chain i's next block; the steps after that up to
// ConsolidateStep only count (padding); the transition from ConsolidateStep checks the executing messages and
// gives the super root of the next timestamp.
const (
	StepsPerTimestamp = 128
	ConsolidateStep   = StepsPerTimestamp - 1
)

// TransitionStateVersion is the first byte of an encoded transition state.
const TransitionStateVersion byte = 0xFF

// InvalidTransition is the prestate or claim that says a transition cannot be made (a chain's next block
// is not derivable from L1 up to the L1 head). Its hash is InvalidTransitionHash.
var (
	InvalidTransition     = []byte("invalid")
	InvalidTransitionHash = common.HexToHash("0xffd7db0f9d5cdeb49c4c9eba649d4dc6d852d64671e65488e57f58584992ac68") // keccak256("invalid"), tested
)

// ErrTransitionStateVersion is returned for a prestate whose first byte is neither a super root's nor a
// transition state's version.
var ErrTransitionStateVersion = errors.New("unknown transition state version")

// OptimisticBlock is one chain's next block as derived from L1 alone, before its executing messages are
// checked.
type OptimisticBlock struct {
	BlockHash  common.Hash
	OutputRoot common.Hash
}

// TransitionState is the progress of one timestamp's transition: the agreed super root (encoded), the
// optimistic blocks derived so far (one per chain, in the super root's order) and the step counter.
type TransitionState struct {
	SuperRoot       []byte
	PendingProgress []OptimisticBlock
	Step            uint64
}

// Marshal encodes the transition state: 0xFF ++ RLP([superRoot, [[blockHash, outputRoot], ...], step]).
func (t *TransitionState) Marshal() []byte {
	enc, err := rlp.EncodeToBytes(t)
	if err != nil {
		panic(fmt.Sprintf("encode transition state: %v", err)) // only fixed-size fields and byte strings
	}
	return append([]byte{TransitionStateVersion}, enc...)
}

// Hash is keccak256 of the encoding: the claim for an intermediate step.
func (t *TransitionState) Hash() common.Hash { return crypto.Keccak256Hash(t.Marshal()) }

// PreState is an agreed prestate: a super root (at step 0 of its transition, with nothing pending) or a
// transition state, decoded, with its super root decoded too.
type PreState struct {
	Transition TransitionState
	Super      *SuperV1
	// IsSuperRoot says the encoding was a bare super root rather than a transition state.
	IsSuperRoot bool
}

// UnmarshalPreState decodes an agreed prestate: a version-1 super root or a transition state. The
// InvalidTransition marker is not a prestate: the caller handles it first.
func UnmarshalPreState(data []byte) (*PreState, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty prestate", ErrInvalidSuperRoot)
	}
	switch data[0] {
	case SuperRootVersionV1:
		s, err := UnmarshalSuperRoot(data)
		if err != nil {
			return nil, err
		}
		return &PreState{Transition: TransitionState{SuperRoot: bytes.Clone(data)}, Super: s, IsSuperRoot: true}, nil
	case TransitionStateVersion:
		var t TransitionState
		if err := rlp.DecodeBytes(data[1:], &t); err != nil {
			return nil, fmt.Errorf("decode transition state: %w", err)
		}
		s, err := UnmarshalSuperRoot(t.SuperRoot)
		if err != nil {
			return nil, fmt.Errorf("transition state's super root: %w", err)
		}
		if len(t.PendingProgress) > len(s.Chains) {
			return nil, fmt.Errorf("transition state has %d pending blocks for %d chains", len(t.PendingProgress), len(s.Chains))
		}
		if t.Step > ConsolidateStep {
			return nil, fmt.Errorf("transition state step %d is past the consolidation step %d", t.Step, ConsolidateStep)
		}
		if want := min(t.Step, uint64(len(s.Chains))); uint64(len(t.PendingProgress)) != want {
			return nil, fmt.Errorf("transition state at step %d has %d pending blocks, want %d", t.Step, len(t.PendingProgress), want)
		}
		return &PreState{Transition: t, Super: s}, nil
	default:
		return nil, fmt.Errorf("%w: version byte 0x%02x", ErrTransitionStateVersion, data[0])
	}
}

// Next is the transition state after a step that derived block b (nil for a padding step).
func (t *TransitionState) Next(b *OptimisticBlock) *TransitionState {
	next := &TransitionState{SuperRoot: t.SuperRoot, PendingProgress: t.PendingProgress, Step: t.Step + 1}
	if b != nil {
		next.PendingProgress = append(append([]OptimisticBlock(nil), t.PendingProgress...), *b)
	}
	return next
}

// NextSuperRoot is the super root one second after the transition state's, made of the (consolidated)
// pending blocks' outputs, one per chain in the super root's order.
func NextSuperRoot(prev *SuperV1, outputs []common.Hash) (*SuperV1, error) {
	if len(outputs) != len(prev.Chains) {
		return nil, fmt.Errorf("%d outputs for a super root of %d chains", len(outputs), len(prev.Chains))
	}
	next := &SuperV1{Timestamp: prev.Timestamp + 1, Chains: make([]ChainOutput, len(prev.Chains))}
	for i, c := range prev.Chains {
		next.Chains[i] = ChainOutput{ChainID: c.ChainID, Output: outputs[i]}
	}
	return next, nil
}
