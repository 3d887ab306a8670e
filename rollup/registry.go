package rollup

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/params"
)

// Errors of the registry lookups.
var (
	// ErrUnknownNetwork is returned for a network name or chain ID that this build does not know.
	ErrUnknownNetwork = errors.New("unknown network")
	// ErrUnsupportedChain is returned for a registry chain that fault proofs cannot run on; the error
	// names the feature (Network.Unsupported).
	ErrUnsupportedChain = errors.New("unsupported chain")
)

// channelTimeoutBedrock is the channel timeout of every registry chain; the registry does not record it.
const channelTimeoutBedrock = 300

// Network is a chain of the embedded registry (registry_gen.go).
type Network struct {
	Name        string // chain name and superchain, as op-node names them: "op-mainnet", "op-sepolia"
	ChainID     uint64
	L1ChainID   uint64
	Superchain  string // "mainnet", "sepolia", ...
	DisplayName string // "OP Mainnet"
	// FaultProofs is the registry's fault proof status of the chain: "permissionless", "permissioned" or
	// "none".
	FaultProofs string
	// GasPayingToken is the address of a custom gas token, empty for ETH.
	GasPayingToken string
	// Unsupported says why fault proofs cannot run on the chain; empty if they can.
	Unsupported string
}

// Networks lists the registry's chains, sorted by name.
func Networks() []Network {
	return append([]Network(nil), registryNetworks[:]...)
}

func networkByID(chainID uint64) (Network, bool) {
	for _, n := range registryNetworks {
		if n.ChainID == chainID {
			return n, true
		}
	}
	return Network{}, false
}

func networkByName(name string) (Network, bool) {
	for _, n := range registryNetworks {
		if n.Name == name || n.Superchain+"/"+strings.TrimSuffix(n.Name, "-"+n.Superchain) == name {
			return n, true
		}
	}
	return Network{}, false
}

// ResolveNetwork turns a network name ("op-sepolia"), a registry identifier ("sepolia/op"), a chain name
// on mainnet or sepolia ("op", meaning mainnet) or a decimal chain ID ("11155420") into the chain ID of a
// registry chain.
func ResolveNetwork(name string) (uint64, error) {
	name = strings.TrimSpace(name)
	if id, err := strconv.ParseUint(name, 10, 64); err == nil {
		if _, ok := networkByID(id); ok {
			return id, nil
		}
		return 0, fmt.Errorf("%w: chain ID %d is not in the embedded chain registry (see 'faultproof configs')", ErrUnknownNetwork, id)
	}
	if n, ok := networkByName(name); ok {
		return n.ChainID, nil
	}
	// A bare chain name: prefer mainnet, then sepolia, as people usually mean.
	for _, sc := range []string{"mainnet", "sepolia"} {
		if n, ok := networkByName(name + "-" + sc); ok && name != "" {
			return n.ChainID, nil
		}
	}
	return 0, fmt.Errorf("%w %q: not in the embedded chain registry (see 'faultproof configs')", ErrUnknownNetwork, name)
}

// RegistryChain returns a registry chain's index entry and its configs as the registry gives them, whether
// or not fault proofs support the chain (see Network.Unsupported). Runs use FromRegistry.
func RegistryChain(chainID uint64) (Network, *Config, *params.ChainConfig, error) {
	n, ok := networkByID(chainID)
	cfg, built := registryConfig(chainID)
	if !ok || !built {
		return Network{}, nil, nil, fmt.Errorf("%w: chain ID %d is not in the embedded chain registry", ErrUnknownNetwork, chainID)
	}
	return n, cfg, opStackChainConfig(cfg), nil
}

// FromRegistry builds the rollup config and the L2 chain config of a registry chain that fault proofs
// support. Only that chain's configs are built.
func FromRegistry(chainID uint64) (*Config, *params.ChainConfig, error) {
	n, cfg, l2, err := RegistryChain(chainID)
	if err != nil {
		return nil, nil, err
	}
	if n.Unsupported != "" {
		return nil, nil, fmt.Errorf("%w %s (chain %d): %s", ErrUnsupportedChain, n.Name, chainID, n.Unsupported)
	}
	return cfg, l2, nil
}

// opStackChainConfig is the execution-layer chain config of a registry chain, by op-geth's rules for
// registry chains (params.LoadOPStackChainConfig): every pre-merge fork and Bedrock at genesis, Shanghai
// with Canyon, Cancun with Ecotone, Prague with Isthmus, Regolith at genesis, and OP Mainnet's history
// from before Bedrock (its legacy blocks are not executed, but the config must match op-geth's).
func opStackChainConfig(cfg *Config) *params.ChainConfig {
	zero := func() *big.Int { return new(big.Int) }
	out := &params.ChainConfig{
		ChainID:                 new(big.Int).Set(cfg.L2ChainID),
		HomesteadBlock:          zero(),
		EIP150Block:             zero(),
		EIP155Block:             zero(),
		EIP158Block:             zero(),
		ByzantiumBlock:          zero(),
		ConstantinopleBlock:     zero(),
		PetersburgBlock:         zero(),
		IstanbulBlock:           zero(),
		MuirGlacierBlock:        zero(),
		BerlinBlock:             zero(),
		LondonBlock:             zero(),
		ArrowGlacierBlock:       zero(),
		GrayGlacierBlock:        zero(),
		MergeNetsplitBlock:      zero(),
		ShanghaiTime:            cfg.CanyonTime,
		CancunTime:              cfg.EcotoneTime,
		PragueTime:              cfg.IsthmusTime,
		BedrockBlock:            zero(),
		RegolithTime:            u64(0),
		CanyonTime:              cfg.CanyonTime,
		EcotoneTime:             cfg.EcotoneTime,
		FjordTime:               cfg.FjordTime,
		GraniteTime:             cfg.GraniteTime,
		HoloceneTime:            cfg.HoloceneTime,
		IsthmusTime:             cfg.IsthmusTime,
		JovianTime:              cfg.JovianTime,
		KarstTime:               cfg.KarstTime,
		LagoonTime:              cfg.LagoonTime,
		TerminalTotalDifficulty: zero(),
	}
	if op := cfg.ChainOpConfig; op != nil {
		out.Optimism = &params.OptimismConfig{
			EIP1559Elasticity:  op.EIP1559Elasticity,
			EIP1559Denominator: op.EIP1559Denominator,
		}
		if op.EIP1559DenominatorCanyon != nil {
			out.Optimism.EIP1559DenominatorCanyon = u64(*op.EIP1559DenominatorCanyon)
		}
	}
	if cfg.ChainID() == params.OPMainnetChainID {
		bedrock := uint64(105235063)
		out.BerlinBlock = big.NewInt(3950000)
		out.LondonBlock = new(big.Int).SetUint64(bedrock)
		out.ArrowGlacierBlock = new(big.Int).SetUint64(bedrock)
		out.GrayGlacierBlock = new(big.Int).SetUint64(bedrock)
		out.MergeNetsplitBlock = new(big.Int).SetUint64(bedrock)
		out.BedrockBlock = new(big.Int).SetUint64(bedrock)
	}
	return out
}

func u64(v uint64) *uint64 { return &v }

// L1ChainConfig returns the chain config of a well-known L1 (mainnet, sepolia, holesky, hoodi). Custom L1s
// must supply theirs (local key 9, or built into the program with 'faultproof prestate --chain-config').
func L1ChainConfig(chainID uint64) (*params.ChainConfig, error) {
	switch chainID {
	case params.MainnetChainConfig.ChainID.Uint64():
		return params.MainnetChainConfig, nil
	case params.SepoliaChainConfig.ChainID.Uint64():
		return params.SepoliaChainConfig, nil
	case params.HoleskyChainConfig.ChainID.Uint64():
		return params.HoleskyChainConfig, nil
	case params.HoodiChainConfig.ChainID.Uint64():
		return params.HoodiChainConfig, nil
	}
	return nil, fmt.Errorf("no built-in chain config for L1 chain %d: supply it with --l1.chainconfig", chainID)
}
