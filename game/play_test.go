package game

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/toychain"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// The toy chain's blocks: block n reads toyKinds[n-1].
var toyKinds = []toychain.Kind{
	toychain.Keccak, toychain.Sha256, toychain.Blob, toychain.Precompile,
	toychain.LargeKeccak, toychain.Keccak, toychain.Keccak, toychain.Keccak,
}

var (
	toyOnce  sync.Once
	toyChain *toychain.Chain
	toyState *vm.State
	toyErr   error
)

// toyConfig is a game configuration on the toy chain: 8 blocks (split depth 3), traces of 2^24 steps. The
// maximum depth is even, so the proposer's side makes the leaves and challengers step.
func toyConfig(t *testing.T) *Config {
	t.Helper()
	toyOnce.Do(func() {
		if toyChain, toyErr = toychain.New(toyKinds...); toyErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "toy-program")
		if err != nil {
			toyErr = err
			return
		}
		defer os.RemoveAll(dir)
		elf, err := toychain.BuildProgram(filepath.Join(".."), dir)
		if err != nil {
			toyErr = err
			return
		}
		data, err := os.ReadFile(elf)
		if err != nil {
			toyErr = err
			return
		}
		toyState, _, toyErr = vm.LoadProgram(data)
	})
	if toyErr != nil {
		require.FailNow(t, fmt.Sprint(toyErr))
	}
	src := trace.MapSource(toyChain.Preimages)
	const l1Head = 100
	return &Config{
		L1Config:     params.MergedTestChainConfig,
		L1HeadNumber: l1Head,
		L1HeadTime:   1_700_000_000,
		L1HashOf: func(n uint64) common.Hash {
			if n == l1Head {
				return toyChain.L1Head
			}
			return crypto.Keccak256Hash(binary.BigEndian.AppendUint64(nil, n))
		},
		L2ChainID: toychain.ChainID,
		Outputs:   toyChain,
		Preimages: src,
		Backend:   trace.Cached(trace.NewVMBackend(toyState, src)),
		Deploy: contracts.Params{
			MaxGameDepth: 3 + 1 + 24, SplitDepth: 3,
			ClockExtension: 3 * 3600, MaxClockDuration: 302400,
			OracleMinProposalSize: 4096, OracleChallengePeriod: 86400,
			WETHDelay: 7 * 86400, FinalityDelay: 302400,
			InitBond: big.NewInt(8e16), AnchorBlock: 0, L2GasLimit: 30_000_000,
		},
	}
}

func strategy(t *testing.T, s string) *actor.Strategy {
	t.Helper()
	st, err := actor.ParseStrategy(s)
	require.NoError(t, err)
	return &st
}

// TestToyGames plays games on the toy chain with our VM's traces on the real contracts: each resolves for
// the right side, and each step the honest actor makes proves on MIPS64 the post-state our VM computed,
// after loading the pre-image the step reads by the route its type takes.
func TestToyGames(t *testing.T) {
	cfg := toyConfig(t)
	for _, tt := range []struct {
		sc        Scenario
		route     string // the honest step's pre-image route
		keyType   preimage.KeyType
		extension bool // the honest step is in the trace extension
	}{
		{sc: Scenario{Name: "blob", ClaimBlock: 6, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:3,diverge:blob")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadBlobPreimagePart", keyType: preimage.BlobKeyType},
		{sc: Scenario{Name: "lpp", ClaimBlock: 6, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:5,diverge:large-keccak:4096")},
			Challengers: []Role{{Name: "honest challenger", Delay: 7200}}}, route: "large preimage proposal", keyType: preimage.Keccak256KeyType},
		{sc: Scenario{Name: "precompile", ClaimBlock: 4, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-root,diverge:read:precompile")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadPrecompilePreimagePart", keyType: preimage.PrecompileKeyType},
		{sc: Scenario{Name: "sha256", ClaimBlock: 7, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:2,diverge:read:sha256")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadSha256PreimagePart", keyType: preimage.Sha256KeyType},
		{sc: Scenario{Name: "local", ClaimBlock: 2, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-root,diverge:read:local")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "addLocalData", keyType: preimage.LocalKeyType},
		{sc: Scenario{Name: "trace extension", ClaimBlock: 5, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-past-claim,diverge:after-exit")},
			Challengers: []Role{{Name: "honest challenger"}}}, extension: true},
	} {
		t.Run(tt.sc.Name, func(t *testing.T) {
			res, err := Play(cfg, &tt.sc)
			require.NoError(t, err)
			if !res.OK() || res.Mode != contracts.Normal {
				require.FailNow(t, fmt.Sprintf("%s, expected %s; bonds %s", res.Status, res.Expected, res.Mode))
			}
			var honestStep *StepRecord
			for i, s := range res.Steps {
				if s.Err == "" && s.Player == "honest challenger" {
					honestStep = &res.Steps[i]
				}
			}
			require.NotNil(t, honestStep, "no successful step: %+v", res.Steps)
			require.Equal(t, honestStep.VMPost, honestStep.MIPSPost, "MIPS64's post-state %s, our VM's %s", honestStep.MIPSPost, honestStep.VMPost)
			if tt.extension {
				if honestStep.VMStep < honestStep.ExitStep || honestStep.Upload != nil {
					require.FailNow(t, fmt.Sprintf("step %d (exit at %d) is not in the trace extension", honestStep.VMStep, honestStep.ExitStep))
				}
			} else if honestStep.Upload == nil || honestStep.Upload.Route != tt.route || preimage.KeyType(honestStep.Upload.Key[0]) != tt.keyType {
				require.FailNow(t, fmt.Sprintf("step's pre-image upload %+v, want route %s for key type %d", honestStep.Upload, tt.route, tt.keyType))
			}
			// Every bond went to the honest side.
			for _, b := range res.Bonds {
				for _, p := range res.Players {
					if p.Name == b.To && !p.Honest {
						require.FailNow(t, fmt.Sprintf("claim %d's bond went to %s", b.Claim, b.To))
					}
				}
			}
			t.Logf("%s in %d claims, %d moves, step %d of %d (%s), %d VM steps, %s", res.Status, len(res.Claims), len(res.Moves),
				honestStep.VMStep, honestStep.ExitStep, func() string {
					if honestStep.Upload != nil {
						return honestStep.Upload.Route
					}
					return "no pre-image"
				}(), res.VMSteps, res.Wall)
		})
	}
}

// TestToyHonestProposal: an honest proposal attacked by a dishonest challenger stands; the challenger's
// step, from the VM's own states, is refused (ValidStep), and MIPS64 computes our VM's post-state for it.
func TestToyHonestProposal(t *testing.T) {
	cfg := toyConfig(t)
	res, err := Play(cfg, &Scenario{Name: "honest proposal", ClaimBlock: 6, Proposer: Role{Name: "honest proposer"},
		Challengers: []Role{{Name: "dishonest challenger", Strategy: strategy(t, "wrong-from:4,diverge:middle")}}})
	require.NoError(t, err)
	if !res.OK() || res.Status != contracts.DefenderWins {
		require.FailNow(t, fmt.Sprintf("%s, expected %s", res.Status, res.Expected))
	}
	for _, s := range res.Steps {
		if s.Player != "dishonest challenger" || s.Err != "ValidStep()" || s.MIPSPost != s.VMPost {
			require.FailNow(t, fmt.Sprintf("step %+v", s))
		}
	}
	for _, b := range res.Bonds {
		require.Equal(t, "honest proposer", b.To, "claim %d's bond went to %s", b.Claim, b.To)
	}
}

// TestToyRightRootWrongSubclaims: a proposer with the right root defends it with wrong sub-claims against
// a dishonest challenger; the honest challenger counters the liars' claims and the root stands, its bond
// back to its proposer.
func TestToyRightRootWrongSubclaims(t *testing.T) {
	cfg := toyConfig(t)
	res, err := Play(cfg, &Scenario{Name: "right root, wrong sub-claims", ClaimBlock: 7,
		Proposer: Role{Name: "proposer", Strategy: strategy(t, "right-root-wrong-subclaims")},
		Challengers: []Role{
			{Name: "dishonest challenger", Strategy: strategy(t, "wrong-root")},
			{Name: "honest challenger", Delay: 3600},
		}})
	require.NoError(t, err)
	if !res.OK() || res.Status != contracts.DefenderWins {
		require.FailNow(t, fmt.Sprintf("%s, expected %s", res.Status, res.Expected))
	}
	honestClaims := 0
	for _, m := range res.Moves {
		if m.Player == "honest challenger" && m.Claim > 0 {
			honestClaims++
		}
	}
	require.NotEqual(t, 0, honestClaims, "the honest challenger made no claim")
	// The honest challenger's claims are never countered; it wins some of the liars' bonds.
	names := map[common.Address]string{}
	for _, p := range res.Players {
		names[p.Account] = p.Name
	}
	won := 0
	for _, b := range res.Bonds {
		by := names[res.Claims[b.Claim].Claimant]
		switch {
		case b.Claim == 0 && b.To != "proposer":
			require.FailNow(t, fmt.Sprintf("the root's bond went to %s", b.To))
		case by == "honest challenger" && b.To != by:
			require.FailNow(t, fmt.Sprintf("the honest challenger's claim %d was countered by %s", b.Claim, b.To))
		case by != "honest challenger" && b.To == "honest challenger":
			won++
		}
	}
	require.NotEqual(t, 0, won, "the honest challenger won no bond")
	t.Logf("%d claims, %d by the honest challenger; clock extensions on claims %v", len(res.Claims), honestClaims, res.Extended)
}

// honestValue says whether a claim above the split depth is the honest output.
func honestValue(cfg *Config, res *Result, c *trace.Claim) (bool, error) {
	if c.Depth() > res.Config.SplitDepth {
		return true, nil // not checked here
	}
	o := &trace.Outputs{Source: cfg.Outputs, AnchorBlock: res.Config.AnchorBlock, ClaimBlock: res.Scenario.ClaimBlock, SplitDepth: res.Config.SplitDepth}
	v, err := o.Get(c.Position)
	return v == c.Value, err
}

// TestToyClockExtensions: a challenger who answers just inside the clock extension runs its chess clock
// down to the cap and is granted an extension on each later move; it still wins, in a game longer than its
// own clock.
func TestToyClockExtensions(t *testing.T) {
	cfg := toyConfig(t)
	cfg.Deploy.MaxClockDuration = 86400
	cfg.Deploy.ClockExtension = 10800
	cfg.Deploy.OracleChallengePeriod = 3600
	res, err := Play(cfg, &Scenario{Name: "slow challenger", ClaimBlock: 6, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:5,diverge:large-keccak:4096")},
		Challengers: []Role{{Name: "honest challenger", Delay: 10800 - 60}}})
	require.NoError(t, err)
	if !res.OK() {
		require.FailNow(t, fmt.Sprintf("%s, expected %s", res.Status, res.Expected))
	}
	var extended []int
	for _, i := range res.Extended {
		if res.Claims[i].Claimant == res.Players[1].Account {
			extended = append(extended, i)
		}
	}
	if len(extended) < 5 {
		require.FailNow(t, fmt.Sprintf("the slow challenger's clock was extended on claims %v only", extended))
	}
	if d := res.Resolved - res.Started; d <= 2*cfg.Deploy.MaxClockDuration {
		require.FailNow(t, fmt.Sprintf("the game took %d s, no more than its two clocks", d))
	}
	t.Logf("extensions on claims %v; game from %d to %d (%.1f days)", extended, res.Started, res.Resolved, float64(res.Resolved-res.Started)/86400)
}

// TestToyPrestateMismatch: the honest players refuse a game deployed with another absolute prestate.
func TestToyPrestateMismatch(t *testing.T) {
	cfg := toyConfig(t)
	cfg.Deploy.AbsolutePrestate = common.HexToHash("0x03aa")
	_, err := Play(cfg, &Scenario{Name: "mismatch", ClaimBlock: 2, Proposer: Role{Name: "honest proposer"},
		Challengers: []Role{{Name: "dishonest challenger", Strategy: strategy(t, "wrong-root")}}})
	require.ErrorIs(t, err, ErrPrestateMismatch, "got %v, want %v", err, ErrPrestateMismatch)
}
