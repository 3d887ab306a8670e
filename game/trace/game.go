package trace

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// Claim is a claim of a game as an actor sees it.
type Claim struct {
	Index    int // in the game's claim list
	Parent   int // -1 for the root
	Value    common.Hash
	Position Position

	Claimant    common.Address
	CounteredBy common.Address
	Bond        *big.Int
	// ClockDuration is the time the claimant's team had used when it was made; ClockTimestamp when.
	ClockDuration, ClockTimestamp uint64
}

// IsRoot says whether this is the game's root claim.
func (c *Claim) IsRoot() bool { return c.Parent < 0 }

// Depth is the claim's depth.
func (c *Claim) Depth() uint64 { return c.Position.Depth() }

// Game is a game's claims and shape.
type Game struct {
	Claims     []*Claim
	MaxDepth   uint64
	SplitDepth uint64
}

// ParentOf returns a claim's parent, or nil for the root.
func (g *Game) ParentOf(c *Claim) *Claim {
	if c.Parent < 0 {
		return nil
	}
	return g.Claims[c.Parent]
}

// AncestorAtDepth walks up from c to its ancestor at depth d.
func (g *Game) AncestorAtDepth(c *Claim, d uint64) (*Claim, error) {
	for c.Depth() > d {
		if c = g.ParentOf(c); c == nil {
			return nil, fmt.Errorf("no ancestor at depth %d", d)
		}
	}
	if c.Depth() != d {
		return nil, fmt.Errorf("claim %d is above depth %d", c.Index, d)
	}
	return c, nil
}

// AncestorWithTraceIndex walks up from c to the first claim committing to trace index idx at depth d.
func (g *Game) AncestorWithTraceIndex(c *Claim, d, idx uint64) (*Claim, error) {
	for c.Position.TraceIndex(d) != idx {
		if c = g.ParentOf(c); c == nil {
			return nil, fmt.Errorf("no ancestor commits to trace index %d at depth %d", idx, d)
		}
	}
	return c, nil
}

// DefendsParent says whether c is a defense of its parent (rather than an attack).
func (g *Game) DefendsParent(c *Claim) bool {
	p := g.ParentOf(c)
	return p != nil && !c.Position.IsAttackOn(p.Position)
}

// ExecSubgame names the execution trace bisection a position below the split depth is in: the output
// claims before and after it (Pre is nil when the subgame starts at the anchor state) and the local
// context the contract computes from them.
type ExecSubgame struct {
	Pre, Post *Claim
}

// SubgameOf finds the execution subgame of a position below the split depth, from a claim ref on the
// path to it (the position's parent, or ref itself): the output claim at the split depth above ref is
// the disputed (post) output if the position is left of it or at it, else the agreed (pre) one; the other
// is the claim committing to the adjacent trace index further up.
func (g *Game) SubgameOf(ref *Claim, pos Position) (*ExecSubgame, error) {
	if pos.Depth() <= g.SplitDepth {
		return nil, fmt.Errorf("position %s is not below the split depth %d", pos, g.SplitDepth)
	}
	leaf, err := g.AncestorAtDepth(ref, g.SplitDepth)
	if err != nil {
		return nil, err
	}
	d := pos.Depth()
	if pos.TraceIndex(d) > leaf.Position.TraceIndex(d) {
		post, err := g.AncestorWithTraceIndex(leaf, g.SplitDepth, leaf.Position.TraceIndex(g.SplitDepth)+1)
		if err != nil {
			return nil, err
		}
		return &ExecSubgame{Pre: leaf, Post: post}, nil
	}
	sub := &ExecSubgame{Post: leaf}
	if idx := leaf.Position.TraceIndex(g.SplitDepth); idx > 0 {
		if sub.Pre, err = g.AncestorWithTraceIndex(leaf, g.SplitDepth, idx-1); err != nil {
			return nil, err
		}
	}
	return sub, nil
}
