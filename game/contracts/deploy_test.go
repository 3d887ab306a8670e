package contracts

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
)

var (
	testL1Head = crypto.Keccak256Hash([]byte("l1 head"))
	testAnchor = crypto.Keccak256Hash([]byte("anchor"))
)

func testParams() Params {
	return Params{
		AbsolutePrestate:      common.HexToHash("0x03aa"),
		MaxGameDepth:          20,
		SplitDepth:            6,
		ClockExtension:        3 * 3600,
		MaxClockDuration:      302400,
		OracleMinProposalSize: 4096,
		OracleChallengePeriod: 86400,
		WETHDelay:             7 * 86400,
		FinalityDelay:         302400,
		InitBond:              big.NewInt(8e16),
		L2ChainID:             901,
		AnchorRoot:            testAnchor,
		AnchorBlock:           10,
		L2GasLimit:            30_000_000,
	}
}

func testSystem(t *testing.T, p Params) *System {
	t.Helper()
	chain, err := NewChain(params.MergedTestChainConfig, 100, 1_700_000_000, func(n uint64) common.Hash {
		if n == 100 {
			return testL1Head
		}
		return common.Hash{}
	})
	require.NoError(t, err)
	s, err := Deploy(chain, p)
	require.NoError(t, err)
	return s
}

func TestDeployAndCreateGame(t *testing.T) {
	p := testParams()
	s := testSystem(t, p)
	s.Chain.Advance(12)
	proposer := common.HexToAddress("0x1000")
	s.Chain.Fund(proposer, big.NewInt(1e18))
	root := common.HexToHash("0x1234")
	g, rcpt, err := s.CreateGame(proposer, root, 20)
	require.NoError(t, err)
	t.Logf("create: %d gas", rcpt.GasUsed)
	for _, c := range []struct {
		method string
		want   common.Hash
	}{
		{"l1Head", testL1Head},
		{"rootClaim", root},
		{"absolutePrestate", p.AbsolutePrestate},
		{"startingRootHash", testAnchor},
	} {
		got, err := g.Bytes32(c.method)
		if err != nil || got != c.want {
			require.FailNow(t, fmt.Sprintf("%s = %s (%v), want %s", c.method, got, err, c.want))
		}
	}
	for _, c := range []struct {
		method string
		want   uint64
	}{
		{"l2BlockNumber", 20}, {"startingBlockNumber", 10}, {"maxGameDepth", 20}, {"splitDepth", 6}, {"l2ChainId", 901},
		{"wasRespectedGameTypeWhenCreated", 1},
	} {
		var got uint64
		var err error
		if c.method == "wasRespectedGameTypeWhenCreated" {
			var v any
			if v, err = g.value(c.method); err == nil && v.(bool) {
				got = 1
			}
		} else {
			got, err = g.Uint(c.method)
		}
		if err != nil || got != c.want {
			require.FailNow(t, fmt.Sprintf("%s = %d (%v), want %d", c.method, got, err, c.want))
		}
	}
	claims, err := g.Claims()
	if err != nil || len(claims) != 1 {
		require.FailNow(t, fmt.Sprintf("claims: %v %v", claims, err))
	}
	if c := claims[0]; c.Claim != root || c.Position.Uint64() != 1 || c.ParentIndex != RootParent || c.Claimant != proposer || c.Bond.Cmp(p.InitBond) != 0 {
		require.FailNow(t, fmt.Sprintf("root claim %+v", c))
	}

	// An attack on the root at gindex 2, with the bond getRequiredBond asks.
	challenger := common.HexToAddress("0x2000")
	s.Chain.Fund(challenger, big.NewInt(1e18))
	s.Chain.Advance(12)
	_, err = g.Move(challenger, 0, root, common.HexToHash("0x5678"), true, big.NewInt(2))
	require.NoError(t, err)
	c, err := g.Claim(1)
	require.NoError(t, err)
	if c.Position.Uint64() != 2 || c.ParentIndex != 0 || c.Claimant != challenger || c.ClockTimestamp != s.Chain.Time() || c.ClockDuration != 12 {
		require.FailNow(t, fmt.Sprintf("attack claim %+v", c))
	}
	// Defending the root is refused, with the contract's error decoded.
	_, err = g.Move(challenger, 0, root, common.HexToHash("0x9999"), false, big.NewInt(3))
	var rev *RevertError
	if !errors.As(err, &rev) || rev.Reason != "CannotDefendRootClaim()" {
		require.FailNow(t, fmt.Sprintf("defending the root: %v", err))
	}
	// A game at or before the anchor block is refused.
	_, _, err = s.CreateGame(proposer, common.HexToHash("0x77"), 10)
	if !errors.As(err, &rev) || rev.Reason != "UnexpectedRootClaim(0x0000000000000000000000000000000000000000000000000000000000000077)" {
		require.FailNow(t, fmt.Sprintf("game at the anchor block: %v", err))
	}
}

// TestGameParamsChecked: the constructor's checks of the game's shape are the contract's.
func TestGameParamsChecked(t *testing.T) {
	p := testParams()
	p.SplitDepth = p.MaxGameDepth - 1
	chain, err := NewChain(params.MergedTestChainConfig, 1, 1, func(uint64) common.Hash { return common.Hash{} })
	require.NoError(t, err)
	_, err = Deploy(chain, p)
	var rev *RevertError
	if !errors.As(err, &rev) || rev.Reason != "InvalidSplitDepth()" {
		require.FailNow(t, fmt.Sprintf("split depth = max depth - 1: %v", err))
	}
}
