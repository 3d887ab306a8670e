package rollup

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

func TestParseOpNodeRollupJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/rollup.json")
	require.NoError(t, err)
	cfg, err := ParseConfig(data)
	require.NoError(t, err)
	require.Equal(t, uint64(11155420), cfg.ChainID())
	require.Equal(t, uint64(2), cfg.BlockTime)
	require.Equal(t, common.HexToAddress("0x8f23bb38f531600e5d8fddaaec41f13fab46e98c"), cfg.Genesis.SystemConfig.BatcherAddr)
	require.Equal(t, uint64(1744905600), *cfg.IsthmusTime)
	require.Nil(t, cfg.JovianTime)
	require.Equal(t, uint64(250), *cfg.ChainOpConfig.EIP1559DenominatorCanyon)

	// Marshal and parse again: nothing is lost, so the JSON we serve as local key 7 carries the same config.
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	again, err := ParseConfig(out)
	require.NoError(t, err)
	require.Equal(t, cfg, again)
}

func TestParseConfigRejects(t *testing.T) {
	data, err := os.ReadFile("testdata/rollup.json")
	require.NoError(t, err)
	tests := []struct {
		name   string
		edit   func(string) string
		errSub string
	}{
		{"unknown fork scheduled", func(s string) string {
			return strings.Replace(s, `"block_time": 2`, `"block_time": 2, "future_time": 5`, 1)
		}, "unknown fork scheduled in rollup config (future_time)"},
		{"zero block time", func(s string) string { return strings.Replace(s, `"block_time": 2`, `"block_time": 0`, 1) }, ErrBlockTimeZero.Error()},
		{"fork before its predecessor", func(s string) string {
			return strings.Replace(s, `"isthmus_time": 1744905600`, `"isthmus_time": 1`, 1)
		}, "before the earlier fork holocene"},
		{"fork scheduled after an unscheduled one", func(s string) string {
			return strings.Replace(s, `"holocene_time": 1732633200,`, ``, 1)
		}, "earlier fork holocene is not"},
		{"same L1 and L2 chain IDs", func(s string) string {
			return strings.Replace(s, `"l2_chain_id": 11155420`, `"l2_chain_id": 11155111`, 1)
		}, ErrChainIDsSame.Error()},
		{"not JSON", func(string) string { return "{" }, "decode rollup config"},
		{"bad eip1559Params width", func(s string) string {
			return strings.Replace(s, `"eip1559Params": "0x0000000000000000"`, `"eip1559Params": "0x00"`, 1)
		}, "Bytes8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.edit(string(data))))
			require.ErrorContains(t, err, tt.errSub)
		})
	}
}

func TestParseConfigIgnoresUnknownFields(t *testing.T) {
	data, err := os.ReadFile("testdata/rollup.json")
	require.NoError(t, err)
	edited := strings.Replace(string(data), `"block_time": 2`, `"block_time": 2, "some_new_field": {"x": 1}, "interop_time": null`, 1)
	cfg, err := ParseConfig([]byte(edited))
	require.NoError(t, err)
	require.Equal(t, uint64(2), cfg.BlockTime)
}

func TestForkActivation(t *testing.T) {
	cfg := &Config{BlockTime: 2, RegolithTime: u64(0), CanyonTime: u64(0), DeltaTime: u64(10), EcotoneTime: u64(11)}
	tests := []struct {
		name       string
		fork       Fork
		time       uint64
		active     bool
		activation bool
	}{
		{"active at genesis has no activation block", Canyon, 0, true, false},
		{"active at genesis, later block", Canyon, 2, true, false},
		{"not yet active", Delta, 8, false, false},
		{"first block at the activation time", Delta, 10, true, true},
		{"second block after activation", Delta, 12, true, false},
		{"first block after an off-grid activation time", Ecotone, 12, true, true},
		{"unscheduled fork never activates", Fjord, 1 << 40, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.active, cfg.IsActive(tt.fork, tt.time))
			require.Equal(t, tt.activation, cfg.IsActivationBlock(tt.fork, tt.time))
		})
	}
	require.Equal(t, "ecotone", cfg.ForkAt(12))
	require.Equal(t, "canyon", cfg.ForkAt(8))
}

func TestForkParameters(t *testing.T) {
	cfg := &Config{ChannelTimeoutBedrock: 300, MaxSequencerDrift: 600, FjordTime: u64(100), GraniteTime: u64(200)}
	require.Equal(t, uint64(600), cfg.MaxSequencerDriftAt(99))
	require.Equal(t, uint64(1800), cfg.MaxSequencerDriftAt(100))
	require.Equal(t, uint64(10_000_000), cfg.MaxRLPBytesPerChannel(99))
	require.Equal(t, uint64(100_000_000), cfg.MaxRLPBytesPerChannel(100))
	require.Equal(t, uint64(100_000_000), cfg.MaxChannelBankSize(99))
	require.Equal(t, uint64(1_000_000_000), cfg.MaxChannelBankSize(100))
	require.Equal(t, uint64(300), cfg.ChannelTimeout(199))
	require.Equal(t, uint64(50), cfg.ChannelTimeout(200))
}
