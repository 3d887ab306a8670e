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
