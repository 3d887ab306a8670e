package devnet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// InteropConfig makes a devnet of several L2 chains on one L1 in one interop dependency set (NewInterop).
// Every chain has the fork schedule of the Config, its own batcher, deposit contract and system config
// contract on L1, and from Lagoon on, cross-chain messages: each block sends a message to the next chain
// (L2ToL2CrossDomainMessenger.sendMessage), relays the messages sent to it (relayMessage, which executes
// them through CrossL2Inbox.validateMessage), and every third block also validates a message directly.
type InteropConfig struct {
	// Chains is the number of L2 chains (0: 2), chain IDs 901, 902, ...
	Chains int
	// LagoonAt is the L2 block at which Lagoon (interop) activates on every chain (0: genesis). The
	// activation block holds deposits and the upgrade transactions only; messages start after it.
	LagoonAt uint64
	// ExpiryWindow is the dependency set's message expiry window in seconds (0: DefaultInteropExpiry).
	ExpiryWindow uint64
	// Invalid are executing messages that break a rule, which consolidation must find: the block holding
	// one is replaced by its deposits alone (and so are the blocks that executed its messages).
	Invalid []InvalidMessage
}

// DefaultInteropExpiry is the message expiry window of an interop devnet, in seconds: short, so that a
// devnet of a few dozen blocks can hold an expired message.
const DefaultInteropExpiry = 20

// InvalidMessageKind is what is wrong with an invalid executing message.
type InvalidMessageKind string

const (
	// InvalidMissing executes a log that does not exist: log 9999 of the next chain's previous block.
	InvalidMissing InvalidMessageKind = "missing"
	// InvalidExpired executes the next chain's first message, older than the expiry window.
	InvalidExpired InvalidMessageKind = "expired"
	// InvalidFuture executes a message of the next chain's next block, after the executing block.
	InvalidFuture InvalidMessageKind = "future"
)

// InvalidMessage puts an invalid executing message in a block: chain index Chain (0 is chain 901),
// block number Block.
type InvalidMessage struct {
	Kind  InvalidMessageKind
	Chain int
	Block uint64
}

// withDefaults checks an interop devnet's configuration; cfg has its own defaults filled in.
func (ic InteropConfig) withDefaults(cfg Config) (InteropConfig, error) {
	if ic.Chains == 0 {
		ic.Chains = 2
	}
	if ic.ExpiryWindow == 0 {
		ic.ExpiryWindow = DefaultInteropExpiry
	}
	ic.Invalid = slices.Clone(ic.Invalid)
	switch {
	case ic.Chains < 2 || ic.Chains > 8:
		return ic, fmt.Errorf("interop devnet of %d chains: want 2 to 8", ic.Chains)
	case ic.LagoonAt+2 > cfg.L2Blocks:
		return ic, fmt.Errorf("lagoon at block %d leaves no block with messages in a devnet of %d blocks", ic.LagoonAt, cfg.L2Blocks)
	case len(cfg.InvalidBatchAt) > 0 || len(cfg.Faults) > 0:
		return ic, errors.New("an interop devnet has honest batchers: no invalid batches or faults")
	}
	firstMessage := ic.LagoonAt + 1
	for _, m := range ic.Invalid {
		if m.Chain < 0 || m.Chain >= ic.Chains {
			return ic, fmt.Errorf("invalid %s message on chain %d: the devnet has chains 0 to %d", m.Kind, m.Chain, ic.Chains-1)
		}
		if m.Block <= firstMessage || m.Block > cfg.L2Blocks {
			return ic, fmt.Errorf("invalid %s message at block %d: want a block from %d to %d (after the first messages)", m.Kind, m.Block, firstMessage+1, cfg.L2Blocks)
		}
		switch m.Kind {
		case InvalidMissing, InvalidFuture:
		case InvalidExpired:
			if (m.Block-firstMessage)*blockTime <= ic.ExpiryWindow {
				return ic, fmt.Errorf("expired message at block %d: the first messages (block %d) are only %d s old, the expiry window is %d s",
					m.Block, firstMessage, (m.Block-firstMessage)*blockTime, ic.ExpiryWindow)
			}
		default:
			return ic, fmt.Errorf("invalid message kind %q: want %q, %q or %q", m.Kind, InvalidMissing, InvalidExpired, InvalidFuture)
		}
	}
	return ic, nil
}

// forkTime is the activation time of each fork under cfg's schedule (and Lagoon's, on an interop devnet)
// for an L2 genesis at genesis.
func (cfg Config) forkTime(genesis uint64) func(rollup.Fork) *uint64 {
	times := forkTimes(genesis, cfg.Forks)
	return func(f rollup.Fork) *uint64 {
		if f == rollup.Lagoon {
			if cfg.Interop == nil {
				return nil
			}
			t := genesis + cfg.Interop.LagoonAt*blockTime
			return &t
		}
		return times(f)
	}
}

// genesisAlloc is what an interop devnet's L2 genesis adds: the CrossL2Inbox and the
// L2ToL2CrossDomainMessenger.
func (cfg Config) genesisAlloc() (types.GenesisAlloc, error) {
	if cfg.Interop == nil {
		return nil, nil
	}
	code, err := interopPredeploys()
	if err != nil {
		return nil, err
	}
	alloc := types.GenesisAlloc{}
	for addr, c := range code {
		alloc[addr] = types.Account{Code: c}
	}
	return alloc, nil
}

// dependencySetSize is the number of chains in the devnet's dependency set (0: not an interop devnet).
func (cfg Config) dependencySetSize() int {
	if cfg.Interop == nil {
		return 0
	}
	return cfg.Interop.Chains
}

// Replacement is a block that consolidation replaced by its deposits alone.
type Replacement struct {
	Chain       uint64      // chain ID
	Block       uint64      // number
	Round       int         // consolidation round of its timestamp (0: an invalid message of its own)
	Reason      string      // the message and the rule it broke
	Err         error       // the rule: one of interop's errors (interop.ErrMessageNotFound, ...)
	Optimistic  common.Hash // the block derived from L1, replaced
	Replacement common.Hash // the deposit-only block
}

// interopGen is the generator's interop state.
type interopGen struct {
	cfg    InteropConfig
	depSet *interop.DependencySet
	// crossSafe: every chain's blocks up to this number are consolidated.
	crossSafe uint64
	// optimistic has, by chain index and block number, the blocks consolidation replaced, with their
	// outputs and receipts.
	optimistic []map[uint64]*optimisticBlock
	replaced   []Replacement
}

type optimisticBlock struct {
	block    *types.Block
	output   Output
	receipts types.Receipts
}

// An Interop devnet is several L2 chains on one L1 in one dependency set, with cross-chain messages, made
// by the devnet's derivation and consolidation: each chain's blocks are what derivation makes of its
// batches, and where consolidation finds an invalid executing message, the block is replaced by its
// deposits alone (as kona's consolidation, which game type 9 runs, replaces it) and the chain goes on from
// there. Each chain is a Devnet (Chain), sharing the L1 chain, blobs and preimages.
type Interop struct {
	cfg        Config
	chains     []*Devnet
	depSet     *interop.DependencySet
	optimistic []map[uint64]*optimisticBlock
	replaced   []Replacement
	preimages  map[[32]byte][]byte
}

// NewInterop makes an interop devnet (cfg.Interop; nil is the default InteropConfig).
func NewInterop(cfg Config) (*Interop, error) {
	if cfg.Interop == nil {
		cfg.Interop = &InteropConfig{}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ic := cfg.Interop
	accs := []*accounts{newAccounts(cfg.Seed)}
	ids := []uint64{901}
	for i := 1; i < ic.Chains; i++ {
		accs = append(accs, newChainAccounts(cfg.Seed, fmt.Sprintf("/chain-%d", 901+i)))
		ids = append(ids, uint64(901+i))
	}
	g, err := newGenerator(cfg, accs)
	if err != nil {
		return nil, err
	}
	defer g.close()
	ds, err := interop.NewDependencySet(ids, ic.ExpiryWindow)
	if err != nil {
		return nil, err
	}
	g.ix = &interopGen{cfg: *ic, depSet: ds}
	for i, c := range g.chains {
		g.ix.optimistic = append(g.ix.optimistic, map[uint64]*optimisticBlock{})
		c.l2.messages = g.messageTxs(i)
	}
	if err := g.run(); err != nil {
		return nil, err
	}
	pre, err := g.preimages()
	if err != nil {
		return nil, err
	}
	x := &Interop{cfg: cfg, depSet: ds, optimistic: g.ix.optimistic, replaced: g.ix.replaced, preimages: pre}
	for _, c := range g.chains {
		x.chains = append(x.chains, g.devnet(c, pre))
	}
	return x, nil
}

// Config is what the devnet was made with (defaults filled in).
func (x *Interop) Config() Config { return x.cfg }

// Chains are the L2 chains, in chain ID order.
func (x *Interop) Chains() []*Devnet { return slices.Clone(x.chains) }

// DependencySet is the chains' dependency set.
func (x *Interop) DependencySet() *interop.DependencySet { return x.depSet }

// Replacements lists the blocks consolidation replaced, in the order it replaced them.
func (x *Interop) Replacements() []Replacement { return slices.Clone(x.replaced) }

// L1Head is the newest L1 block.
func (x *Interop) L1Head() *types.Block { return x.chains[0].L1Head() }

// Preimages returns what a host stores to serve any claim on the devnet (see Devnet.Preimages), for every
// chain, including the blocks consolidation replaced (their headers, transactions, receipts, state and
// outputs): a program derives them before it consolidates. The map is a new copy.
func (x *Interop) Preimages() map[[32]byte][]byte { return maps.Clone(x.preimages) }

// GenesisTime is the time of every chain's genesis block.
func (x *Interop) GenesisTime() uint64 { return x.chains[0].Rollup().Genesis.L2Time }

// LastTime is the latest timestamp at which every chain's block is known: the last block's.
func (x *Interop) LastTime() uint64 { return x.chains[0].L2Head().Time() }

// blockAt is the chain's block at t: the newest with a time at or before t.
func blockAt(d *Devnet, t uint64) uint64 {
	r := d.Rollup()
	if t < r.Genesis.L2Time {
		return 0
	}
	return min((t-r.Genesis.L2Time)/r.BlockTime, d.L2Head().NumberU64())
}

// SuperRoot is the super root at timestamp t: each chain's output at its block at t.
func (x *Interop) SuperRoot(t uint64) (*interop.SuperV1, error) {
	if t < x.GenesisTime() || t > x.LastTime() {
		return nil, fmt.Errorf("no super root at %d: the devnet runs from %d to %d", t, x.GenesisTime(), x.LastTime())
	}
	outs := make([]interop.ChainOutput, len(x.chains))
	for i, d := range x.chains {
		outs[i] = interop.ChainOutput{ChainID: d.Rollup().ChainID(), Output: d.OutputRoot(blockAt(d, t))}
	}
	return interop.NewSuperV1(t, outs...), nil
}

// OptimisticBlock is chain i's block at t+1 as derivation makes it from L1 on the super root at t: its
// block at t+1 before consolidation (the replaced block, where consolidation replaced it), or, if it has
// no block at t+1, its block at t.
func (x *Interop) OptimisticBlock(i int, t uint64) (interop.OptimisticBlock, error) {
	d := x.chains[i]
	if t < x.GenesisTime() || t+1 > x.LastTime() {
		return interop.OptimisticBlock{}, fmt.Errorf("no block of chain %d after %d: the devnet runs from %d to %d", d.Rollup().ChainID(), t, x.GenesisTime(), x.LastTime())
	}
	n := blockAt(d, t+1)
	if o, ok := x.optimistic[i][n]; ok && d.L2Block(n).Time() == t+1 {
		return interop.OptimisticBlock{BlockHash: o.block.Hash(), OutputRoot: o.output.Root()}, nil
	}
	return interop.OptimisticBlock{BlockHash: d.L2Block(n).Hash(), OutputRoot: d.OutputRoot(n)}, nil
}

// State is the encoded state step steps after the super root at t (steps of its transition: 0 is the
// super root, 1 to 127 transition states, 128 the super root at t+1).
func (x *Interop) State(t, step uint64) ([]byte, error) {
	super, err := x.SuperRoot(t)
	if err != nil {
		return nil, err
	}
	switch {
	case step == 0:
		return super.Marshal(), nil
	case step == interop.StepsPerTimestamp:
		next, err := x.SuperRoot(t + 1)
		if err != nil {
			return nil, err
		}
		return next.Marshal(), nil
	case step > interop.StepsPerTimestamp:
		return nil, fmt.Errorf("step %d: a timestamp's transition has %d steps", step, interop.StepsPerTimestamp)
	}
	ts := &interop.TransitionState{SuperRoot: super.Marshal(), Step: step}
	for i := range x.chains {
		if uint64(i) >= step {
			break
		}
		b, err := x.OptimisticBlock(i, t)
		if err != nil {
			return nil, err
		}
		ts.PendingProgress = append(ts.PendingProgress, b)
	}
	return ts.Marshal(), nil
}

// StateHash is keccak256 of State(t, step): the claim about that step.
func (x *Interop) StateHash(t, step uint64) (common.Hash, error) {
	s, err := x.State(t, step)
	if err != nil {
		return common.Hash{}, err
	}
	return crypto.Keccak256Hash(s), nil
}

// consolidate consolidates the chains' blocks while every chain has the next one safe (interop only).
func (g *generator) consolidate() error {
	if g.ix == nil {
		return nil
	}
	for n := g.ix.crossSafe + 1; n <= g.cfg.L2Blocks; n++ {
		for _, c := range g.chains {
			if c.safe < n {
				return nil
			}
		}
		if err := g.consolidateBlock(n); err != nil {
			return err
		}
		g.ix.crossSafe = n
	}
	return nil
}

// consolidated says every chain's blocks are consolidated (always, with one chain).
func (g *generator) consolidated() bool { return g.ix == nil || g.ix.crossSafe == g.cfg.L2Blocks }

// chainIndex is the index of the chain with a chain ID, -1 if none.
func (g *generator) chainIndex(id uint64) int {
	return slices.IndexFunc(g.chains, func(c *chainGen) bool { return c.l2.rollup.ChainID() == id })
}

// LocalPreimages are the preimages a program instance needs beside Preimages for a super-root claim on
// the devnet: the super game's local keys (the L1 head, the hash of the agreed prestate, the claim, the
// game timestamp), the chains' configs as op-program's lists (rollup configs as local key 7, L2 chain
// configs as 6, the L1 chain config as 9), the dependency set as local key 8, and the agreed prestate
// itself under its keccak256 key (the host, not a node, knows it).
func (x *Interop) LocalPreimages(prestate []byte, claim common.Hash, gameTimestamp uint64) (map[[32]byte][]byte, error) {
	var rollups, l2s []any
	for _, d := range x.chains {
		rollups, l2s = append(rollups, d.Rollup()), append(l2s, d.L2ChainConfig())
	}
	out := map[[32]byte][]byte{
		preimage.L1HeadLocalIndex.PreimageKey():                             x.L1Head().Hash().Bytes(),
		preimage.L2OutputRootLocalIndex.PreimageKey():                       crypto.Keccak256(prestate),
		preimage.L2ClaimLocalIndex.PreimageKey():                            claim.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex.PreimageKey():                 binary.BigEndian.AppendUint64(nil, gameTimestamp),
		preimage.Keccak256Key(crypto.Keccak256Hash(prestate)).PreimageKey(): prestate,
	}
	for k, v := range map[preimage.LocalIndexKey]any{
		preimage.RollupConfigLocalIndex:  rollups,
		preimage.L2ChainConfigLocalIndex: l2s,
		preimage.L1ChainConfigLocalIndex: x.chains[0].L1ChainConfig(),
		preimage.DependencySetLocalIndex: x.depSet,
	} {
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", preimage.LocalIndexName(k), err)
		}
		out[k.PreimageKey()] = enc
	}
	return out, nil
}
