package trace

import (
	"fmt"
	"math/big"
	"math/bits"
)

// MaxDepth is the deepest position this package handles: gindexes fit 64 bits. (The contract allows 126;
// a devnet game needs far fewer.)
const MaxDepth = 62

// Position is a claim's place in the game tree as its generalized index: 1 is the root, 2p the attack on
// p (its left child) and 2p+1 its right child. The depth is the gindex's highest set bit, the index at
// depth the bits below it. These are LibPosition's rules.
type Position uint64

// RootPosition is the root claim's position.
const RootPosition Position = 1

// NewPosition is the position at depth with index at depth idx.
func NewPosition(depth uint64, idx uint64) Position { return Position(1<<depth | idx) }

// PositionFromBig converts a contract's uint128 position.
func PositionFromBig(b *big.Int) (Position, error) {
	if b.Sign() <= 0 || b.BitLen() > MaxDepth+1 {
		return 0, fmt.Errorf("position %s outside depths 0-%d", b, MaxDepth)
	}
	return Position(b.Uint64()), nil
}

// Big is the position as the contract's uint128.
func (p Position) Big() *big.Int { return new(big.Int).SetUint64(uint64(p)) }

// Depth is the position's depth: 0 for the root.
func (p Position) Depth() uint64 { return uint64(bits.Len64(uint64(p)) - 1) }

// IndexAtDepth is the position's index among the positions at its depth, from the left.
func (p Position) IndexAtDepth() uint64 { return uint64(p) &^ (1 << p.Depth()) }

// Parent is the position above.
func (p Position) Parent() Position { return p >> 1 }

// Attack is the position of a claim attacking one at p: its left child.
func (p Position) Attack() Position { return p << 1 }

// Defend is the position of a claim defending one at p: the left child of p's right sibling (for a
// right child, its own left child), as LibPosition.move computes it.
func (p Position) Defend() Position { return (p | 1) << 1 }

// Move is Attack or Defend.
func (p Position) Move(attack bool) Position {
	if attack {
		return p.Attack()
	}
	return p.Defend()
}

// RightIndex is the rightmost position at maxDepth below p.
func (p Position) RightIndex(maxDepth uint64) Position {
	rem := maxDepth - p.Depth()
	return p<<rem | (1<<rem - 1)
}

// TraceIndex is the index at maxDepth of RightIndex: the trace index a claim at p commits to.
func (p Position) TraceIndex(maxDepth uint64) uint64 { return p.RightIndex(maxDepth).IndexAtDepth() }

// TraceAncestor is the highest ancestor committing to the same trace index as p (p itself if none).
func (p Position) TraceAncestor() Position {
	a := p >> bits.TrailingZeros64(^uint64(p))
	return max(a, 1)
}

// TraceAncestorBounded is TraceAncestor kept below depth bound: an ancestor at or above it is replaced
// by its rightmost descendant at depth bound+1 (LibPosition.traceAncestorBounded).
func (p Position) TraceAncestorBounded(bound uint64) Position {
	a := p.TraceAncestor()
	if a.Depth() <= bound {
		a = a.RightIndex(bound + 1)
	}
	return a
}

// RelativeTo is p as a position in the subtree rooted at its ancestor at depth d: the same index bits
// below d, the ancestor as the new root.
func (p Position) RelativeTo(d uint64) (Position, error) {
	if p.Depth() < d {
		return 0, fmt.Errorf("position %d (depth %d) is above depth %d", p, p.Depth(), d)
	}
	rel := p.Depth() - d
	return NewPosition(rel, p.IndexAtDepth()&(1<<rel-1)), nil
}

// IsAttackOn says whether p is the attack position of parent.
func (p Position) IsAttackOn(parent Position) bool { return p == parent.Attack() }

func (p Position) String() string {
	return fmt.Sprintf("%d (depth %d, index %d)", uint64(p), p.Depth(), p.IndexAtDepth())
}
