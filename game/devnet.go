package game

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/trace"
)

// The games' shape on the devnet:
//   - The anchor is the L2 genesis and the output bisection covers 2^6 = 64 blocks: the devnet's 70 blocks
//     minus a few, so that games on blocks up to 40 have positions past the claimed block (the output
//     trace's extension) and every game bisects outputs in 6 moves.
//   - Each execution subgame covers 2^31 VM steps: a one-block claim on the devnet takes the program from
//     56 M steps (block 8) to 1.16 G (block 70), as it re-derives from the start of the L1 chain. 31
//     levels are about 32 moves, at no cost beyond the program's run: bisecting the trace past the exit
//     repeats the final state.
//   - MAX_GAME_DEPTH = 6 + 1 + 31 = 38 is even, so the proposer's side makes the claims at the maximum
//     depth and a challenger steps on them: the honest challenger steps against a dishonest proposer.
//   - The PreimageOracle takes large-preimage proposals from 4096 bytes: the largest keccak256 pre-image
//     the program reads on the devnet is an L1 batcher transaction of 4129 bytes, far below the OP
//     Stack's deployments' 126000, so the devnet's oracle is deployed with a smaller minimum to play the
//     large-preimage path.
//   - Clocks, bonds and delays are the OP Stack's: 3.5-day chess clocks with 3-hour extensions, a 1-day
//     proposal challenge period, a 3.5-day finality delay and a 7-day WETH delay (simulated).
const (
	DevnetSplitDepth   = 6
	DevnetExecDepth    = 31
	DevnetMaxGameDepth = DevnetSplitDepth + 1 + DevnetExecDepth
	DevnetMinLPPSize   = 4096
)

// DevnetParams are the contracts' parameters for games on a devnet.
func DevnetParams(d *devnet.Devnet) contracts.Params {
	sc := d.Rollup().Genesis.SystemConfig
	return contracts.Params{
		MaxGameDepth:          DevnetMaxGameDepth,
		SplitDepth:            DevnetSplitDepth,
		ClockExtension:        3 * 3600,
		MaxClockDuration:      302400,
		OracleMinProposalSize: DevnetMinLPPSize,
		OracleChallengePeriod: 86400,
		WETHDelay:             7 * 86400,
		FinalityDelay:         302400,
		InitBond:              big.NewInt(8e16),
		AnchorBlock:           0,
		BatcherAddr:           sc.BatcherAddr,
		L2GasLimit:            sc.GasLimit,
	}
}

// DevnetOutputs is a devnet's L2 chain as an output source.
type DevnetOutputs struct{ D *devnet.Devnet }

func (o DevnetOutputs) OutputRoot(n uint64) (common.Hash, error) {
	if n > o.D.L2Head().NumberU64() {
		return common.Hash{}, fmt.Errorf("no L2 block %d (head %d)", n, o.D.L2Head().NumberU64())
	}
	return o.D.OutputRoot(n), nil
}

func (o DevnetOutputs) BlockHash(n uint64) (common.Hash, error) {
	if n > o.D.L2Head().NumberU64() {
		return common.Hash{}, fmt.Errorf("no L2 block %d (head %d)", n, o.D.L2Head().NumberU64())
	}
	return o.D.L2Block(n).Hash(), nil
}

// DevnetConfig is the configuration of games on a devnet, with VM traces from backend over the devnet's
// pre-images. The games' L1 continues the devnet's: they are created in the block after its head.
func DevnetConfig(d *devnet.Devnet, preimages trace.PreimageSource, backend trace.Backend) *Config {
	head := d.L1Head()
	return &Config{
		L1Config:     d.L1ChainConfig(),
		L1HeadNumber: head.NumberU64(),
		L1HeadTime:   head.Time(),
		L1HashOf:     func(n uint64) common.Hash { return d.L1Block(n).Hash() },
		L2ChainID:    d.Rollup().ChainID(),
		Outputs:      DevnetOutputs{d},
		Preimages:    preimages,
		Backend:      backend,
		Deploy:       DevnetParams(d),
	}
}

// devnetGame is a game of the devnet set: its scenario with the dishonest player's default strategy.
type devnetGame struct {
	name, title      string
	claimBlock       uint64
	honestIsProposer bool
	strategy         string
	honestDelay      uint64
	short            bool // in demo --game
}

// DevnetGames are the games `faultproof game` plays, in order. The blocks and steps are the devnet's:
// block 12's run reads a blob field element (at step 59 M of 199 M) and block 26's a 4129-byte L1
// transaction (at step 39 M of 339 M); a claim at block 35 whose agreed block is 35 runs 34 M steps.
var devnetGames = []devnetGame{
	{"honest-proposal", "an honest proposal attacked by a dishonest challenger", 40, true, "wrong-from:8,diverge:middle", 12, false},
	{"dishonest-proposal", "a dishonest proposal attacked by the honest challenger", 40, false, "wrong-from:10,diverge:middle", 12, false},
	{"blob-step", "a dishonest proposal; the honest challenger steps on a blob field element read", 20, false, "wrong-from:12,diverge:blob", 12, true},
	{"lpp-step", "a dishonest proposal; the honest challenger steps on a large keccak256 pre-image read, loaded by a large-preimage proposal", 30, false,
		fmt.Sprintf("wrong-from:26,diverge:large-keccak:%d", DevnetMinLPPSize), 7200, false},
	{"trace-extension", "a dishonest proposal wrong only past the claimed block; the step lands in the VM trace's extension after the program's exit", 35, false,
		"wrong-past-claim,diverge:after-exit", 12, true},
}

// DevnetGameNames are the names of the devnet games.
func DevnetGameNames() []string {
	var out []string
	for _, g := range devnetGames {
		out = append(out, g.name)
	}
	return out
}

// DevnetScenarios returns the devnet games named (all if names is empty; the demo's short set if short),
// with the dishonest players' strategy replaced by override if it is not nil.
func DevnetScenarios(d *devnet.Devnet, names []string, short bool, override *actor.Strategy) ([]*Scenario, error) {
	want := map[string]bool{}
	for _, n := range names {
		found := false
		for _, g := range devnetGames {
			found = found || g.name == n
		}
		if !found {
			return nil, fmt.Errorf("unknown game %q (want one of %s)", n, strings.Join(DevnetGameNames(), ", "))
		}
		want[n] = true
	}
	var out []*Scenario
	for _, g := range devnetGames {
		if (len(want) > 0 && !want[g.name]) || (len(want) == 0 && short && !g.short) {
			continue
		}
		if head := d.L2Head().NumberU64(); g.claimBlock > head {
			return nil, fmt.Errorf("game %s proposes L2 block %d, the devnet's head is %d", g.name, g.claimBlock, head)
		}
		st, err := actor.ParseStrategy(g.strategy)
		if err != nil {
			return nil, err
		}
		if override != nil {
			st = *override
		}
		liar := &st
		sc := &Scenario{Name: g.name, Title: g.title, ClaimBlock: g.claimBlock}
		if g.honestIsProposer {
			sc.Proposer = Role{Name: "honest proposer", Delay: g.honestDelay}
			sc.Challengers = []Role{{Name: "dishonest challenger", Strategy: liar}}
		} else {
			sc.Proposer = Role{Name: "dishonest proposer", Strategy: liar}
			sc.Challengers = []Role{{Name: "honest challenger", Delay: g.honestDelay}}
		}
		out = append(out, sc)
	}
	return out, nil
}
