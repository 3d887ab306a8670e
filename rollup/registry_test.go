package rollup

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

func TestResolveNetwork(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{"registry name", "op-sepolia", 11155420, false},
		{"registry name mainnet", "op-mainnet", 10, false},
		{"registry identifier", "sepolia/op", 11155420, false},
		{"decimal chain ID", "11155420", 11155420, false},
		{"bare chain name means mainnet", "op", 10, false},
		{"bare chain name only on sepolia", "ozean", 7849306, false},
		{"chain added by this registry", "boba-mainnet", 288, false},
		{"surrounding space", " worldchain ", 480, false},
		{"unknown name", "no-such-chain", 0, true},
		{"unknown chain ID", "424242", 0, true},
		{"chain dropped from the registry", "rehearsal-0-bn-0-rehearsal-0-bn", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveNetwork(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrUnknownNetwork)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFromRegistryOPSepolia(t *testing.T) {
	cfg, l2, err := FromRegistry(11155420)
	require.NoError(t, err)
	require.NoError(t, cfg.Check())
	// Facts of OP Sepolia that have not changed since its genesis.
	require.Equal(t, common.HexToHash("0x102de6ffb001480cc9b8b548fd05c34cd4f46ae4aa91759393db90ea0409887d"), cfg.Genesis.L2.Hash)
	require.Equal(t, uint64(1691802540), cfg.Genesis.L2Time)
	require.Equal(t, uint64(11155111), cfg.L1ChainID.Uint64())
	require.Equal(t, common.HexToAddress("0xff00000000000000000000000000000011155420"), cfg.BatchInboxAddress)
	require.Equal(t, uint64(300), cfg.ChannelTimeoutBedrock)
	require.Equal(t, uint64(0), *cfg.RegolithTime)
	require.True(t, cfg.KeepKarstUpgradeGas, "OP Sepolia activated Karst with the upgrade gas kept")
	require.NotNil(t, cfg.PectraBlobScheduleTime)
	require.Equal(t, uint64(11155420), l2.ChainID.Uint64())
	require.Equal(t, cfg.IsthmusTime, l2.IsthmusTime, "rollup and execution fork schedules agree")
	require.Equal(t, cfg.KarstTime, l2.KarstTime)
	require.Equal(t, cfg.EcotoneTime, l2.CancunTime, "Cancun activates with Ecotone")
	require.Equal(t, cfg.IsthmusTime, l2.PragueTime, "Prague activates with Isthmus")
	require.Equal(t, int64(0), l2.BedrockBlock.Int64())
	l1, err := L1ChainConfig(cfg.L1ChainID.Uint64())
	require.NoError(t, err)
	require.Equal(t, uint64(11155111), l1.ChainID.Uint64())
}

// TestRegistryFixes covers what op-geth's older embedded registry lacked.
func TestRegistryFixes(t *testing.T) {
	world, _, err := FromRegistry(480)
	require.NoError(t, err)
	require.NotNil(t, world.KarstTime, "World Chain schedules Karst")
	require.Equal(t, uint64(1789992000), *world.KarstTime)
	require.False(t, world.KeepKarstUpgradeGas)

	op, l2, err := FromRegistry(10)
	require.NoError(t, err)
	require.True(t, op.KeepKarstUpgradeGas)
	// OP Mainnet's execution config keeps its pre-Bedrock history, as op-geth's does.
	require.Equal(t, big.NewInt(105235063), l2.BedrockBlock)
	require.Equal(t, big.NewInt(3950000), l2.BerlinBlock)
	require.Equal(t, big.NewInt(105235063), l2.LondonBlock)
	require.Equal(t, uint64(105235063), op.Genesis.L2.Number)

	keep := 0
	for _, n := range Networks() {
		_, cfg, _, err := RegistryChain(n.ChainID)
		require.NoError(t, err)
		if cfg.KeepKarstUpgradeGas {
			keep++
		}
	}
	require.Equal(t, 12, keep, "chains that keep the Karst upgrade gas")
}

func TestUnsupportedRegistryChains(t *testing.T) {
	for _, tc := range []struct {
		network string
		feature string
	}{
		{"redstone-mainnet", "alt-DA (plasma) is not supported by fault proofs"},
		{"fraxtal-mainnet", "alt-DA (plasma) is not supported by fault proofs"}, // alt-DA without an alt_da config
		{"celo-mainnet", "Celo's execution layer is not op-geth's"},
		{"boba-sepolia", "fork schedule is out of date"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			id, err := ResolveNetwork(tc.network)
			require.NoError(t, err, "still listed")
			_, _, err = FromRegistry(id)
			require.ErrorIs(t, err, ErrUnsupportedChain)
			require.ErrorContains(t, err, tc.feature)
			require.ErrorContains(t, err, tc.network)
			_, err = KnownChain(id)
			require.ErrorIs(t, err, ErrUnsupportedChain)

			n, cfg, l2, err := RegistryChain(id)
			require.NoError(t, err, "the configs can still be inspected")
			require.Contains(t, n.Unsupported, tc.feature)
			require.Equal(t, id, cfg.ChainID())
			require.Equal(t, id, l2.ChainID.Uint64())
		})
	}
	_, cfg, _, err := RegistryChain(690)
	require.NoError(t, err)
	require.NotNil(t, cfg.AltDAConfig)
	require.ErrorIs(t, cfg.Check(), ErrAltDAUnsupported, "alt-DA rollup configs are refused by Check too")
}

// TestSelfDependencySetIsOrdinary: sepolia-devnet-2 declares an interop dependency set of itself alone,
// and schedules no Lagoon: it is an ordinary chain.
func TestSelfDependencySetIsOrdinary(t *testing.T) {
	id, err := ResolveNetwork("sepolia-devnet-2-sepolia-devnet-2")
	require.NoError(t, err)
	c, err := KnownChain(id)
	require.NoError(t, err)
	require.Nil(t, c.Rollup.LagoonTime)
	require.True(t, c.Rollup.IsKarst(c.Rollup.Genesis.L2Time))
}

func TestEveryRegistryChainLoads(t *testing.T) {
	nets := Networks()
	require.GreaterOrEqual(t, len(nets), 50)
	supported := 0
	for i, n := range nets {
		if i > 0 {
			require.Less(t, nets[i-1].Name, n.Name, "sorted by name")
		}
		got, err := ResolveNetwork(n.Name)
		require.NoError(t, err, n.Name)
		require.Equal(t, n.ChainID, got, n.Name)

		entry, cfg, l2, err := RegistryChain(n.ChainID)
		require.NoError(t, err, n.Name)
		require.Equal(t, n, entry)
		require.Equal(t, n.ChainID, cfg.ChainID(), n.Name)
		require.Equal(t, n.L1ChainID, cfg.L1ChainID.Uint64(), n.Name)
		require.Equal(t, n.ChainID, l2.ChainID.Uint64(), n.Name)
		if n.Unsupported != "" {
			_, _, err := FromRegistry(n.ChainID)
			require.ErrorIs(t, err, ErrUnsupportedChain, n.Name)
			continue
		}
		supported++
		require.NoError(t, cfg.Check(), n.Name)
		c, err := KnownChain(n.ChainID)
		require.NoError(t, err, n.Name)
		require.Equal(t, n.L1ChainID, c.L1.ChainID.Uint64(), n.Name)
	}
	require.Greater(t, supported, 30)
}

// TestFromRegistryBuildsOneChain checks that a lookup builds the one chain asked for, afresh: it allocates
// what building that chain's two configs takes and no more, and shares nothing between calls that a
// caller could change.
func TestFromRegistryBuildsOneChain(t *testing.T) {
	lookup := testing.AllocsPerRun(10, func() {
		_, _, err := FromRegistry(10)
		require.NoError(t, err)
	})
	oneChain := testing.AllocsPerRun(10, func() {
		cfg, _ := registryConfig(10)
		opStackChainConfig(cfg)
	})
	require.NotZero(t, oneChain)
	require.LessOrEqual(t, lookup, oneChain+2, "a lookup builds only the chain asked for")

	a, l2a, err := FromRegistry(11155420)
	require.NoError(t, err)
	b, l2b, err := FromRegistry(11155420)
	require.NoError(t, err)
	require.Equal(t, a, b, "deterministic")
	require.Equal(t, l2a, l2b)
	*a.KarstTime = 1
	a.L2ChainID.SetUint64(1)
	l2a.ChainID.SetUint64(1)
	c, l2c, err := FromRegistry(11155420)
	require.NoError(t, err)
	require.Equal(t, b, c, "a caller's change does not reach the next lookup")
	require.Equal(t, l2b, l2c)
}

func TestKnownChainUnknown(t *testing.T) {
	_, err := KnownChain(424242)
	require.ErrorIs(t, err, ErrUnknownNetwork)
	require.ErrorContains(t, err, "neither in the embedded chain registry nor built into this program")
	require.Empty(t, BuiltInChainIDs(), "the source tree builds no custom chains in")
}

func TestParseChainConfig(t *testing.T) {
	genesis := `{"config": {"chainId": 901, "optimism": {"eip1559Elasticity": 6, "eip1559Denominator": 50}}, "alloc": {}}`
	cfg, err := ParseChainConfig([]byte(genesis))
	require.NoError(t, err)
	require.Equal(t, uint64(901), cfg.ChainID.Uint64())
	require.Equal(t, uint64(50), cfg.Optimism.EIP1559Denominator)

	bare := `{"chainId": 900, "cancunTime": 0}`
	cfg, err = ParseChainConfig([]byte(bare))
	require.NoError(t, err)
	require.Equal(t, uint64(900), cfg.ChainID.Uint64())

	_, err = ParseChainConfig([]byte(`{"alloc": {}}`))
	require.ErrorContains(t, err, "no chain ID")
	_, err = ParseChainConfig([]byte(`[`))
	require.Error(t, err)
}
