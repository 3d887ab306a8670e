package host

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/faultproof/faultproof/preimage"
)

// ErrUnknownLocalKey is returned for a local key the host does not serve in its configuration.
var ErrUnknownLocalKey = errors.New("unknown local key")

// LocalSource answers local keys (the program's boot inputs) from the host's configuration.
type LocalSource struct {
	values map[[32]byte][]byte
}

// NewLocalSource prepares the local keys of cfg. Chain configs are encoded once, up front, so that a
// config that cannot be encoded is a start-up error rather than a failure in the middle of a run.
func NewLocalSource(cfg *Config) (*LocalSource, error) {
	if cfg.Interop != nil {
		values, err := interopLocalValues(cfg)
		if err != nil {
			return nil, err
		}
		return newLocalSource(values), nil
	}
	be64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	chainID := cfg.Rollup.ChainID()
	if cfg.IsCustomChainConfig {
		chainID = preimage.CustomChainIDIndicator
	}
	values := map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:             cfg.L1Head.Bytes(),
		preimage.L2OutputRootLocalIndex:       cfg.L2OutputRoot.Bytes(),
		preimage.L2ClaimLocalIndex:            cfg.L2Claim.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex: be64(cfg.L2ClaimBlockNumber),
		preimage.L2ChainIDLocalIndex:          be64(chainID),
	}
	// The chain configs are served whenever the host has all three: for the custom-chain indicator, and for
	// a program that does not know the chain it is told about (it then falls back to these keys).
	if cfg.L1ChainConfig != nil {
		for idx, v := range map[preimage.LocalIndexKey]any{
			preimage.L2ChainConfigLocalIndex: cfg.L2ChainConfig,
			preimage.RollupConfigLocalIndex:  cfg.Rollup,
			preimage.L1ChainConfigLocalIndex: cfg.L1ChainConfig,
		} {
			data, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("encode %s (local key %d): %w", preimage.LocalIndexName(idx), idx, err)
			}
			values[idx] = data
		}
	}
	return newLocalSource(values), nil
}

func newLocalSource(values map[preimage.LocalIndexKey][]byte) *LocalSource {
	s := &LocalSource{values: make(map[[32]byte][]byte, len(values))}
	for idx, v := range values {
		s.values[idx.PreimageKey()] = v
	}
	return s
}

// Get returns the value of a local key.
func (s *LocalSource) Get(key [32]byte) ([]byte, error) {
	if v, ok := s.values[key]; ok {
		return v, nil
	}
	idx := preimage.LocalIndexKey(binary.BigEndian.Uint64(key[24:]))
	switch idx {
	case preimage.L2ChainConfigLocalIndex, preimage.RollupConfigLocalIndex, preimage.L1ChainConfigLocalIndex:
		return nil, fmt.Errorf("%w %d (%s): chain configs are served only when given as files (--rollup.config, --l2.genesis, and --l1.chainconfig for an L1 other than mainnet, sepolia, holesky or hoodi)", ErrUnknownLocalKey, idx, preimage.LocalIndexName(idx))
	case preimage.DependencySetLocalIndex:
		return nil, fmt.Errorf("%w %d (%s): served for interop claims only (--l2.agreed-prestate with --depset.config)", ErrUnknownLocalKey, idx, preimage.LocalIndexName(idx))
	}
	return nil, fmt.Errorf("%w %d", ErrUnknownLocalKey, idx)
}
