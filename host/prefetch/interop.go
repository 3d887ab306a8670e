package prefetch

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
	"github.com/faultproof/faultproof/rollup"
)

// The hints of interop (super-root) claims: every L2 hint names its chain, and the sources are one L2
// node per chain (Sources.L2ByChain). Beside the L2 routes of single-chain claims:
//   - l2-output (op-program) and l2-output-root (kona) are the output of each chain's block at the agreed
//     prestate's timestamp;
//   - agreed-pre-state is the agreed prestate itself, which the host, not a node, knows;
//   - l2-block-data (agreed block ++ optimistic block ++ chain) asks for the data of a block derived on the
//     agreed one: a node that does not have it (consolidation replaced it) makes the host rebuild it
//     (InteropConfig.Rebuild) and store its header, transactions, receipts and state, as op-program's
//     host does (kona's stores all but the state, which kona's program does not read);
//   - l2-account-storage-proof (kona) is an account and storage proof.

// InteropConfig is what the prefetcher needs for a super-root claim.
type InteropConfig struct {
	// AgreedPrestate is the encoded agreed prestate (a super root or a transition state).
	AgreedPrestate []byte
	// Rollups are the chains' rollup configs, by chain ID.
	Rollups map[uint64]*rollup.Config
	// Rebuild derives and executes the block after agreed on chain chainID from L1 up to the L1 head,
	// reading through oracle and hinter (which fetch from the sources). Nil: a node that lacks an
	// optimistic block is an error.
	Rebuild func(ctx context.Context, oracle preimage.Oracle, hinter preimage.Hinter, chainID uint64, agreed common.Hash) (*RebuiltBlock, error)
}

// RebuiltBlock is an optimistic block rebuilt by the host: the block, its receipts, and the trie nodes and
// code its execution wrote.
type RebuiltBlock struct {
	Block    *types.Block
	Receipts types.Receipts
	State    [][]byte
}

// ErrNoL2Source is returned for a hint naming a chain no L2 source serves.
var ErrNoL2Source = errors.New("no L2 source for the chain")

// l2For returns the L2 source (experimental: the experimental one, nil if none) of the chain a hint names;
// hasID false means the hint names none (32-byte single-chain hints).
func (p *Prefetcher) l2For(typ string, chainID uint64, hasID, experimental bool) (L2Source, error) {
	byChain, single := p.src.L2ByChain, p.src.L2
	if experimental {
		byChain, single = p.src.L2ExperimentalByChain, p.src.L2Experimental
	}
	if hasID {
		if s, ok := byChain[chainID]; ok {
			return s, nil
		}
		if len(p.src.L2ByChain) > 0 || (p.cfg.L2ChainID != 0 && chainID != p.cfg.L2ChainID) {
			if experimental {
				return nil, nil
			}
			return nil, Permanent(fmt.Errorf("%s hint for chain %d: %w", typ, chainID, ErrNoL2Source))
		}
	}
	if single == nil && !experimental {
		if len(byChain) == 1 {
			for _, s := range byChain {
				return s, nil
			}
		}
		return nil, Permanent(fmt.Errorf("%s hint without a chain ID, and no single L2 source: %w", typ, ErrNoL2Source))
	}
	return single, nil
}

// l2HashSource reads an L2 hint's hash and optional chain ID (32 or 40 bytes) and returns the chain's
// source.
func (p *Prefetcher) l2HashSource(typ string, data []byte) (common.Hash, L2Source, error) {
	switch len(data) {
	case 32:
		s, err := p.l2For(typ, 0, false, false)
		return common.Hash(data), s, err
	case 40:
		s, err := p.l2For(typ, binary.BigEndian.Uint64(data[32:]), true, false)
		return common.Hash(data[:32]), s, err
	default:
		return common.Hash{}, nil, Permanent(fmt.Errorf("%s hint: %d bytes of data, want a hash with an optional 8-byte chain ID", typ, len(data)))
	}
}

// agreedPreState stores the agreed prestate for its hash.
func (p *Prefetcher) agreedPreState(data []byte, b *batch) error {
	ic := p.cfg.Interop
	if ic == nil || len(ic.AgreedPrestate) == 0 {
		return Permanent(fmt.Errorf("%s hint, but this is not a super-root claim (no agreed prestate)", preimage.HintAgreedPreState))
	}
	if len(data) != 32 {
		return Permanent(fmt.Errorf("%s hint: %d bytes of data, want a 32-byte hash", preimage.HintAgreedPreState, len(data)))
	}
	if got := crypto.Keccak256Hash(ic.AgreedPrestate); got != common.Hash(data) {
		return Permanent(fmt.Errorf("%s hint for %s, but the agreed prestate is %s", preimage.HintAgreedPreState, common.Hash(data), got))
	}
	b.add(preimage.Keccak256Key(common.Hash(data)), bytes.Clone(ic.AgreedPrestate))
	return nil
}

// l2OutputAtPrestate answers l2-output and l2-output-root hints of a super-root claim: the output of the
// chain's block at the agreed prestate's timestamp, which must be the requested root.
func (p *Prefetcher) l2OutputAtPrestate(ctx context.Context, typ string, data []byte, b *batch) error {
	if len(data) != 40 {
		return Permanent(fmt.Errorf("%s hint: %d bytes of data, want an output root and an 8-byte chain ID", typ, len(data)))
	}
	root, chainID := common.Hash(data[:32]), binary.BigEndian.Uint64(data[32:])
	pre, err := interop.UnmarshalPreState(p.cfg.Interop.AgreedPrestate)
	if err != nil {
		return Permanent(fmt.Errorf("%s hint: agreed prestate: %w", typ, err))
	}
	cfg, ok := p.cfg.Interop.Rollups[chainID]
	if !ok {
		return Permanent(fmt.Errorf("%s hint for chain %d: no rollup config for it", typ, chainID))
	}
	ts := pre.Super.Timestamp
	if ts < cfg.Genesis.L2Time {
		return Permanent(fmt.Errorf("%s hint: the agreed timestamp %d is before chain %d's genesis %d", typ, ts, chainID, cfg.Genesis.L2Time))
	}
	number := cfg.Genesis.L2.Number + (ts-cfg.Genesis.L2Time)/cfg.BlockTime
	src, err := p.l2For(typ, chainID, true, false)
	if err != nil {
		return err
	}
	hash, err := src.BlockHashByNumber(ctx, number)
	if err != nil {
		return err
	}
	out, header, err := src.OutputAt(ctx, hash)
	if err != nil {
		return err
	}
	if cfg.IsIsthmus(header.Time) && header.WithdrawalsHash != nil && *header.WithdrawalsHash != out.MessagePasserStorageRoot {
		return fmt.Errorf("chain %d block %d: message passer storage root %s, but the header's withdrawals root is %s",
			chainID, number, out.MessagePasserStorageRoot, *header.WithdrawalsHash)
	}
	if got := out.Root(); got != root {
		return Permanent(fmt.Errorf("output root of chain %d's block %d (at %d) is %s, not the requested %s", chainID, number, ts, got, root))
	}
	layout.Output(b.add, out)
	return nil
}

// blockData answers an l2-block-data hint, at once (Hint: the program reads the block's header next,
// after another hint): nothing if the optimistic block is the agreed one, is already stored, or the chain's
// node has it (the block's own hints fetch it); else the block rebuilt on the agreed one, whose
// transactions, receipts and then header are stored (the header last: a stored header means the rest is
// there too).
func (p *Prefetcher) blockData(ctx context.Context, data []byte, b *batch) error {
	typ := preimage.HintL2BlockData
	if len(data) != 72 {
		return Permanent(fmt.Errorf("%s hint: %d bytes of data, want 72 (agreed block, block, chain ID)", typ, len(data)))
	}
	agreed, block, chainID := common.Hash(data[:32]), common.Hash(data[32:64]), binary.BigEndian.Uint64(data[64:])
	if agreed == block {
		return nil
	}
	if _, err := p.stored(preimage.Keccak256Key(block).PreimageKey(), false); !missing(err) {
		return nil // an earlier run, or a datadir, has it
	}
	src, err := p.l2For(typ, chainID, true, false)
	if err != nil {
		return err
	}
	_, err = src.BlockByHash(ctx, block)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, sources.ErrNotFound):
		return err // a failing node: retried
	}
	ic := p.cfg.Interop
	if ic == nil || ic.Rebuild == nil {
		return Permanent(fmt.Errorf("%s hint: chain %d's node does not have block %s, and this host cannot rebuild it", typ, chainID, block))
	}
	p.log.Info("Rebuilding an optimistic block the node does not have", "chain", chainID, "block", block, "agreed", agreed)
	child := p.fork()
	built, err := ic.Rebuild(ctx, &childOracle{ctx: ctx, p: child}, &childOracle{ctx: ctx, p: child}, chainID, agreed)
	// The rebuild's own fetches were retried: its failure is final.
	if err != nil {
		return Permanent(fmt.Errorf("%s hint: rebuild chain %d's block after %s: %w", typ, chainID, agreed, err))
	}
	if built.Block.Hash() != block {
		return Permanent(fmt.Errorf("%s hint: chain %d's block rebuilt after %s is %s, not %s", typ, chainID, agreed, built.Block.Hash(), block))
	}
	return addRebuiltBlock(b, built)
}

// addRebuiltBlock adds a rebuilt block's state (trie nodes and code, by their hashes), its receipts and
// its transactions (as list tries, checked against its header), and then its header (layout.Block).
func addRebuiltBlock(b *batch, r *RebuiltBlock) error {
	for _, v := range r.State {
		b.addNode(v)
	}
	if err := layout.Receipts(b.add, r.Block.Header(), r.Receipts); err != nil {
		return Permanent(fmt.Errorf("rebuilt block: %w", err))
	}
	if err := layout.Block(b.add, r.Block); err != nil {
		return Permanent(fmt.Errorf("rebuilt block: %w", err))
	}
	return nil
}

// fork is a prefetcher over the same store, sources and counters, with hints of its own: a rebuild's
// reads must not take the program's last hint.
func (p *Prefetcher) fork() *Prefetcher {
	return &Prefetcher{log: p.log, kv: p.kv, src: p.src, cfg: p.cfg, stats: p.stats, check: p.check}
}

// childOracle reads and hints through a forked prefetcher: a rebuild's oracle, checking every value
// against its key as the program's channel does.
type childOracle struct {
	ctx context.Context
	p   *Prefetcher
}

func (o *childOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, err := o.p.GetPreimage(o.ctx, k)
	if err != nil {
		return nil, err
	}
	return v, preimage.Verify(k, v)
}

func (o *childOracle) Hint(h preimage.Hint) error { return o.p.Hint(h.Hint()) }
