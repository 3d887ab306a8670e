// Package registry_test checks faultproof's generated chain registry (rollup/registry_gen.go) against the
// registry data it comes from, kona's configs.json in the optimism module this module requires: every
// chain, every field. The rollup config is compared with op-node's registry rules applied to the data (and
// must pass op-node's own Check), the L2 chain config with op-geth's LoadOPStackChainConfig applied to it.
package registry_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/superchain"
	"github.com/stretchr/testify/require"

	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"

	"github.com/faultproof/faultproof/rollup"
)

const registryDir = "rust/kona/crates/protocol/registry/etc"

// optimismModule returns the directory and version of the optimism module this module builds against.
func optimismModule(t *testing.T) (dir, version string) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/ethereum-optimism/optimism").Output()
	require.NoError(t, err, "go list -m github.com/ethereum-optimism/optimism")
	dir, version, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	return dir, version
}

// obj is a JSON object of the registry files.
type obj = map[string]any

func readJSON(t *testing.T, path string, v any) {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

// sourceChain is a chain of configs.json with its superchain.
type sourceChain struct {
	superchain string
	l1ChainID  uint64
	chain      obj
}

func (c sourceChain) id() uint64 { return num(c.chain["l2_chain_id"]) }

func num(v any) uint64 {
	f, ok := v.(float64)
	if !ok {
		panic(fmt.Sprintf("not a number: %v", v))
	}
	return uint64(f)
}

func numPtr(v any) *uint64 {
	if v == nil {
		return nil
	}
	n := num(v)
	return &n
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return v.(string)
}

func field(o obj, path string) any {
	var v any = o
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(obj)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func readSource(t *testing.T) []sourceChain {
	dir, _ := optimismModule(t)
	var configs struct {
		Superchains []struct {
			Name   string `json:"name"`
			Config obj    `json:"config"`
			Chains []obj  `json:"chains"`
		} `json:"superchains"`
	}
	readJSON(t, filepath.Join(dir, registryDir, "configs.json"), &configs)
	var out []sourceChain
	for _, sc := range configs.Superchains {
		for _, c := range sc.Chains {
			out = append(out, sourceChain{superchain: sc.Name, l1ChainID: num(field(sc.Config, "l1.chain_id")), chain: c})
		}
	}
	require.NotEmpty(t, out)
	return out
}

// wantRollupConfig is the rollup config op-node's registry loader (op-node/superchain) makes of a chain,
// with the genesis system config fields kona's format adds where a chain has them.
func wantRollupConfig(c sourceChain) *rollup.Config {
	ch := c.chain
	sys := field(ch, "genesis.system_config").(obj)
	cfg := &rollup.Config{
		Genesis: rollup.Genesis{
			L1:     rollup.BlockID{Hash: common.HexToHash(str(field(ch, "genesis.l1.hash"))), Number: num(field(ch, "genesis.l1.number"))},
			L2:     rollup.BlockID{Hash: common.HexToHash(str(field(ch, "genesis.l2.hash"))), Number: num(field(ch, "genesis.l2.number"))},
			L2Time: num(field(ch, "genesis.l2_time")),
			SystemConfig: rollup.SystemConfig{
				BatcherAddr: common.HexToAddress(str(sys["batcherAddr"])),
				Overhead:    common.HexToHash(str(sys["overhead"])),
				Scalar:      common.HexToHash(str(sys["scalar"])),
				GasLimit:    num(sys["gasLimit"]),
			},
		},
		BlockTime:              num(ch["block_time"]),
		MaxSequencerDrift:      num(ch["max_sequencer_drift"]),
		SeqWindowSize:          num(ch["seq_window_size"]),
		ChannelTimeoutBedrock:  300,
		L1ChainID:              new(big.Int).SetUint64(c.l1ChainID),
		L2ChainID:              new(big.Int).SetUint64(c.id()),
		RegolithTime:           new(uint64),
		CanyonTime:             numPtr(field(ch, "hardfork_configuration.canyon_time")),
		DeltaTime:              numPtr(field(ch, "hardfork_configuration.delta_time")),
		EcotoneTime:            numPtr(field(ch, "hardfork_configuration.ecotone_time")),
		FjordTime:              numPtr(field(ch, "hardfork_configuration.fjord_time")),
		GraniteTime:            numPtr(field(ch, "hardfork_configuration.granite_time")),
		HoloceneTime:           numPtr(field(ch, "hardfork_configuration.holocene_time")),
		IsthmusTime:            numPtr(field(ch, "hardfork_configuration.isthmus_time")),
		JovianTime:             numPtr(field(ch, "hardfork_configuration.jovian_time")),
		KarstTime:              numPtr(field(ch, "hardfork_configuration.karst_time")),
		KeepKarstUpgradeGas:    field(ch, "hardfork_configuration.keep_karst_upgrade_gas") == true,
		LagoonTime:             numPtr(field(ch, "hardfork_configuration.lagoon_time")),
		PectraBlobScheduleTime: numPtr(field(ch, "hardfork_configuration.pectra_blob_schedule_time")),
		BatchInboxAddress:      common.HexToAddress(str(ch["batch_inbox_address"])),
		DepositContractAddress: common.HexToAddress(str(field(ch, "Addresses.OptimismPortalProxy"))),
		L1SystemConfigAddress:  common.HexToAddress(str(field(ch, "Addresses.SystemConfigProxy"))),
		ChainOpConfig: &params.OptimismConfig{
			EIP1559Elasticity:        num(field(ch, "optimism.eip1559Elasticity")),
			EIP1559Denominator:       num(field(ch, "optimism.eip1559Denominator")),
			EIP1559DenominatorCanyon: numPtr(field(ch, "optimism.eip1559DenominatorCanyon")),
		},
	}
	if d, e := sys["eip1559Denominator"], sys["eip1559Elasticity"]; d != nil && e != nil {
		binary.BigEndian.PutUint32(cfg.Genesis.SystemConfig.EIP1559Params[:4], uint32(num(d)))
		binary.BigEndian.PutUint32(cfg.Genesis.SystemConfig.EIP1559Params[4:], uint32(num(e)))
	}
	if s := sys["operatorFeeScalar"]; s != nil {
		binary.BigEndian.PutUint32(cfg.Genesis.SystemConfig.OperatorFeeParams[20:24], uint32(num(s)))
	}
	if c := sys["operatorFeeConstant"]; c != nil {
		binary.BigEndian.PutUint64(cfg.Genesis.SystemConfig.OperatorFeeParams[24:], num(c))
	}
	if v := sys["minBaseFee"]; v != nil {
		cfg.Genesis.SystemConfig.MinBaseFee = num(v)
	}
	if v := sys["daFootprintGasScalar"]; v != nil {
		cfg.Genesis.SystemConfig.DAFootprintGasScalar = uint16(num(v))
	}
	if da, ok := ch["alt_da"].(obj); ok {
		cfg.AltDAConfig = &rollup.AltDAConfig{
			DAChallengeAddress: common.HexToAddress(str(da["da_challenge_address"])),
			CommitmentType:     str(da["da_commitment_type"]),
			MaxInputSize:       numPtr(da["da_max_input_size"]),
		}
		if v := numPtr(da["da_challenge_window"]); v != nil {
			cfg.AltDAConfig.DAChallengeWindow = *v
		}
		if v := numPtr(da["da_resolve_window"]); v != nil {
			cfg.AltDAConfig.DAResolveWindow = *v
		}
	}
	return cfg
}

// opGethChainConfig is the chain as op-geth's registry types hold it: what LoadOPStackChainConfig reads.
func opGethChainConfig(c sourceChain) *superchain.ChainConfig {
	ch := c.chain
	hf := func(name string) *uint64 { return numPtr(field(ch, "hardfork_configuration."+name)) }
	return &superchain.ChainConfig{
		ChainID: c.id(),
		Hardforks: superchain.HardforkConfig{
			CanyonTime: hf("canyon_time"), DeltaTime: hf("delta_time"), EcotoneTime: hf("ecotone_time"),
			FjordTime: hf("fjord_time"), GraniteTime: hf("granite_time"), HoloceneTime: hf("holocene_time"),
			IsthmusTime: hf("isthmus_time"), JovianTime: hf("jovian_time"), KarstTime: hf("karst_time"),
			LagoonTime: hf("lagoon_time"), PectraBlobScheduleTime: hf("pectra_blob_schedule_time"),
		},
		Optimism: &superchain.OptimismConfig{
			EIP1559Elasticity:        num(field(ch, "optimism.eip1559Elasticity")),
			EIP1559Denominator:       num(field(ch, "optimism.eip1559Denominator")),
			EIP1559DenominatorCanyon: numPtr(field(ch, "optimism.eip1559DenominatorCanyon")),
		},
	}
}

var bigIntType = reflect.TypeOf((*big.Int)(nil))

// diff lists the fields (by path) where got differs from want.
func diff(path string, want, got reflect.Value, out *[]string) {
	if want.Type() == bigIntType {
		w, g := want.Interface().(*big.Int), got.Interface().(*big.Int)
		if (w == nil) != (g == nil) || (w != nil && w.Cmp(g) != 0) {
			*out = append(*out, fmt.Sprintf("%s: registry %v, ours %v", path, w, g))
		}
		return
	}
	switch want.Kind() {
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: registry %v, ours %v", path, show(want), show(got)))
			}
			return
		}
		diff(path, want.Elem(), got.Elem(), out)
	case reflect.Struct:
		for i := 0; i < want.NumField(); i++ {
			if f := want.Type().Field(i); f.IsExported() {
				diff(path+"."+f.Name, want.Field(i), got.Field(i), out)
			}
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: registry %v, ours %v", path, show(want), show(got)))
		}
	}
}

func show(v reflect.Value) any {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return v.Elem().Interface()
	}
	return v.Interface()
}

func requireSame[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	var diffs []string
	diff(what, reflect.ValueOf(want), reflect.ValueOf(got), &diffs)
	for _, d := range diffs {
		require.FailNow(t, d)
	}
}

// coveredFields are the chain fields of configs.json that the registry carries (compared below); the
// rest of a chain's fields must be in ignoredFields, so that a field a newer registry adds fails here.
var coveredFields = []string{
	"Name", "l2_chain_id", "batch_inbox_address", "block_time", "seq_window_size", "max_sequencer_drift",
	"GasPayingToken", "DataAvailabilityType", "hardfork_configuration.", "optimism.", "alt_da",
	"genesis.", "Addresses.OptimismPortalProxy", "Addresses.SystemConfigProxy", "interop",
}

// ignoredFields do not reach derivation or execution: endpoints, governance, roles, and contract addresses
// other than the portal and the system config.
var ignoredFields = []string{"PublicRPC", "SequencerRPC", "Explorer", "GovernedByOptimism", "SuperchainTime", "Roles.", "Addresses."}

func flatten(prefix string, o obj, out map[string]bool) {
	for k, v := range o {
		if m, ok := v.(obj); ok && len(m) > 0 {
			flatten(prefix+k+".", m, out)
		} else {
			out[prefix+k] = true
		}
	}
}

// hasPrefixIn reports whether field s is one of list or inside one of its objects.
func hasPrefixIn(s string, list []string) bool {
	for _, p := range list {
		base := strings.TrimSuffix(p, ".")
		if s == base || strings.HasPrefix(s, base+".") {
			return true
		}
	}
	return false
}

// TestRegistryMatchesSource compares every chain of the module's configs.json with the generated registry.
func TestRegistryMatchesSource(t *testing.T) {
	_, version := optimismModule(t)
	require.Contains(t, rollup.RegistryVersion, "optimism "+version+" ", "the registry is generated from the optimism module this module requires; regenerate it (go generate ./rollup) or raise the module")
	dir, _ := optimismModule(t)
	var chainList []struct {
		ChainID    uint64 `json:"chainId"`
		Identifier string `json:"identifier"`
	}
	readJSON(t, filepath.Join(dir, registryDir, "chainList.json"), &chainList)
	names := map[uint64]string{}
	for _, e := range chainList {
		sc, short, _ := strings.Cut(e.Identifier, "/")
		names[e.ChainID] = short + "-" + sc
	}

	source := readSource(t)
	ours := map[uint64]rollup.Network{}
	for _, n := range rollup.Networks() {
		ours[n.ChainID] = n
	}
	require.Len(t, ours, len(source), "the registry has as many chains as the source")

	for _, c := range source {
		t.Run(fmt.Sprintf("%d %s", c.id(), str(c.chain["Name"])), func(t *testing.T) {
			fields := map[string]bool{}
			flatten("", c.chain, fields)
			for f := range fields {
				require.False(t, !hasPrefixIn(f, coveredFields) && !hasPrefixIn(f, ignoredFields), "chain field %s is neither compared nor known to be irrelevant", f)
			}

			n, cfg, l2, err := rollup.RegistryChain(c.id())
			require.NoError(t, err)
			require.Equal(t, names[c.id()], n.Name, "name")
			require.Equal(t, c.superchain, n.Superchain)
			require.Equal(t, c.l1ChainID, n.L1ChainID)
			require.Equal(t, str(c.chain["Name"]), n.DisplayName)
			if tok := str(c.chain["GasPayingToken"]); tok != "" {
				require.Equal(t, common.HexToAddress(tok).Hex(), n.GasPayingToken)
			} else {
				require.Empty(t, n.GasPayingToken)
			}
			altDA := c.chain["DataAvailabilityType"] == "alt-da" || c.chain["alt_da"] != nil
			require.Equal(t, altDA, strings.Contains(n.Unsupported, "alt-DA"), "alt-DA chains are unsupported: %q", n.Unsupported)
			// A chain whose declared dependency set has another chain is unsupported; a set of itself
			// alone (sepolia-devnet-2) is every chain's.
			interop := false
			if m, ok := c.chain["interop"].(map[string]any); ok {
				deps, _ := m["dependencies"].(map[string]any)
				for id := range deps {
					interop = interop || id != fmt.Sprint(c.id())
				}
			}
			require.Equal(t, interop, strings.Contains(n.Unsupported, "interop"), "chains sharing a dependency set are unsupported: %q", n.Unsupported)

			requireSame(t, "rollup", wantRollupConfig(c), cfg)
			wantL2, err := params.LoadOPStackChainConfig(opGethChainConfig(c))
			require.NoError(t, err)
			requireSame(t, "l2", wantL2, l2)

			// op-node reads our rollup config as its own and accepts it (alt-DA aside, which it checks
			// against its own alt-DA rules).
			data, err := json.Marshal(cfg)
			require.NoError(t, err)
			var op oprollup.Config
			require.NoError(t, json.Unmarshal(data, &op))
			require.Equal(t, cfg.KeepKarstUpgradeGas, op.KeepKarstUpgradeGas)
			require.Equal(t, cfg.KarstTime, op.KarstTime)
			if cfg.AltDAConfig == nil {
				require.NoError(t, op.Check(), "op-node's check of our config")
				require.NoError(t, cfg.Check(), "our check")
			}
		})
	}
}
