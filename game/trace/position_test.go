package trace

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The rules of LibPosition, with values worked by hand.
func TestPosition(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  uint64
		want uint64
	}{
		{"root depth", RootPosition.Depth(), 0},
		{"depth of gindex 5", Position(5).Depth(), 2},
		{"index of gindex 5", Position(5).IndexAtDepth(), 1},
		{"attack on the root", uint64(RootPosition.Attack()), 2},
		{"defend gindex 2", uint64(Position(2).Defend()), 6},
		{"defend gindex 3 (a right child: its left child)", uint64(Position(3).Defend()), 6},
		{"trace index of the root at depth 3", RootPosition.TraceIndex(3), 7},
		{"trace index of gindex 2 at depth 3", Position(2).TraceIndex(3), 3},
		{"trace index of gindex 6 at depth 3", Position(6).TraceIndex(3), 5},
		{"right index of gindex 2 at depth 3", uint64(Position(2).RightIndex(3)), 11},
		{"trace ancestor of gindex 11 (...011)", uint64(Position(11).TraceAncestor()), 2},
		{"trace ancestor of gindex 15 (all ones: the root)", uint64(Position(15).TraceAncestor()), 1},
		{"trace ancestor of gindex 10", uint64(Position(10).TraceAncestor()), 10},
		{"bounded trace ancestor of 15 below depth 1", uint64(Position(15).TraceAncestorBounded(1)), 7},
		{"gindex 13 relative to depth 2", uint64(mustRel(t, 13, 2)), 3},
		{"gindex 13 relative to depth 3", uint64(mustRel(t, 13, 3)), 1},
	} {
		require.Equal(t, tt.want, tt.got, "%s: %d, want %d", tt.name, tt.got, tt.want)
	}
	_, err := Position(3).RelativeTo(2)
	require.Error(t, err, "a position above the subtree root is relative to it")
}

func mustRel(t *testing.T, p Position, d uint64) Position {
	r, err := p.RelativeTo(d)
	require.NoError(t, err)
	return r
}
