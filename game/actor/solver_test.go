package actor

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/game/trace"
)

// indexTrace is a trace whose claim at a position is the hash of its trace index at the maximum depth,
// shifted by offset from index from on: two indexTraces agree before their divergence.
type indexTrace struct{ from, offset uint64 }

func (t indexTrace) value(g *trace.Game, pos trace.Position) common.Hash {
	i := pos.TraceIndex(g.MaxDepth)
	if i >= t.from {
		i += t.offset
	}
	return crypto.Keccak256Hash(binary.BigEndian.AppendUint64(nil, i))
}

func (t indexTrace) Get(g *trace.Game, _ *trace.Claim, pos trace.Position) (common.Hash, error) {
	return t.value(g, pos), nil
}

func (t indexTrace) StepData(g *trace.Game, _ *trace.Claim, pos trace.Position) (*trace.StepData, error) {
	return &trace.StepData{TraceIndex: pos.TraceIndex(g.MaxDepth)}, nil
}

var (
	honestTrace = indexTrace{from: ^uint64(0)}
	liarTrace   = indexTrace{from: 5, offset: 1000}
)

// game builds a game of depth 4 from (parent, position, value-from-trace) triples.
func buildGame(claims ...struct {
	parent int
	pos    trace.Position
	t      indexTrace
}) *trace.Game {
	g := &trace.Game{MaxDepth: 4, SplitDepth: 2}
	for i, c := range claims {
		g.Claims = append(g.Claims, &trace.Claim{Index: i, Parent: c.parent, Position: c.pos, Value: c.t.value(g, c.pos)})
	}
	return g
}

type cl = struct {
	parent int
	pos    trace.Position
	t      indexTrace
}

// The honest challenger's rules, one case each.
func TestSolverRules(t *testing.T) {
	s := &Solver{Trace: honestTrace}
	for _, tt := range []struct {
		name string
		g    *trace.Game
		want []Action // Kind, Parent index, Position (or StepPos)
	}{
		{"counter a wrong root by attacking it", buildGame(cl{-1, 1, liarTrace}),
			[]Action{{Kind: Attack, Parent: &trace.Claim{Index: 0}, Position: 2}}},
		{"never counter a right root", buildGame(cl{-1, 1, honestTrace}), nil},
		{"counter a wrong attack on a right root by attacking it", buildGame(cl{-1, 1, honestTrace}, cl{0, 2, liarTrace}),
			[]Action{{Kind: Attack, Parent: &trace.Claim{Index: 1}, Position: 4}}},
		{"counter a right-valued attack on a right root by defending it", buildGame(cl{-1, 1, honestTrace}, cl{0, 2, honestTrace}),
			[]Action{{Kind: Defend, Parent: &trace.Claim{Index: 1}, Position: 6}}},
		{"do not repeat a move already made", buildGame(cl{-1, 1, honestTrace}, cl{0, 2, liarTrace}, cl{1, 4, honestTrace}), nil},
		{"ignore claims under a claim the actor did not counter", buildGame(cl{-1, 1, liarTrace}, cl{0, 2, liarTrace}, cl{1, 4, liarTrace}),
			[]Action{{Kind: Attack, Parent: &trace.Claim{Index: 0}, Position: 2}}},
		{"counter a sibling left of its counter", buildGame(cl{-1, 1, honestTrace}, cl{0, 2, liarTrace}, cl{1, 6, liarTrace}, cl{1, 4, honestTrace}),
			[]Action{}},
		// A liar's root; the bisection leaves the liar's leaf at trace index 4, whose value the actor agrees
		// with but which counters its claim at index 5: it defends with a step from index 5's pre-state.
		{"step on a leaf countering its claim", buildGame(cl{-1, 1, liarTrace}, cl{0, 2, honestTrace}, cl{1, 4, liarTrace},
			cl{2, 10, honestTrace}, cl{3, 20, liarTrace}),
			[]Action{{Kind: Step, Parent: &trace.Claim{Index: 4}, StepPos: 21, StepAttack: false}}},
		{"step against a wrong leaf from its own pre-state", buildGame(cl{-1, 1, liarTrace}, cl{0, 2, honestTrace}, cl{1, 4, liarTrace},
			cl{2, 10, honestTrace}, cl{3, 22, liarTrace}),
			[]Action{{Kind: Step, Parent: &trace.Claim{Index: 4}, StepPos: 22, StepAttack: true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.NextActions(tt.g)
			require.NoError(t, err)
			require.Equal(t, len(tt.want), len(got), "%d actions %+v, want %d", len(got), got, len(tt.want))
			for i, w := range tt.want {
				a := got[i]
				require.Equal(t, w.Kind, a.Kind, "action %d: kind", i)
				require.Equal(t, w.Parent.Index, a.Parent.Index, "action %d: parent", i)
				require.Equal(t, w.Position, a.Position, "action %d: position", i)
				require.Equal(t, w.StepPos, a.StepPos, "action %d: step position", i)
				require.Equal(t, w.StepAttack, a.StepAttack, "action %d: step attack", i)
				if a.Kind != Step && a.Value != honestTrace.value(tt.g, a.Position) {
					require.FailNow(t, fmt.Sprintf("action %d claims %s, not the trace's value", i, a.Value))
				}
			}
		})
	}
}

func TestParseStrategy(t *testing.T) {
	for _, s := range []string{"wrong-root", "wrong-from:12,diverge:blob", "wrong-past-claim,diverge:after-exit",
		"right-root-wrong-subclaims,diverge:middle", "wrong-root,diverge:read:precompile", "diverge:1234", "wrong-from:3,diverge:large-keccak:4096"} {
		_, err := ParseStrategy(s)
		require.NoError(t, err, "%s", s)
	}
	for _, s := range []string{"", "honest", "wrong-from:x", "diverge:read:mystery", "diverge:large-keccak", "wrong-root,fibs"} {
		_, err := ParseStrategy(s)
		require.Error(t, err, "%q parsed", s)
	}
}
