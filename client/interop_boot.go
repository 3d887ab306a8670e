package client

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// InteropBootInfo is what one program instance is asked to decide in interop mode (super-root claims): the
// local keys 1-4 of the super dispute game, and the agreed prestate they name.
type InteropBootInfo struct {
	L1Head         common.Hash
	AgreedPrestate common.Hash // hash of a super root, a transition state or InvalidTransition
	Claim          common.Hash // claimed hash of the next super root or transition state
	GameTimestamp  uint64      // the timestamp the game's root claim is about

	// Pre is the decoded agreed prestate; nil when it is InvalidTransition.
	Pre *interop.PreState
	// DepSet is the dependency set of the prestate's chains.
	DepSet *interop.DependencySet
	// Chains has the configs of each chain of the prestate.
	Chains map[uint64]*rollup.ChainConfigs
	// ConfigsFrom says where the chain configs and dependency set came from.
	ConfigsFrom ConfigsSource
}

// ErrBadPrestate marks an agreed prestate the program cannot start from: an unknown version, an encoding
// that does not decode, or chains that do not match the dependency set.
var ErrBadPrestate = errors.New("bad agreed prestate")

// ReadInteropBootInfo reads local keys 1-4, then the agreed prestate (hint agreed-pre-state, keccak256 key
// of its hash), then the configs of its chains (the embedded registry or built-in chains, else local keys
// 6, 7 and 9 as op-program's JSON lists) and the dependency set (local key 8).
func ReadInteropBootInfo(oracle preimage.Oracle, hinter preimage.Hinter) (*InteropBootInfo, error) {
	var b InteropBootInfo
	for _, h := range []struct {
		key preimage.LocalIndexKey
		out *common.Hash
	}{
		{preimage.L1HeadLocalIndex, &b.L1Head},
		{preimage.L2OutputRootLocalIndex, &b.AgreedPrestate},
		{preimage.L2ClaimLocalIndex, &b.Claim},
	} {
		v, err := readLocal(oracle, h.key, common.HashLength)
		if err != nil {
			return nil, err
		}
		*h.out = common.BytesToHash(v)
	}
	v, err := readLocal(oracle, preimage.L2ClaimBlockNumberLocalIndex, 8)
	if err != nil {
		return nil, err
	}
	b.GameTimestamp = binary.BigEndian.Uint64(v)
	if b.AgreedPrestate == interop.InvalidTransitionHash {
		return &b, nil
	}

	if err := hinter.Hint(preimage.TypedHint{Type: preimage.HintAgreedPreState, Data: b.AgreedPrestate[:]}); err != nil {
		return nil, fmt.Errorf("hint %s: %w", preimage.HintAgreedPreState, err)
	}
	raw, err := oracle.Get(preimage.Keccak256Key(b.AgreedPrestate))
	if err != nil {
		return nil, fmt.Errorf("agreed prestate %s: %w", b.AgreedPrestate, err)
	}
	if b.Pre, err = interop.UnmarshalPreState(raw); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBadPrestate, b.AgreedPrestate, err)
	}
	if b.Pre.Super.Timestamp > b.GameTimestamp {
		return nil, fmt.Errorf("%w: its timestamp %d is after the game timestamp %d", ErrBadPrestate, b.Pre.Super.Timestamp, b.GameTimestamp)
	}
	if err := readInteropConfigs(oracle, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// readInteropConfigs finds each chain's configs and the dependency set. Chains the program knows use its
// own configs; if any is unknown, the host's lists in local keys 6, 7 and 9 are read, and then this run
// cannot be disputed on chain. The dependency set always comes from local key 8: the embedded registry
// has none that fault proofs support yet.
func readInteropConfigs(oracle preimage.Oracle, b *InteropBootInfo) error {
	ids := b.Pre.Super.ChainIDs()
	b.Chains = make(map[uint64]*rollup.ChainConfigs, len(ids))
	b.ConfigsFrom = ConfigsKnown
	var missing []uint64
	for _, id := range ids {
		known, err := rollup.KnownChain(id)
		switch {
		case err == nil:
			b.Chains[id] = known
		case errors.Is(err, rollup.ErrUnknownNetwork), errors.Is(err, rollup.ErrUnsupportedChain):
			missing = append(missing, id)
		default:
			return fmt.Errorf("chain %d: %w", id, err)
		}
	}
	if len(missing) > 0 {
		b.ConfigsFrom = ConfigsLocalFallback
		custom, err := readLocalChainConfigLists(oracle)
		if err != nil {
			return fmt.Errorf("chains %v are not known to this program, and the host does not serve their configs: %w", missing, err)
		}
		for _, id := range missing {
			c, ok := custom[id]
			if !ok {
				return fmt.Errorf("%w: chain %d is neither known to this program nor in the host's chain configs (local keys 6, 7)", ErrBadPrestate, id)
			}
			b.Chains[id] = c
		}
	}
	var l1 uint64
	for i, id := range ids {
		if i == 0 {
			l1 = b.Chains[id].Rollup.L1ChainID.Uint64()
		} else if got := b.Chains[id].Rollup.L1ChainID.Uint64(); got != l1 {
			return fmt.Errorf("%w: chain %d settles on L1 %d, chain %d on L1 %d", ErrBadPrestate, id, got, ids[0], l1)
		}
	}
	data, err := oracle.Get(preimage.DependencySetLocalIndex)
	if err != nil {
		return fmt.Errorf("read %s (local key %d): %w", preimage.LocalIndexName(preimage.DependencySetLocalIndex), preimage.DependencySetLocalIndex, err)
	}
	if b.DepSet, err = interop.ParseDependencySet(data); err != nil {
		return err
	}
	if err := b.DepSet.CheckCovers(ids); err != nil {
		return fmt.Errorf("%w: %w", ErrBadPrestate, err)
	}
	return nil
}

// readLocalChainConfigLists reads op-program's interop config lists: local key 7 a JSON list of rollup
// configs, 6 a list of L2 chain configs, 9 the L1 chain config.
func readLocalChainConfigLists(oracle preimage.Oracle) (map[uint64]*rollup.ChainConfigs, error) {
	data, err := oracle.Get(preimage.RollupConfigLocalIndex)
	if err != nil {
		return nil, fmt.Errorf("read rollup configs: %w", err)
	}
	var rollupJSON []json.RawMessage
	if err := json.Unmarshal(data, &rollupJSON); err != nil {
		return nil, fmt.Errorf("decode rollup configs (local key 7, a JSON list): %w", err)
	}
	if data, err = oracle.Get(preimage.L2ChainConfigLocalIndex); err != nil {
		return nil, fmt.Errorf("read l2 chain configs: %w", err)
	}
	var l2s []*params.ChainConfig
	if err := json.Unmarshal(data, &l2s); err != nil {
		return nil, fmt.Errorf("decode l2 chain configs (local key 6, a JSON list): %w", err)
	}
	l1, err := readChainConfig(oracle, preimage.L1ChainConfigLocalIndex)
	if err != nil {
		return nil, err
	}
	out := map[uint64]*rollup.ChainConfigs{}
	for _, r := range rollupJSON {
		cfg, err := rollup.ParseConfig(r)
		if err != nil {
			return nil, err
		}
		c := &rollup.ChainConfigs{Rollup: cfg, L1: l1}
		for _, l2 := range l2s {
			if l2 != nil && l2.ChainID != nil && l2.ChainID.Cmp(cfg.L2ChainID) == 0 {
				c.L2 = l2
			}
		}
		if c.L2 == nil {
			return nil, fmt.Errorf("no l2 chain config for chain %d in local key 6", cfg.ChainID())
		}
		if err := c.Check(); err != nil {
			return nil, err
		}
		out[cfg.ChainID()] = c
	}
	return out, nil
}
