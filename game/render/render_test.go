package render

import (
	"bytes"
	"encoding/xml"
	"io"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/trace"
)

// testResult is a hand-made game of depth 6 (split 2): a root, two counters to it (a branch), a
// bisection below the first down to a leaf, and a step on it.
func testResult() *game.Result {
	alice, bob := common.HexToAddress("0xa1"), common.HexToAddress("0xb0")
	bond := big.NewInt(1e17)
	claim := func(i, parent int, pos trace.Position, by common.Address, v byte) *trace.Claim {
		return &trace.Claim{Index: i, Parent: parent, Position: pos, Claimant: by, Bond: bond, Value: common.Hash{v, byte(i)}}
	}
	claims := []*trace.Claim{
		claim(0, -1, 1, alice, 0xaa),
		claim(1, 0, 2, bob, 0xbb),
		claim(2, 0, 2, alice, 0xcc), // a second counter to the root: a branch
		claim(3, 1, 4, alice, 0xaa),
		claim(4, 3, 8, bob, 1),       // exec root: status invalid
		claim(5, 4, 16, alice, 3),    // state, running
		claim(6, 5, 32, bob, 3),      // leaf
		claim(7, 5, 34, alice, 3),    // another leaf
		claim(8, 2, 4, bob, 0xdd),    // under the branch
		claim(9, 8, 10, alice, 0xee), // a defense
	}
	claims[6].CounteredBy = alice
	sc := &game.Scenario{Name: "test", Title: "a test game", ClaimBlock: 3,
		Proposer: game.Role{Name: "alice"}, Challengers: []game.Role{{Name: "bob", Strategy: &actorStrategy}}}
	return &game.Result{
		Scenario: sc,
		Config:   contracts.Params{MaxGameDepth: 6, SplitDepth: 2, AnchorBlock: 0},
		Status:   contracts.DefenderWins, Expected: contracts.DefenderWins, Mode: contracts.Normal,
		Claims: claims,
		Steps:  []game.StepRecord{{Player: "alice", Leaf: 6, Attack: true, VMStep: 0, ClaimBlock: 1, ExitStep: 5, Gas: 300000}},
		Bonds:  []game.Bond{{Claim: 6, Amount: bond, To: "alice"}},
		Players: []*game.PlayerResult{
			{Name: "alice", Account: alice, Honest: true, Bonded: bond, Paid: bond},
			{Name: "bob", Account: bob, Bonded: bond, Paid: new(big.Int)},
		},
		Started: 100, Resolved: 100 + 86400,
	}
}

var actorStrategy = actor.Strategy{Name: "wrong-root"}

func TestText(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Text(&out, testResult()))
	s := out.String()
	for _, want := range []string{
		"#0 d0 root by alice: output of block 3 (the proposal)",
		"├─ #1 d1 attack #0 by bob: output of block 2",
		"└─ #2 d1 attack #0 by alice",
		"#9 d3 defend #8 by alice: VM",
		"#4 d3 attack #3 by bob: VM final state (invalid)",
		"#6 d5 attack #5 by bob: VM state after step 2 (running)",
		"countered by alice",
		"step: alice attacks #6 with VM step 0 of block 1's run (exits at 5)",
		"result: defender wins (expected defender wins) ✓",
	} {
		require.Contains(t, s, want, "no %q in\n%s", want, s)
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, SVG(&out, []*game.Result{testResult(), testResult()}))
	dec := xml.NewDecoder(&out)
	circles := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "not XML")
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
			circles++
		}
	}
	require.NotEqual(t, 0, circles, "no claims drawn")
}
