package rollup

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/superchain"
)

// ErrUnknownNetwork is returned for a network name or chain ID that the embedded registry does not hold.
var ErrUnknownNetwork = errors.New("unknown network")

// channelTimeoutBedrock is the channel timeout of every registry chain; the registry does not record it.
const channelTimeoutBedrock = 300

// Network is a public chain of the embedded superchain registry.
type Network struct {
	Name    string // e.g. "op-sepolia": chain name and superchain, as op-node names them
	ChainID uint64
	L1      uint64 // L1 chain ID
}

// Networks lists the registry's chains, sorted by name.
func Networks() []Network {
	var out []Network
	for id, ch := range superchain.Chains {
		n := Network{Name: ch.Name + "-" + ch.Network, ChainID: id}
		if sc, err := superchain.GetSuperchain(ch.Network); err == nil {
			n.L1 = sc.L1.ChainID
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ResolveNetwork turns a network name ("op-sepolia"), a chain name on mainnet or sepolia ("op"), or a
// decimal chain ID ("11155420") into the chain ID of a registry chain.
func ResolveNetwork(name string) (uint64, error) {
	name = strings.TrimSpace(name)
	if id, err := strconv.ParseUint(name, 10, 64); err == nil {
		if _, ok := superchain.Chains[id]; ok {
			return id, nil
		}
		return 0, fmt.Errorf("%w: chain ID %d is not in the embedded superchain registry (see 'faultproof configs')", ErrUnknownNetwork, id)
	}
	if id, err := superchain.ChainIDByName(name); err == nil {
		return id, nil
	}
	// A bare chain name: prefer mainnet, then sepolia, as people usually mean.
	for _, sc := range []string{"mainnet", "sepolia"} {
		if id, err := superchain.ChainIDByName(name + "-" + sc); err == nil {
			return id, nil
		}
	}
	return 0, fmt.Errorf("%w %q: not in the embedded superchain registry (see 'faultproof configs')", ErrUnknownNetwork, name)
}

// FromRegistry builds the rollup config and the L2 chain config of a registry chain.
func FromRegistry(chainID uint64) (*Config, *params.ChainConfig, error) {
	chain, err := superchain.GetChain(chainID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnknownNetwork, err)
	}
	cc, err := chain.Config()
	if err != nil {
		return nil, nil, fmt.Errorf("chain %d config: %w", chainID, err)
	}
	sc, err := superchain.GetSuperchain(chain.Network)
	if err != nil {
		return nil, nil, fmt.Errorf("superchain %q of chain %d: %w", chain.Network, chainID, err)
	}
	if cc.Addresses.OptimismPortalProxy == nil || cc.Addresses.SystemConfigProxy == nil {
		return nil, nil, fmt.Errorf("chain %d: registry entry lacks the portal or system config address", chainID)
	}
	if cc.Optimism == nil {
		return nil, nil, fmt.Errorf("chain %d: registry entry lacks EIP-1559 parameters", chainID)
	}
	regolith := uint64(0) // every registry chain started at or after Regolith
	sys := cc.Genesis.SystemConfig
	cfg := &Config{
		Genesis: Genesis{
			L1:     BlockID{Hash: cc.Genesis.L1.Hash, Number: cc.Genesis.L1.Number},
			L2:     BlockID{Hash: cc.Genesis.L2.Hash, Number: cc.Genesis.L2.Number},
			L2Time: cc.Genesis.L2Time,
			SystemConfig: SystemConfig{
				BatcherAddr: sys.BatcherAddr,
				Overhead:    sys.Overhead,
				Scalar:      sys.Scalar,
				GasLimit:    sys.GasLimit,
			},
		},
		BlockTime:              cc.BlockTime,
		MaxSequencerDrift:      cc.MaxSequencerDrift,
		SeqWindowSize:          cc.SeqWindowSize,
		ChannelTimeoutBedrock:  channelTimeoutBedrock,
		L1ChainID:              new(big.Int).SetUint64(sc.L1.ChainID),
		L2ChainID:              new(big.Int).SetUint64(cc.ChainID),
		RegolithTime:           &regolith,
		CanyonTime:             cc.Hardforks.CanyonTime,
		DeltaTime:              cc.Hardforks.DeltaTime,
		EcotoneTime:            cc.Hardforks.EcotoneTime,
		FjordTime:              cc.Hardforks.FjordTime,
		GraniteTime:            cc.Hardforks.GraniteTime,
		HoloceneTime:           cc.Hardforks.HoloceneTime,
		IsthmusTime:            cc.Hardforks.IsthmusTime,
		JovianTime:             cc.Hardforks.JovianTime,
		KarstTime:              cc.Hardforks.KarstTime,
		LagoonTime:             cc.Hardforks.LagoonTime,
		PectraBlobScheduleTime: cc.Hardforks.PectraBlobScheduleTime,
		BatchInboxAddress:      cc.BatchInboxAddr,
		DepositContractAddress: *cc.Addresses.OptimismPortalProxy,
		L1SystemConfigAddress:  *cc.Addresses.SystemConfigProxy,
		ChainOpConfig: &params.OptimismConfig{
			EIP1559Elasticity:        cc.Optimism.EIP1559Elasticity,
			EIP1559Denominator:       cc.Optimism.EIP1559Denominator,
			EIP1559DenominatorCanyon: cc.Optimism.EIP1559DenominatorCanyon,
		},
	}
	if cc.AltDA != nil {
		cfg.AltDAConfig = &AltDAConfig{
			DAChallengeAddress: cc.AltDA.DaChallengeContractAddress,
			CommitmentType:     cc.AltDA.DaCommitmentType,
			DAChallengeWindow:  cc.AltDA.DaChallengeWindow,
			DAResolveWindow:    cc.AltDA.DaResolveWindow,
		}
	}
	l2, err := params.LoadOPStackChainConfig(cc)
	if err != nil {
		return nil, nil, fmt.Errorf("chain %d: L2 chain config: %w", chainID, err)
	}
	return cfg, l2, nil
}

// L1ChainConfig returns the chain config of a well-known L1 (mainnet, sepolia, holesky, hoodi). Custom L1s
// must supply theirs (local key 9).
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
