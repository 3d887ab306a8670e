// Package actor has the players of a FaultDisputeGame: the solver that decides, from a trace, which claims
// to counter and how (the honest challenger's rules of the OP Stack specs, fault-proof/stage-one/
// honest-challenger-fdg.md), the uploader that puts a step's pre-image into the PreimageOracle, and the
// dishonest strategies, which are the same solver over a trace that lies in a chosen way. It sits between
// game/trace (what is true) and game/contracts (the transactions).
package actor

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/game/trace"
)

// Kind is what an action does.
type Kind string

const (
	Attack Kind = "attack"
	Defend Kind = "defend"
	Step   Kind = "step"
)

// Action is one response the solver chose.
type Action struct {
	Kind   Kind
	Parent *trace.Claim // the claim countered
	// Value and Position are a move's new claim.
	Value    common.Hash
	Position trace.Position
	// StepData is a step's pre-state, proof and pre-image; StepAttack whether it attacks the leaf.
	StepData   *trace.StepData
	StepAttack bool
	// StepPos is the position whose trace index the step's pre-state is at.
	StepPos trace.Position
}

// claimID names a claim by what it is, not where it is in the list, so that a planned move is honest
// before it is made.
type claimID struct {
	parent int
	pos    trace.Position
	value  common.Hash
}

func idOf(c *trace.Claim) claimID { return claimID{c.Parent, c.Position, c.Value} }

// honestClaims tracks the claims the actor agrees with (made or planned) and its counter to each claim.
type honestClaims struct {
	agreed   map[claimID]bool
	counters map[claimID]*trace.Claim
}

func (h *honestClaims) add(parent, c *trace.Claim) {
	h.agreed[idOf(c)] = true
	if parent != nil {
		h.counters[idOf(parent)] = c
	}
}

// Solver decides an actor's responses from its trace.
type Solver struct {
	Trace trace.Accessor
}

func (s *Solver) agrees(g *trace.Game, c *trace.Claim) (bool, error) {
	v, err := s.Trace.Get(g, c, c.Position)
	if err != nil {
		return false, fmt.Errorf("claim %d at %s: %w", c.Index, c.Position, err)
	}
	return v == c.Value, nil
}

// AgreesWithRoot says whether the actor's trace has the root claim.
func (s *Solver) AgreesWithRoot(g *trace.Game) (bool, error) { return s.agrees(g, g.Claims[0]) }

// NextActions returns every response the actor would make to the game as it stands. The rules:
//   - never counter a claim the actor agrees with (its own moves, and the root if it agrees with it);
//   - counter the root if it disagrees, and every claim countering one of its claims;
//   - otherwise only claims countering a claim it countered too, and of those only the ones at or left of
//     its own counter (a claim right of it is beaten by the leftmost uncountered counter anyway);
//   - counter by attacking a claim it disagrees with and defending one it agrees with (never the root);
//   - at the maximum depth, counter with a step: attack from the pre-state of the leaf's trace index if
//     it disagrees, else defend from the next index's.
func (s *Solver) NextActions(g *trace.Game) ([]Action, error) {
	h := &honestClaims{agreed: map[claimID]bool{}, counters: map[claimID]*trace.Claim{}}
	root := g.Claims[0]
	agreeRoot, err := s.AgreesWithRoot(g)
	if err != nil {
		return nil, err
	}
	if agreeRoot {
		h.add(nil, root)
	}
	existing := map[claimID]bool{}
	for _, c := range g.Claims {
		existing[idOf(c)] = true
	}
	var actions []Action
	for _, c := range g.Claims {
		counter, err := s.shouldCounter(g, h, c)
		if err != nil {
			return actions, err
		}
		if !counter {
			continue
		}
		agree, err := s.agrees(g, c)
		if err != nil {
			return actions, err
		}
		if c.Depth() == g.MaxDepth {
			if c.CounteredBy != (common.Address{}) {
				continue
			}
			pos := c.Position
			if agree {
				pos = trace.NewPosition(pos.Depth(), pos.IndexAtDepth()+1)
			}
			data, err := s.Trace.StepData(g, c, pos)
			if err != nil {
				return actions, fmt.Errorf("step on claim %d: %w", c.Index, err)
			}
			actions = append(actions, Action{Kind: Step, Parent: c, StepData: data, StepAttack: !agree, StepPos: pos})
			continue
		}
		if agree && c.IsRoot() {
			continue // the root cannot be defended
		}
		pos := c.Position.Move(!agree)
		value, err := s.Trace.Get(g, c, pos)
		if err != nil {
			return actions, fmt.Errorf("response to claim %d: %w", c.Index, err)
		}
		move := &trace.Claim{Index: -1, Parent: c.Index, Value: value, Position: pos}
		h.add(c, move)
		if existing[idOf(move)] {
			continue // already made (by this actor or another with the same trace)
		}
		kind := Attack
		if agree {
			kind = Defend
		}
		actions = append(actions, Action{Kind: kind, Parent: c, Value: value, Position: pos})
	}
	return actions, nil
}

func (s *Solver) shouldCounter(g *trace.Game, h *honestClaims, c *trace.Claim) (bool, error) {
	if h.agreed[idOf(c)] {
		return false, nil
	}
	if c.IsRoot() {
		return true, nil
	}
	parent := g.ParentOf(c)
	if h.agreed[idOf(parent)] {
		return true, nil
	}
	mine, ok := h.counters[idOf(parent)]
	if !ok {
		return false, nil
	}
	return c.Position.TraceIndex(g.MaxDepth) <= mine.Position.TraceIndex(g.MaxDepth), nil
}
