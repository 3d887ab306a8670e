// Package game plays FaultDisputeGames to resolution on the OP Stack's dispute contracts in an in-memory
// L1 (game/contracts), between actors (game/actor) whose claims come from the L2 chain's output roots and
// the fault proof program's VM traces (game/trace): a proposer creates a game for an L2 block, challengers
// bisect the output roots down to one block and the program's trace down to one instruction, the
// instruction is executed on chain by MIPS64 with the pre-images it reads loaded into the PreimageOracle,
// and the game resolves and pays its bonds out. Time is simulated: the chain's clock jumps to when a player
// answers, to the end of a large-preimage proposal's challenge period, and past the chess clocks and the
// bond delays, so a game of days plays in seconds.
package game

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/trace"
)

// Config is what every game of a run shares: the L1 the contracts live on, the L2 chain and program the
// claims are about, and the deployment's parameters.
type Config struct {
	// L1Config is the L1's chain config; L1Head its head (the games' l1Head): number, time, hash, and
	// L1HashOf the hashes of its blocks.
	L1Config     *params.ChainConfig
	L1HeadNumber uint64
	L1HeadTime   uint64
	L1HashOf     func(n uint64) common.Hash
	// L2ChainID is the chain the games are about (local key 5); Outputs its output roots and block hashes.
	L2ChainID uint64
	Outputs   trace.OutputSource
	// Preimages serve a challenger's uploads (and the VM, through the backend).
	Preimages trace.PreimageSource
	// Backend runs the program; its prestate is the honest actors' absolute prestate.
	Backend trace.Backend
	// Deploy are the contracts' parameters; Deploy.AbsolutePrestate zero means the backend's prestate,
	// Deploy.AnchorRoot zero means the output at Deploy.AnchorBlock.
	Deploy contracts.Params
}

// Role is one player of a game.
type Role struct {
	Name string
	// Strategy makes the player dishonest; nil is honest.
	Strategy *actor.Strategy
	// Delay is how long the player takes to answer, in seconds (at least one L1 block).
	Delay uint64
}

// Honest says whether the role plays honestly.
func (r Role) Honest() bool { return r.Strategy == nil }

// Scenario is one game: a proposal for an L2 block and the players.
type Scenario struct {
	Name  string
	Title string
	// ClaimBlock is the L2 block proposed.
	ClaimBlock  uint64
	Proposer    Role
	Challengers []Role
}

// ErrPrestateMismatch is a game whose absolute prestate is not the honest actors' program's.
var ErrPrestateMismatch = errors.New("absolute prestate mismatch")

// Move is one transaction of a game.
type Move struct {
	Player string
	Kind   string // propose, attack, defend, step, an upload's call, resolveClaim, resolve, claimCredit
	// Claim is the claim a move made (or -1), Parent the claim it answered or stepped on.
	Claim, Parent int
	Position      trace.Position
	Value         common.Hash
	Gas           uint64
	Block, Time   uint64
	// Err is why the contract refused it.
	Err string
}

// StepRecord is a step executed on chain.
type StepRecord struct {
	Player string
	Leaf   int  // the claim stepped on
	Attack bool // an attack on the leaf (else a defense)
	// VMStep is the step proven: from the state at this step number to the next.
	VMStep uint64
	// Subgame is the execution subgame's disputed L2 block, its program's exit step and verdict.
	ClaimBlock uint64
	ExitStep   uint64
	// Upload is how the step's pre-image part got into the oracle (nil when the step reads none).
	Upload *actor.Upload
	// VMPost is our VM's post-state hash, MIPSPost the MIPS64 contract's for the same step.
	VMPost, MIPSPost common.Hash
	Gas              uint64
	Err              string
}

// Bond is where a claim's bond went.
type Bond struct {
	Claim  int
	Amount *big.Int
	To     string // player name
}

// PlayerResult is what a player did and got.
type PlayerResult struct {
	Name    string
	Account common.Address
	Honest  bool
	Gas     uint64
	Txs     int
	Bonded  *big.Int // bonds posted
	Paid    *big.Int // credit withdrawn after the game
}

// Result is a played game.
type Result struct {
	Scenario *Scenario
	Config   contracts.Params
	Game     common.Address

	Status, Expected contracts.GameStatus
	Mode             contracts.BondDistributionMode
	Claims           []*trace.Claim
	Moves            []Move
	Steps            []StepRecord
	Bonds            []Bond
	Players          []*PlayerResult
	// Extended lists the claims whose clock the contract capped (a clock extension).
	Extended []int
	// Subgames are the execution subgames played: disputed L2 block and the program's exit step.
	Subgames []SubgameRecord
	// Started and Resolved are the game's creation and resolution times (simulated seconds).
	Started, Resolved uint64
	Wall              time.Duration
	VMSteps           uint64
}

// SubgameRecord is one execution subgame.
type SubgameRecord struct {
	AgreedBlock, ClaimBlock uint64
	ExitStep                uint64
	Status                  byte // the VM status of the honest final state
}

// OK says whether the game resolved as expected.
func (r *Result) OK() bool { return r.Status == r.Expected }

// player is a Role in play.
type player struct {
	Role
	account  common.Address
	solver   *actor.Solver
	uploader *actor.Uploader
	honest   *trace.Honest
	tried    map[string]bool
	waiting  uint64 // a large-preimage proposal is ready after this time
	res      *PlayerResult
}

// accountOf is a player's address, from its name.
func accountOf(name string) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("faultproof game player " + name))[12:])
}

// maxRounds bounds a game: each round every player answers what it sees (a game has at most max depth
// + a few rounds of moves, plus the waits of large-preimage proposals).
const maxRounds = 500

// Play plays one game to resolution and the bonds' withdrawal.
func Play(cfg *Config, sc *Scenario) (*Result, error) {
	start := time.Now()
	vmSteps0 := trace.StepsRun(cfg.Backend)
	p := cfg.Deploy
	if p.AbsolutePrestate == (common.Hash{}) {
		p.AbsolutePrestate = cfg.Backend.Prestate()
	}
	if p.AnchorRoot == (common.Hash{}) {
		root, err := cfg.Outputs.OutputRoot(p.AnchorBlock)
		if err != nil {
			return nil, fmt.Errorf("anchor: %w", err)
		}
		p.AnchorRoot = root
	}
	p.L2ChainID = cfg.L2ChainID
	chain, err := contracts.NewChain(cfg.L1Config, cfg.L1HeadNumber, cfg.L1HeadTime, cfg.L1HashOf)
	if err != nil {
		return nil, err
	}
	sys, err := contracts.Deploy(chain, p)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	res := &Result{Scenario: sc, Config: p}
	outputs := &trace.Outputs{Source: cfg.Outputs, AnchorBlock: p.AnchorBlock, AnchorRoot: p.AnchorRoot, ClaimBlock: sc.ClaimBlock, SplitDepth: p.SplitDepth}
	honest := trace.NewHonest(outputs, cfg.Backend, cfg.L1HashOf(cfg.L1HeadNumber), cfg.L2ChainID, p.MaxGameDepth)
	var players []*player
	for _, r := range append([]Role{sc.Proposer}, sc.Challengers...) {
		pl := &player{Role: r, account: accountOf(sc.Name + "/" + r.Name), honest: honest, tried: map[string]bool{}}
		var acc trace.Accessor = honest
		if r.Strategy != nil {
			acc = &actor.Liar{Honest: honest, Strategy: *r.Strategy}
		}
		pl.solver = &actor.Solver{Trace: acc}
		pl.uploader = &actor.Uploader{Source: cfg.Preimages, From: pl.account}
		pl.res = &PlayerResult{Name: r.Name, Account: pl.account, Honest: r.Honest(), Bonded: new(big.Int), Paid: new(big.Int)}
		chain.Fund(pl.account, new(big.Int).Mul(big.NewInt(100_000), big.NewInt(1e18)))
		players = append(players, pl)
		res.Players = append(res.Players, pl.res)
	}

	// The proposal, in the block after the L1 head: its parent hash is the game's l1Head.
	chain.Advance(12)
	proposer := players[0]
	rootValue, err := proposer.solver.Trace.Get(&trace.Game{Claims: []*trace.Claim{}, MaxDepth: p.MaxGameDepth, SplitDepth: p.SplitDepth}, nil, trace.RootPosition)
	if err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	g, rcpt, err := sys.CreateGame(proposer.account, rootValue, sc.ClaimBlock)
	if err != nil {
		return nil, fmt.Errorf("create the game: %w", err)
	}
	res.Game = g.Address
	res.Started = chain.Time()
	res.record(proposer, Move{Kind: "propose", Claim: 0, Parent: -1, Position: trace.RootPosition, Value: rootValue, Gas: rcpt.GasUsed, Block: rcpt.Block, Time: rcpt.Time}, p.InitBond)
	if right, err := outputs.Get(trace.RootPosition); err != nil {
		return nil, err
	} else if right == rootValue {
		res.Expected = contracts.DefenderWins
	} else {
		res.Expected = contracts.ChallengerWins
	}

	// Honest players check the game before playing it: its prestate must be their program's.
	if onchain, err := g.Bytes32("absolutePrestate"); err != nil {
		return nil, err
	} else if onchain != cfg.Backend.Prestate() {
		return nil, fmt.Errorf("%w: the game's absolute prestate is %s, the program's %s", ErrPrestateMismatch, onchain, cfg.Backend.Prestate())
	}

	if err := play(chain, g, players, res); err != nil {
		return res, err
	}
	if err := resolve(chain, sys, g, players, res); err != nil {
		return res, err
	}
	for _, sub := range honest.Subgames() {
		res.Subgames = append(res.Subgames, SubgameRecord{AgreedBlock: sub.AgreedBlock, ClaimBlock: sub.ClaimBlock, ExitStep: sub.ExitStep, Status: sub.Status})
	}
	res.Wall = time.Since(start)
	res.VMSteps = trace.StepsRun(cfg.Backend) - vmSteps0
	return res, nil
}

func (r *Result) record(pl *player, m Move, bond *big.Int) {
	m.Player = pl.Name
	r.Moves = append(r.Moves, m)
	pl.res.Gas += m.Gas
	pl.res.Txs++
	if bond != nil && m.Err == "" {
		pl.res.Bonded.Add(pl.res.Bonded, bond)
	}
}

// view reads the game's claims.
func view(g *contracts.Game) (*trace.Game, error) {
	cds, err := g.Claims()
	if err != nil {
		return nil, err
	}
	maxDepth, err := g.Uint("maxGameDepth")
	if err != nil {
		return nil, err
	}
	split, err := g.Uint("splitDepth")
	if err != nil {
		return nil, err
	}
	v := &trace.Game{MaxDepth: maxDepth, SplitDepth: split}
	for _, c := range cds {
		pos, err := trace.PositionFromBig(c.Position)
		if err != nil {
			return nil, err
		}
		parent := int(c.ParentIndex)
		if c.ParentIndex == contracts.RootParent {
			parent = -1
		}
		v.Claims = append(v.Claims, &trace.Claim{Index: c.Index, Parent: parent, Value: c.Claim, Position: pos, Claimant: c.Claimant,
			CounteredBy: c.CounteredBy, Bond: c.Bond, ClockDuration: c.ClockDuration, ClockTimestamp: c.ClockTimestamp})
	}
	return v, nil
}

// play runs rounds until no player has anything left to do.
func play(chain *contracts.Chain, g *contracts.Game, players []*player, res *Result) error {
	for round := 0; round < maxRounds; round++ {
		acted := false
		for _, pl := range players {
			if st, err := g.Status(); err != nil || st != contracts.InProgress {
				return err
			}
			v, err := view(g)
			if err != nil {
				return err
			}
			actions, err := pl.solver.NextActions(v)
			if err != nil {
				return fmt.Errorf("%s: %w", pl.Name, err)
			}
			var todo []actor.Action
			for _, a := range actions {
				if !pl.tried[actionKey(a)] {
					todo = append(todo, a)
				}
			}
			if len(todo) == 0 {
				continue
			}
			chain.Advance(max(pl.Delay, 12))
			for _, a := range todo {
				sent, err := pl.execute(chain, g, v, a, res)
				if err != nil {
					return fmt.Errorf("%s: %w", pl.Name, err)
				}
				acted = acted || sent
			}
		}
		if acted {
			continue
		}
		// Nothing to answer: wait for a large-preimage proposal's challenge period, or stop.
		next := uint64(0)
		for _, pl := range players {
			if pl.waiting > 0 && (next == 0 || pl.waiting < next) {
				next = pl.waiting
			}
		}
		if next == 0 {
			return nil
		}
		chain.Advance(next - chain.Time() + 1)
	}
	return fmt.Errorf("the game did not settle in %d rounds", maxRounds)
}

func actionKey(a actor.Action) string {
	return fmt.Sprintf("%s/%d/%d/%x", a.Kind, a.Parent.Index, a.Position, a.Value)
}

// execute sends an action's transactions and records them. It returns whether it sent any. A move the
// contract refuses is recorded, not retried; an honest player's refused move is an error.
func (pl *player) execute(chain *contracts.Chain, g *contracts.Game, v *trace.Game, a actor.Action, res *Result) (bool, error) {
	key := actionKey(a)
	if a.Kind != actor.Step {
		bond, err := g.RequiredBond(a.Position.Big())
		if err != nil {
			return false, err
		}
		rcpt, err := g.Move(pl.account, a.Parent.Index, a.Parent.Value, a.Value, a.Kind == actor.Attack, a.Position.Big())
		m := Move{Kind: string(a.Kind), Claim: -1, Parent: a.Parent.Index, Position: a.Position, Value: a.Value}
		if rcpt != nil {
			m.Gas, m.Block, m.Time = rcpt.GasUsed, rcpt.Block, rcpt.Time
		}
		pl.tried[key] = true
		if err != nil {
			m.Err = revertReason(err)
			res.record(pl, m, nil)
			if pl.Honest() {
				return true, fmt.Errorf("%s on claim %d refused: %w", a.Kind, a.Parent.Index, err)
			}
			return true, nil
		}
		n, err := g.ClaimCount()
		if err != nil {
			return true, err
		}
		m.Claim = n - 1
		res.record(pl, m, bond)
		return true, nil
	}

	// A step: first the pre-image part it reads, then the step, checked against MIPS64 first.
	d := a.StepData
	sr := StepRecord{Player: pl.Name, Leaf: a.Parent.Index, Attack: a.StepAttack, VMStep: d.TraceIndex, VMPost: d.PostHash}
	sub, err := v.SubgameOf(a.Parent, a.StepPos)
	if err != nil {
		return false, err
	}
	in, err := pl.honest.Inputs(sub)
	if err != nil {
		return false, err
	}
	sr.ClaimBlock = in.ClaimBlock
	if t, _, err := pl.honest.ExecTrace(sub); err == nil {
		sr.ExitStep, _ = t.ExitStep()
	}
	sent := false
	if d.HasPreimage() {
		up, err := pl.uploader.Upload(g, a.Parent.Index, d)
		if up != nil {
			for i := up.Reported; i < len(up.Receipts); i++ {
				m := Move{Kind: up.Calls[i], Claim: -1, Parent: a.Parent.Index}
				if r := up.Receipts[i]; r != nil {
					m.Gas, m.Block, m.Time = r.GasUsed, r.Block, r.Time
				}
				res.record(pl, m, nil)
				sent = true
			}
			up.Reported = len(up.Receipts)
		}
		var wait *actor.ErrWaiting
		if errors.As(err, &wait) {
			pl.waiting = wait.ReadyAt
			return sent, nil
		}
		if err != nil {
			pl.tried[key] = true
			return sent, fmt.Errorf("load the pre-image of step %d: %w", d.TraceIndex, err)
		}
		pl.waiting = 0
		sr.Upload = up
	}
	// MIPS64 localizes local keys with its caller, the game: call it as the game does.
	post, err := g.System.MIPS.CallFrom(g.Address, "step", d.PreState, d.Proof, sub.LocalContext())
	if err != nil {
		sr.Err = revertReason(err)
	} else {
		sr.MIPSPost = post[0].([32]byte)
	}
	pl.tried[key] = true
	rcpt, err := g.Step(pl.account, a.Parent.Index, a.StepAttack, d.PreState, d.Proof)
	m := Move{Kind: "step", Claim: -1, Parent: a.Parent.Index, Position: a.StepPos}
	if rcpt != nil {
		m.Gas, m.Block, m.Time = rcpt.GasUsed, rcpt.Block, rcpt.Time
		sr.Gas = rcpt.GasUsed
	}
	if err != nil {
		m.Err = revertReason(err)
		sr.Err = m.Err
	}
	res.record(pl, m, nil)
	res.Steps = append(res.Steps, sr)
	if err != nil && pl.Honest() {
		return true, fmt.Errorf("step on claim %d refused: %w", a.Parent.Index, err)
	}
	return true, nil
}

func revertReason(err error) string {
	var rev *contracts.RevertError
	if errors.As(err, &rev) {
		return rev.Reason
	}
	return err.Error()
}

// resolve waits out the clocks, resolves every claim bottom-up and the game, then waits out the finality
// and WETH delays and withdraws every credit.
func resolve(chain *contracts.Chain, sys *contracts.System, g *contracts.Game, players []*player, res *Result) error {
	resolver := players[0]
	for _, pl := range players {
		if pl.Honest() {
			resolver = pl
			break
		}
	}
	chain.Advance(sys.Params.MaxClockDuration + 1)
	n, err := g.ClaimCount()
	if err != nil {
		return err
	}
	for i := n - 1; i >= 0; i-- {
		rcpt, err := g.ResolveClaim(resolver.account, i)
		if err != nil {
			return fmt.Errorf("resolve claim %d: %w", i, err)
		}
		res.record(resolver, Move{Kind: "resolveClaim", Claim: -1, Parent: i, Gas: rcpt.GasUsed, Block: rcpt.Block, Time: rcpt.Time}, nil)
	}
	rcpt, err := g.Resolve(resolver.account)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	res.record(resolver, Move{Kind: "resolve", Claim: -1, Parent: -1, Gas: rcpt.GasUsed, Block: rcpt.Block, Time: rcpt.Time}, nil)
	res.Resolved = chain.Time()
	if res.Status, err = g.Status(); err != nil {
		return err
	}
	v, err := view(g)
	if err != nil {
		return err
	}
	res.Claims = v.Claims
	byAccount := map[common.Address]*player{}
	for _, pl := range players {
		byAccount[pl.account] = pl
	}
	name := func(a common.Address) string {
		if pl, ok := byAccount[a]; ok {
			return pl.Name
		}
		return a.Hex()
	}
	owed := map[common.Address]*big.Int{}
	for _, c := range v.Claims {
		to := c.Claimant
		if c.CounteredBy != (common.Address{}) {
			to = c.CounteredBy
		}
		res.Bonds = append(res.Bonds, Bond{Claim: c.Index, Amount: c.Bond, To: name(to)})
		if owed[to] == nil {
			owed[to] = new(big.Int)
		}
		owed[to].Add(owed[to], c.Bond)
		if ext := extension(sys.Params, c.Depth()); c.Index > 0 && c.ClockDuration == sys.Params.MaxClockDuration-ext {
			res.Extended = append(res.Extended, c.Index)
		}
	}
	recipients := make([]common.Address, 0, len(owed))
	for a := range owed {
		recipients = append(recipients, a)
	}
	sort.Slice(recipients, func(i, j int) bool { return recipients[i].Cmp(recipients[j]) < 0 })
	for _, a := range recipients {
		credit, err := g.Credit(a)
		if err != nil {
			return err
		}
		if credit.Cmp(owed[a]) != 0 {
			return fmt.Errorf("%s is credited %s, its won bonds are %s", name(a), credit, owed[a])
		}
	}

	// Close the game after the finality delay (unlocking each credit in DelayedWETH), withdraw after the
	// WETH delay.
	chain.Advance(sys.Params.FinalityDelay + 1)
	before := map[common.Address]*big.Int{}
	for _, a := range recipients {
		before[a] = chain.Balance(a)
		rcpt, err := g.ClaimCredit(resolver.account, a)
		if err != nil {
			return fmt.Errorf("unlock the credit of %s: %w", name(a), err)
		}
		res.record(resolver, Move{Kind: "claimCredit (unlock)", Claim: -1, Parent: -1, Gas: rcpt.GasUsed, Block: rcpt.Block, Time: rcpt.Time}, nil)
	}
	if res.Mode, err = bondMode(g); err != nil {
		return err
	}
	chain.Advance(sys.Params.WETHDelay + 1)
	for _, a := range recipients {
		rcpt, err := g.ClaimCredit(resolver.account, a)
		if err != nil {
			return fmt.Errorf("withdraw the credit of %s: %w", name(a), err)
		}
		res.record(resolver, Move{Kind: "claimCredit (withdraw)", Claim: -1, Parent: -1, Gas: rcpt.GasUsed, Block: rcpt.Block, Time: rcpt.Time}, nil)
		if pl, ok := byAccount[a]; ok { // gas is free: the balance grows by the credit alone
			pl.res.Paid = new(big.Int).Sub(chain.Balance(a), before[a])
		}
	}
	return nil
}

// extension is the clock extension a move to a claim at depth d gets (FaultDisputeGame.move).
func extension(p contracts.Params, d uint64) uint64 {
	switch d {
	case p.MaxGameDepth - 1:
		return p.ClockExtension + p.OracleChallengePeriod
	case p.SplitDepth - 1:
		return 2 * p.ClockExtension
	}
	return p.ClockExtension
}

func bondMode(g *contracts.Game) (contracts.BondDistributionMode, error) {
	m, err := g.Uint("bondDistributionMode")
	return contracts.BondDistributionMode(m), err
}
