package rollup

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/params"
)

// ParseChainConfig reads an execution-layer chain config from either a genesis file (its "config" member)
// or a bare chain config object.
func ParseChainConfig(data []byte) (*params.ChainConfig, error) {
	var genesis struct {
		Config *params.ChainConfig `json:"config"`
	}
	if err := json.Unmarshal(data, &genesis); err != nil {
		return nil, fmt.Errorf("decode chain config: %w", err)
	}
	cfg := genesis.Config
	if cfg == nil {
		cfg = new(params.ChainConfig)
		if err := json.Unmarshal(data, cfg); err != nil {
			return nil, fmt.Errorf("decode chain config: %w", err)
		}
	}
	if cfg.ChainID == nil || cfg.ChainID.Sign() <= 0 {
		return nil, fmt.Errorf("chain config has no chain ID")
	}
	return cfg, nil
}

// LoadChainConfig reads a genesis or chain config file.
func LoadChainConfig(path string) (*params.ChainConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read chain config: %w", err)
	}
	cfg, err := ParseChainConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ChainConfigFromRollup is the execution-layer chain config that a rollup config alone implies, by kona's
// rule (kona-host takes no L2 genesis): every pre-merge fork and Bedrock at genesis, Regolith, Canyon with
// Shanghai, Ecotone with Cancun, Isthmus with Prague and the other OP forks at the rollup config's times,
// and the EIP-1559 parameters of its chain_op_config (OP Mainnet's when it has none). For a chain of the
// registry, FromRegistry gives its config by op-geth's registry rules instead.
func ChainConfigFromRollup(cfg *Config) *params.ChainConfig {
	out := opStackChainConfig(cfg)
	out.RegolithTime = cfg.RegolithTime
	if out.Optimism == nil { // kona's default: OP Mainnet's
		out.Optimism = &params.OptimismConfig{EIP1559Elasticity: 6, EIP1559Denominator: 50, EIP1559DenominatorCanyon: u64(250)}
	}
	return out
}
