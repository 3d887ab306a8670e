package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"go/format"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// network is one chain of the generated registry.
type network struct {
	name, superchain, displayName, faultProofs string
	chainID, l1ChainID                         uint64
	gasPayingToken                             *common.Address
	unsupported                                []string
	chain                                      *chain
}

// buildNetworks checks the registry and turns it into the generated registry's chains, sorted by name. It
// warns of hand-made exceptions for chains the registry no longer has.
func buildNetworks(src *source) ([]network, []string, error) {
	interop := src.interopChains()
	seenID, seenName := map[uint64]bool{}, map[string]bool{}
	var out []network
	for si := range src.configs.Superchains {
		sc := &src.configs.Superchains[si]
		if sc.Config.L1.ChainID == 0 {
			return nil, nil, fmt.Errorf("superchain %q has no L1 chain ID", sc.Name)
		}
		for ci := range sc.Chains {
			c := &sc.Chains[ci]
			n, err := buildNetwork(src, sc, c)
			if err != nil {
				return nil, nil, fmt.Errorf("chain %d (%s): %w", c.ChainID, c.Name, err)
			}
			if seenID[n.chainID] || seenName[n.name] {
				return nil, nil, fmt.Errorf("chain %d (%s) appears twice", n.chainID, n.name)
			}
			seenID[n.chainID], seenName[n.name] = true, true
			if interop[n.chainID] {
				n.unsupported = append(n.unsupported, reasonInterop)
			}
			if ex, ok := exceptions[n.chainID]; ok && (ex.applies == nil || ex.applies(c)) && !contains(n.unsupported, ex.reason) {
				n.unsupported = append(n.unsupported, ex.reason)
			}
			out = append(out, n)
		}
	}
	for _, id := range sortedIDs(src.chainList) {
		if !seenID[id] {
			return nil, nil, fmt.Errorf("%s lists chain %d, which %s lacks", chainListFile, id, configsFile)
		}
	}
	var warnings []string
	for _, id := range sortedIDs(exceptions) {
		if !seenID[id] {
			warnings = append(warnings, fmt.Sprintf("the exception for chain %d is unused: the registry does not have that chain", id))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, warnings, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func buildNetwork(src *source, sc *superchain, c *chain) (network, error) {
	entry, ok := src.chainList[c.ChainID]
	if !ok {
		return network{}, fmt.Errorf("not in %s", chainListFile)
	}
	name, err := networkName(entry.Identifier)
	if err != nil {
		return network{}, err
	}
	if !strings.HasSuffix(name, "-"+sc.Name) {
		return network{}, fmt.Errorf("identifier %q does not name superchain %q", entry.Identifier, sc.Name)
	}
	n := network{
		name:           name,
		superchain:     sc.Name,
		displayName:    c.Name,
		faultProofs:    entry.FaultProofs.Status,
		chainID:        c.ChainID,
		l1ChainID:      sc.Config.L1.ChainID,
		gasPayingToken: c.GasPayingToken,
		chain:          c,
	}
	switch {
	case c.ChainID == 0 || c.ChainID == n.l1ChainID:
		return n, fmt.Errorf("bad chain ID")
	case c.Optimism == nil:
		return n, fmt.Errorf("no EIP-1559 parameters (optimism)")
	case c.Addresses["OptimismPortalProxy"] == nil || c.Addresses["SystemConfigProxy"] == nil:
		return n, fmt.Errorf("no OptimismPortalProxy or SystemConfigProxy address")
	case c.Hardforks.RegolithTime != nil && *c.Hardforks.RegolithTime != 0:
		// op-node activates Regolith at genesis for every registry chain.
		return n, fmt.Errorf("regolith_time %d: registry chains have Regolith at genesis", *c.Hardforks.RegolithTime)
	}
	switch c.DataAvailabilityType {
	case "eth-da":
		if c.AltDA != nil {
			return n, fmt.Errorf("eth-da chain with an alt_da config")
		}
	case "alt-da":
		n.unsupported = append(n.unsupported, reasonAltDA)
	default:
		return n, fmt.Errorf("unknown data availability type %q", c.DataAvailabilityType)
	}
	if _, err := systemConfigExtras(c); err != nil {
		return n, err
	}
	return n, nil
}

// systemConfigExtras are the genesis system config fields that the registry gives apart from the four
// op-node reads, as Go field assignments of rollup.SystemConfig.
func systemConfigExtras(c *chain) ([]string, error) {
	sys := &c.Genesis.SystemConfig
	var out []string
	if (sys.EIP1559Denominator == nil) != (sys.EIP1559Elasticity == nil) {
		return nil, fmt.Errorf("genesis system config has only one of eip1559Denominator and eip1559Elasticity")
	}
	if sys.EIP1559Denominator != nil {
		var p [8]byte
		binary.BigEndian.PutUint32(p[:4], *sys.EIP1559Denominator)
		binary.BigEndian.PutUint32(p[4:], *sys.EIP1559Elasticity)
		out = append(out, fmt.Sprintf("EIP1559Params: %s,", bytes8Literal(p)))
	}
	if sys.OperatorFeeScalar != nil || sys.OperatorFeeConstant != nil {
		var p common.Hash
		if sys.OperatorFeeScalar != nil {
			binary.BigEndian.PutUint32(p[20:24], *sys.OperatorFeeScalar)
		}
		if sys.OperatorFeeConstant != nil {
			binary.BigEndian.PutUint64(p[24:32], *sys.OperatorFeeConstant)
		}
		out = append(out, fmt.Sprintf("OperatorFeeParams: %s,", hashLiteral(p)))
	}
	if sys.MinBaseFee != nil {
		out = append(out, fmt.Sprintf("MinBaseFee: %d,", *sys.MinBaseFee))
	}
	if sys.DAFootprintGasScalar != nil {
		out = append(out, fmt.Sprintf("DAFootprintGasScalar: %d,", *sys.DAFootprintGasScalar))
	}
	// The Ecotone fee scalars are the scalar's own parts; they must agree with it (op-node reads only it).
	if sys.BaseFeeScalar != nil || sys.BlobBaseFeeScalar != nil {
		s := sys.Scalar
		if sys.BaseFeeScalar == nil || sys.BlobBaseFeeScalar == nil || s[0] != 1 ||
			binary.BigEndian.Uint32(s[24:28]) != *sys.BlobBaseFeeScalar || binary.BigEndian.Uint32(s[28:32]) != *sys.BaseFeeScalar {
			return nil, fmt.Errorf("genesis baseFeeScalar/blobBaseFeeScalar disagree with the scalar %s", s)
		}
	}
	return out, nil
}

// generate writes the Go source of the registry.
func generate(nets []network, version string) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("// Code generated by rollup/internal/registrygen (go generate ./rollup); DO NOT EDIT.")
	p("")
	p("package rollup")
	p("")
	p("import (")
	p("\t\"math/big\"")
	p("")
	p("\t\"github.com/ethereum/go-ethereum/common\"")
	p("\t\"github.com/ethereum/go-ethereum/params\"")
	p(")")
	p("")
	p("// RegistryVersion names the chain registry data this build embeds. The program's prestate hash")
	p("// changes with it.")
	p("const RegistryVersion = %q", version)
	p("")
	p("// registryNetworks is the index of the registry's chains, sorted by name. It holds constants only, so")
	p("// the program spends no steps on it at start-up.")
	p("var registryNetworks = [...]Network{")
	for _, n := range nets {
		fields := []string{
			fmt.Sprintf("Name: %q", n.name),
			fmt.Sprintf("ChainID: %d", n.chainID),
			fmt.Sprintf("L1ChainID: %d", n.l1ChainID),
			fmt.Sprintf("Superchain: %q", n.superchain),
			fmt.Sprintf("DisplayName: %q", n.displayName),
			fmt.Sprintf("FaultProofs: %q", n.faultProofs),
		}
		if n.gasPayingToken != nil {
			fields = append(fields, fmt.Sprintf("GasPayingToken: %q", n.gasPayingToken.Hex()))
		}
		if len(n.unsupported) > 0 {
			fields = append(fields, fmt.Sprintf("Unsupported: %q", strings.Join(n.unsupported, "; ")))
		}
		p("\t{%s},", strings.Join(fields, ", "))
	}
	p("}")
	p("")
	p("// registryConfig builds the rollup config of the registry chain chainID, as op-node loads it from the")
	p("// registry; ok is false for a chain ID the registry does not have. Only the chain asked for is built.")
	p("func registryConfig(chainID uint64) (cfg *Config, ok bool) {")
	p("\tswitch chainID {")
	byID := append([]network(nil), nets...)
	sort.Slice(byID, func(i, j int) bool { return byID[i].chainID < byID[j].chainID })
	for _, n := range byID {
		lit, err := configLiteral(&n)
		if err != nil {
			return nil, fmt.Errorf("chain %d: %w", n.chainID, err)
		}
		p("\tcase %d: // %s", n.chainID, n.displayName)
		p("\t\treturn %s, true", lit)
	}
	p("\t}")
	p("\treturn nil, false")
	p("}")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt the generated source: %w", err)
	}
	return out, nil
}

// configLiteral is the rollup.Config of a chain as a Go expression, with op-node's registry rules: Regolith
// at genesis, the Bedrock channel timeout of 300 L1 blocks, the portal as deposit contract, the L1 chain
// ID from the superchain.
func configLiteral(n *network) (string, error) {
	c := n.chain
	extras, err := systemConfigExtras(c)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	g := &c.Genesis
	w("&Config{")
	w("Genesis: Genesis{")
	w("L1: BlockID{Hash: %s, Number: %d},", hashLiteral(g.L1.Hash), g.L1.Number)
	w("L2: BlockID{Hash: %s, Number: %d},", hashLiteral(g.L2.Hash), g.L2.Number)
	w("L2Time: %d,", g.L2Time)
	w("SystemConfig: SystemConfig{")
	w("BatcherAddr: %s,", addressLiteral(g.SystemConfig.BatcherAddr))
	w("Overhead: %s,", hashLiteral(g.SystemConfig.Overhead))
	w("Scalar: %s,", hashLiteral(g.SystemConfig.Scalar))
	w("GasLimit: %d,", g.SystemConfig.GasLimit)
	for _, e := range extras {
		w("%s", e)
	}
	w("},")
	w("},")
	w("BlockTime: %d,", c.BlockTime)
	w("MaxSequencerDrift: %d,", c.MaxSequencerDrift)
	w("SeqWindowSize: %d,", c.SeqWindowSize)
	w("ChannelTimeoutBedrock: channelTimeoutBedrock,")
	w("L1ChainID: big.NewInt(%d),", n.l1ChainID)
	w("L2ChainID: big.NewInt(%d),", c.ChainID)
	w("RegolithTime: u64(0),")
	h := &c.Hardforks
	for _, f := range []struct {
		field string
		at    *uint64
	}{
		{"CanyonTime", h.CanyonTime}, {"DeltaTime", h.DeltaTime}, {"EcotoneTime", h.EcotoneTime},
		{"FjordTime", h.FjordTime}, {"GraniteTime", h.GraniteTime}, {"HoloceneTime", h.HoloceneTime},
		{"IsthmusTime", h.IsthmusTime}, {"JovianTime", h.JovianTime}, {"KarstTime", h.KarstTime},
		{"LagoonTime", h.LagoonTime}, {"PectraBlobScheduleTime", h.PectraBlobScheduleTime},
	} {
		if f.at != nil {
			w("%s: u64(%d),", f.field, *f.at)
		}
	}
	if h.KeepKarstUpgradeGas {
		w("KeepKarstUpgradeGas: true,")
	}
	w("BatchInboxAddress: %s,", addressLiteral(c.BatchInboxAddress))
	w("DepositContractAddress: %s,", addressLiteral(*c.Addresses["OptimismPortalProxy"]))
	w("L1SystemConfigAddress: %s,", addressLiteral(*c.Addresses["SystemConfigProxy"]))
	o := c.Optimism
	canyon := "nil"
	if o.DenominatorCanyon != nil {
		canyon = fmt.Sprintf("u64(%d)", *o.DenominatorCanyon)
	}
	w("ChainOpConfig: &params.OptimismConfig{EIP1559Elasticity: %d, EIP1559Denominator: %d, EIP1559DenominatorCanyon: %s},",
		o.Elasticity, o.Denominator, canyon)
	if da := c.AltDA; da != nil {
		w("AltDAConfig: &AltDAConfig{")
		if da.ChallengeAddress != nil {
			w("DAChallengeAddress: %s,", addressLiteral(*da.ChallengeAddress))
		}
		if da.CommitmentType != nil {
			w("CommitmentType: %q,", *da.CommitmentType)
		}
		if da.MaxInputSize != nil {
			w("MaxInputSize: u64(%d),", *da.MaxInputSize)
		}
		if da.ChallengeWindow != nil {
			w("DAChallengeWindow: %d,", *da.ChallengeWindow)
		}
		if da.ResolveWindow != nil {
			w("DAResolveWindow: %d,", *da.ResolveWindow)
		}
		w("},")
	}
	b.WriteString("}")
	return b.String(), nil
}

func hashLiteral(h common.Hash) string       { return fmt.Sprintf("common.HexToHash(%q)", h.Hex()) }
func addressLiteral(a common.Address) string { return fmt.Sprintf("common.HexToAddress(%q)", a.Hex()) }

func bytes8Literal(p [8]byte) string {
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = fmt.Sprintf("0x%02x", v)
	}
	return "Bytes8{" + strings.Join(parts, ", ") + "}"
}
