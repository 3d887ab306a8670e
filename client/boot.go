// Package client is the fault proof program: it reads its boot inputs from local keys, derives the L2 chain
// from L1 through the preimage oracle, executes it, and decides whether the claimed output root is right.
// The same code runs natively (in the host's process or as cmd/fpp-client) and as a MIPS64 program in the
// VM, so it is deterministic and single-threaded, and reads nothing but the oracle.
package client

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// BootInfo is what one program instance is asked to decide.
type BootInfo struct {
	L1Head             common.Hash // the L1 chain the program may read ends here
	L2OutputRoot       common.Hash // agreed output root
	L2Claim            common.Hash // claimed output root
	L2ClaimBlockNumber uint64      // block the claim is about
	L2ChainID          uint64      // or preimage.CustomChainIDIndicator

	Rollup        *rollup.Config
	L2ChainConfig *params.ChainConfig
	L1ChainConfig *params.ChainConfig
	// ConfigsFrom says where the chain configs came from.
	ConfigsFrom ConfigsSource
	// DependencySetSize is the number of chains in the chain's interop dependency set, which the Lagoon
	// activation block's upgrade transactions depend on; 0 when not known (single-chain claims).
	DependencySetSize int
}

// ConfigsSource is where the program found a chain's configs.
type ConfigsSource int

const (
	// ConfigsKnown: the embedded registry, or a custom chain built into the program.
	ConfigsKnown ConfigsSource = iota
	// ConfigsCustomIndicator: local keys 6, 7 and 9, because the host announced the custom-chain indicator.
	ConfigsCustomIndicator
	// ConfigsLocalFallback: local keys 6, 7 and 9, because the program does not know the chain ID. The
	// host, not the program, then decides the chain's rules: such a run cannot be disputed on chain.
	ConfigsLocalFallback
)

// ReadBootInfo reads local keys 1-5, then the chain configs: by chain ID from the embedded registry or the
// custom chains built into the program; for the custom-chain indicator, or a chain ID the program does not
// know, from local keys 6, 7 and 9.
func ReadBootInfo(oracle preimage.Oracle) (*BootInfo, error) {
	var b BootInfo
	for _, h := range []struct {
		key preimage.LocalIndexKey
		out *common.Hash
	}{
		{preimage.L1HeadLocalIndex, &b.L1Head},
		{preimage.L2OutputRootLocalIndex, &b.L2OutputRoot},
		{preimage.L2ClaimLocalIndex, &b.L2Claim},
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
	b.L2ClaimBlockNumber = binary.BigEndian.Uint64(v)
	if v, err = readLocal(oracle, preimage.L2ChainIDLocalIndex, 8); err != nil {
		return nil, err
	}
	b.L2ChainID = binary.BigEndian.Uint64(v)

	b.ConfigsFrom = ConfigsCustomIndicator
	if b.L2ChainID != preimage.CustomChainIDIndicator {
		known, err := rollup.KnownChain(b.L2ChainID)
		switch {
		case err == nil:
			b.Rollup, b.L2ChainConfig, b.L1ChainConfig = known.Rollup, known.L2, known.L1
			b.ConfigsFrom = ConfigsKnown
			return &b, nil
		case !errors.Is(err, rollup.ErrUnknownNetwork):
			return nil, fmt.Errorf("chain %d: %w", b.L2ChainID, err)
		}
		b.ConfigsFrom = ConfigsLocalFallback
	}
	if err := readLocalChainConfigs(oracle, &b); err != nil {
		if b.ConfigsFrom == ConfigsLocalFallback {
			return nil, fmt.Errorf("chain %d is neither in the embedded registry nor built into this program, and the host does not serve its configs: %w", b.L2ChainID, err)
		}
		return nil, err
	}
	if b.ConfigsFrom == ConfigsLocalFallback && b.Rollup.ChainID() != b.L2ChainID {
		return nil, fmt.Errorf("the rollup config (local key 7) is for chain %d, the host announced chain %d", b.Rollup.ChainID(), b.L2ChainID)
	}
	return &b, nil
}

// readLocalChainConfigs reads the chain configs the host serves as local keys 6, 7 and 9.
func readLocalChainConfigs(oracle preimage.Oracle, b *BootInfo) error {
	var err error
	if b.L2ChainConfig, err = readChainConfig(oracle, preimage.L2ChainConfigLocalIndex); err != nil {
		return err
	}
	data, err := oracle.Get(preimage.RollupConfigLocalIndex)
	if err != nil {
		return fmt.Errorf("read rollup config: %w", err)
	}
	if b.Rollup, err = rollup.ParseConfig(data); err != nil {
		return err
	}
	if b.L1ChainConfig, err = readChainConfig(oracle, preimage.L1ChainConfigLocalIndex); err != nil {
		return err
	}
	return (&rollup.ChainConfigs{Rollup: b.Rollup, L2: b.L2ChainConfig, L1: b.L1ChainConfig}).Check()
}

func readLocal(oracle preimage.Oracle, key preimage.LocalIndexKey, size int) ([]byte, error) {
	v, err := oracle.Get(key)
	if err != nil {
		return nil, fmt.Errorf("read %s (local key %d): %w", preimage.LocalIndexName(key), key, err)
	}
	if len(v) != size {
		return nil, fmt.Errorf("%s (local key %d) is %d bytes, want %d", preimage.LocalIndexName(key), key, len(v), size)
	}
	return v, nil
}

func readChainConfig(oracle preimage.Oracle, key preimage.LocalIndexKey) (*params.ChainConfig, error) {
	data, err := oracle.Get(key)
	if err != nil {
		return nil, fmt.Errorf("read %s (local key %d): %w", preimage.LocalIndexName(key), key, err)
	}
	var cfg params.ChainConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("decode %s: %w", preimage.LocalIndexName(key), err)
	}
	if cfg.ChainID == nil {
		return nil, fmt.Errorf("%s has no chain ID", preimage.LocalIndexName(key))
	}
	return &cfg, nil
}
