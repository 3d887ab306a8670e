package host

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// InteropConfig makes the host serve an interop (super-root) claim: the dispute game's local keys 1-4
// (L1 head, hash of the agreed prestate, claim, game timestamp in L2ClaimBlockNumber), op-program's config
// lists as local keys 6, 7 and 9, the dependency set as local key 8, and the agreed prestate itself.
type InteropConfig struct {
	// AgreedPrestate is the encoded agreed prestate: a super root or a transition state
	// (--l2.agreed-prestate), or the InvalidTransition marker.
	AgreedPrestate []byte
	// DepSet is the dependency set (--depset.config).
	DepSet *interop.DependencySet
	// Chains has the configs of every chain of the prestate, in chain ID order.
	Chains []*rollup.ChainConfigs
	// Rebuild, online, rebuilds an optimistic block a chain's node does not have (consolidation replaced
	// it): the program's derivation of the block after the agreed one (client.RebuildOptimisticBlock, set
	// by the command: the host does not import the program). Nil: such a block is an error.
	Rebuild RebuildFunc
}

// RebuildFunc derives and executes the block after agreed on chain, from L1 up to l1Head, reading through
// oracle and hinter.
type RebuildFunc func(ctx context.Context, oracle preimage.Oracle, hinter preimage.Hinter, chain *rollup.ChainConfigs, depSetSize int, l1Head, agreed common.Hash) (*prefetch.RebuiltBlock, error)

// prefetchInterop is the online prefetcher's view of an interop claim.
func prefetchInterop(cfg *Config) (*prefetch.InteropConfig, error) {
	ic := cfg.Interop
	out := &prefetch.InteropConfig{AgreedPrestate: ic.AgreedPrestate, Rollups: map[uint64]*rollup.Config{}}
	chains := map[uint64]*rollup.ChainConfigs{}
	for _, c := range ic.Chains {
		out.Rollups[c.Rollup.ChainID()] = c.Rollup
		chains[c.Rollup.ChainID()] = c
	}
	if ic.Rebuild != nil {
		size := len(ic.DepSet.Chains())
		out.Rebuild = func(ctx context.Context, oracle preimage.Oracle, hinter preimage.Hinter, chainID uint64, agreed common.Hash) (*prefetch.RebuiltBlock, error) {
			c, ok := chains[chainID]
			if !ok {
				return nil, fmt.Errorf("no configs for chain %d", chainID)
			}
			return ic.Rebuild(ctx, oracle, hinter, c, size, cfg.L1Head, agreed)
		}
	}
	return out, nil
}

// ErrInteropConfig marks an interop setup that cannot be served.
var ErrInteropConfig = errors.New("invalid interop configuration")

// Prestate decodes the agreed prestate (nil for the InvalidTransition marker).
func (c *InteropConfig) Prestate() (*interop.PreState, error) {
	if string(c.AgreedPrestate) == string(interop.InvalidTransition) {
		return nil, nil
	}
	pre, err := interop.UnmarshalPreState(c.AgreedPrestate)
	if err != nil {
		return nil, fmt.Errorf("%w: agreed prestate: %w", ErrInteropConfig, err)
	}
	return pre, nil
}

// Check requires a prestate that decodes, a config for each of its chains, all on one L1, and a dependency
// set that holds them.
func (c *InteropConfig) Check() error {
	pre, err := c.Prestate()
	if err != nil {
		return err
	}
	if c.DepSet == nil {
		return fmt.Errorf("%w: no dependency set", ErrInteropConfig)
	}
	if pre == nil {
		return nil
	}
	ids := pre.Super.ChainIDs()
	if len(ids) != len(c.Chains) {
		return fmt.Errorf("%w: the agreed prestate has %d chains %v, %d chain configs are given", ErrInteropConfig, len(ids), ids, len(c.Chains))
	}
	for i, id := range ids {
		cc := c.Chains[i]
		if cc.Rollup.ChainID() != id {
			return fmt.Errorf("%w: the agreed prestate's chain %d is chain %d, the config given is for chain %d", ErrInteropConfig, i, id, cc.Rollup.ChainID())
		}
		if err := cc.Check(); err != nil {
			return fmt.Errorf("%w: chain %d: %w", ErrInteropConfig, id, err)
		}
		if cc.Rollup.L1ChainID.Cmp(c.Chains[0].Rollup.L1ChainID) != 0 {
			return fmt.Errorf("%w: chain %d settles on L1 %v, chain %d on L1 %v", ErrInteropConfig, id, cc.Rollup.L1ChainID, ids[0], c.Chains[0].Rollup.L1ChainID)
		}
	}
	if err := c.DepSet.CheckCovers(ids); err != nil {
		return fmt.Errorf("%w: %w", ErrInteropConfig, err)
	}
	return nil
}

// interopLocalValues are the local keys of an interop claim.
func interopLocalValues(cfg *Config) (map[preimage.LocalIndexKey][]byte, error) {
	ic := cfg.Interop
	var rollups, l2s []any
	for _, c := range ic.Chains {
		rollups = append(rollups, c.Rollup)
		l2s = append(l2s, c.L2)
	}
	values := map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:             cfg.L1Head.Bytes(),
		preimage.L2OutputRootLocalIndex:       crypto.Keccak256(ic.AgreedPrestate),
		preimage.L2ClaimLocalIndex:            cfg.L2Claim.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex: binary.BigEndian.AppendUint64(nil, cfg.L2ClaimBlockNumber),
	}
	encode := map[preimage.LocalIndexKey]any{preimage.DependencySetLocalIndex: ic.DepSet}
	if len(ic.Chains) > 0 {
		encode[preimage.RollupConfigLocalIndex] = rollups
		encode[preimage.L2ChainConfigLocalIndex] = l2s
		encode[preimage.L1ChainConfigLocalIndex] = ic.Chains[0].L1
	}
	for idx, v := range encode {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s (local key %d): %w", preimage.LocalIndexName(idx), idx, err)
		}
		values[idx] = data
	}
	return values, nil
}

// storePrestate puts the agreed prestate in the store under its keccak256 key, where the program reads it
// after its agreed-pre-state hint: the host, not a node, knows it.
func storePrestate(cfg *Config, put func(key [32]byte, value []byte) error) error {
	if cfg.Interop == nil {
		return nil
	}
	data := cfg.Interop.AgreedPrestate
	return put(preimage.Keccak256Key(crypto.Keccak256Hash(data)).PreimageKey(), data)
}
