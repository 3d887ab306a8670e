// Package client is the fault proof program: it reads its boot inputs from local keys, derives the L2 chain
// from L1 through the preimage oracle, executes it, and decides whether the claimed output root is right.
// The same code runs natively (in the host's process or as cmd/fpp-client) and as a MIPS64 program in the
// VM, so it is deterministic and single-threaded, and reads nothing but the oracle.
package client

import (
	"encoding/binary"
	"encoding/json"
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
}

// ReadBootInfo reads local keys 1-5, then the chain configs: from the embedded registry by chain ID, or,
// for the custom-chain indicator, from local keys 6, 7 and 9.
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

	if b.L2ChainID != preimage.CustomChainIDIndicator {
		if b.Rollup, b.L2ChainConfig, err = rollup.FromRegistry(b.L2ChainID); err != nil {
			return nil, fmt.Errorf("chain %d: %w", b.L2ChainID, err)
		}
		if b.L1ChainConfig, err = rollup.L1ChainConfig(b.Rollup.L1ChainID.Uint64()); err != nil {
			return nil, err
		}
		return &b, nil
	}
	if b.L2ChainConfig, err = readChainConfig(oracle, preimage.L2ChainConfigLocalIndex); err != nil {
		return nil, err
	}
	data, err := oracle.Get(preimage.RollupConfigLocalIndex)
	if err != nil {
		return nil, fmt.Errorf("read rollup config: %w", err)
	}
	if b.Rollup, err = rollup.ParseConfig(data); err != nil {
		return nil, err
	}
	if b.L1ChainConfig, err = readChainConfig(oracle, preimage.L1ChainConfigLocalIndex); err != nil {
		return nil, err
	}
	if b.L2ChainConfig.ChainID.Cmp(b.Rollup.L2ChainID) != 0 {
		return nil, fmt.Errorf("l2 chain config is for chain %v, rollup config for chain %v", b.L2ChainConfig.ChainID, b.Rollup.L2ChainID)
	}
	if b.L1ChainConfig.ChainID.Cmp(b.Rollup.L1ChainID) != 0 {
		return nil, fmt.Errorf("l1 chain config is for chain %v, rollup config's L1 is chain %v", b.L1ChainConfig.ChainID, b.Rollup.L1ChainID)
	}
	return &b, nil
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
