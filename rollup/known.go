package rollup

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/params"
)

// ChainConfigs are the configs the program needs for one chain.
type ChainConfigs struct {
	Rollup *Config
	L2     *params.ChainConfig // the L2's execution-layer chain config
	L1     *params.ChainConfig // the L1's chain config
}

// KnownChain returns the configs of a chain this program knows by its chain ID: a chain of the embedded
// registry, or a custom chain built in with 'faultproof prestate --chain-config'. Only that chain's
// configs are built. A chain it does not know gives ErrUnknownNetwork; a registry chain that fault proofs
// do not support gives ErrUnsupportedChain.
func KnownChain(chainID uint64) (*ChainConfigs, error) {
	cfg, l2, err := FromRegistry(chainID)
	if err == nil {
		l1, err := L1ChainConfig(cfg.L1ChainID.Uint64())
		if err != nil {
			return nil, err
		}
		return &ChainConfigs{Rollup: cfg, L2: l2, L1: l1}, nil
	}
	if !errors.Is(err, ErrUnknownNetwork) {
		return nil, err
	}
	rollupJSON, l2JSON, l1JSON, ok := builtInChain(chainID)
	if !ok {
		return nil, fmt.Errorf("%w: chain %d is neither in the embedded chain registry nor built into this program", ErrUnknownNetwork, chainID)
	}
	c, err := ParseChainConfigs([]byte(rollupJSON), []byte(l2JSON), []byte(l1JSON))
	if err != nil {
		return nil, fmt.Errorf("built-in chain %d: %w", chainID, err)
	}
	return c, nil
}

// BuiltInChainIDs lists the custom chains built into this program ('faultproof prestate --chain-config').
func BuiltInChainIDs() []uint64 { return builtInChainIDs() }

// ParseChainConfigs decodes and checks a chain's configs: a rollup.json, a genesis or L2 chain config, and
// a genesis or L1 chain config (empty for a well-known L1). The chain IDs must agree.
func ParseChainConfigs(rollupJSON, l2JSON, l1JSON []byte) (*ChainConfigs, error) {
	var c ChainConfigs
	var err error
	if c.Rollup, err = ParseConfig(rollupJSON); err != nil {
		return nil, err
	}
	if c.L2, err = ParseChainConfig(l2JSON); err != nil {
		return nil, fmt.Errorf("l2 chain config: %w", err)
	}
	if len(l1JSON) == 0 {
		c.L1, err = L1ChainConfig(c.Rollup.L1ChainID.Uint64())
	} else if c.L1, err = ParseChainConfig(l1JSON); err != nil {
		err = fmt.Errorf("l1 chain config: %w", err)
	}
	if err != nil {
		return nil, err
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Check requires the chain configs to be for the rollup config's L2 and L1.
func (c *ChainConfigs) Check() error {
	if c.L2.ChainID.Cmp(c.Rollup.L2ChainID) != 0 {
		return fmt.Errorf("l2 chain config is for chain %v, rollup config for chain %v", c.L2.ChainID, c.Rollup.L2ChainID)
	}
	if c.L1.ChainID.Cmp(c.Rollup.L1ChainID) != 0 {
		return fmt.Errorf("l1 chain config is for chain %v, rollup config's L1 is chain %v", c.L1.ChainID, c.Rollup.L1ChainID)
	}
	return nil
}
