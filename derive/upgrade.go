package derive

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/rollup"
)

// Network upgrade automation transactions (specs/protocol/derivation.md "Network upgrade automation
// transactions" and the derivation page of each fork): deposits that the derivation inserts, after the user
// deposits, into the activation block of a fork, to deploy and switch to upgraded predeploys. Ecotone to
// Jovian list theirs in the specs; from Karst they come from a network upgrade transaction (NUT) bundle
// (specs/protocol/l2-upgrades-1-execution.md), and the activation block gets the bundle's gas on top of the
// system config gas limit.

// Predeploys and accounts the upgrade transactions use.
var (
	upgradeGasPriceOracleAddr   = common.HexToAddress("0x420000000000000000000000000000000000000F")
	upgradeOperatorFeeVaultAddr = common.HexToAddress("0x420000000000000000000000000000000000001b")

	// UpgradeToSelector is the selector of the proxies' upgradeTo(address).
	UpgradeToSelector = [4]byte{0x36, 0x59, 0xcf, 0xe6}
)

// upgradeDeposit describes one upgrade transaction: from, to (nil for a contract creation), gas and data;
// mint and value are zero and it is not a system transaction.
type upgradeDeposit struct {
	intent string
	from   common.Address
	to     *common.Address
	gas    uint64
	data   []byte
}

func (u *upgradeDeposit) tx() *types.DepositTx {
	return &types.DepositTx{
		SourceHash: UpgradeDepositSourceHash(u.intent),
		From:       u.from,
		To:         u.to,
		Mint:       new(big.Int),
		Value:      new(big.Int),
		Gas:        u.gas,
		Data:       u.data,
	}
}

func upgradeEncode(deps []upgradeDeposit) ([][]byte, error) {
	out := make([][]byte, 0, len(deps))
	for i := range deps {
		enc, err := types.NewTx(deps[i].tx()).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("upgrade transaction %q: %w", deps[i].intent, err)
		}
		out = append(out, enc)
	}
	return out, nil
}

func upgradeAddr(hex string) *common.Address {
	a := common.HexToAddress(hex)
	return &a
}

// upgradeToCall is the calldata of upgradeTo(impl).
func upgradeToCall(impl common.Address) []byte {
	data := make([]byte, 4+32)
	copy(data, UpgradeToSelector[:])
	copy(data[4+12:], impl[:])
	return data
}

func upgradeCode(hex string) []byte { return common.FromHex(hex) }

// Implementation addresses deployed by the upgrades: the CREATE address of each deployer at nonce 0, as the
// specs state them (tests check them against the deployers).
var (
	upgradeEcotoneL1Block        = common.HexToAddress("0x07dbe8500fc591d1852B76feE44d5a05e13097Ff")
	upgradeEcotoneGasPriceOracle = common.HexToAddress("0xb528D11cC114E026F138fE568744c6D45ce6Da7A")
	upgradeFjordGasPriceOracle   = common.HexToAddress("0xa919894851548179A0750865e7974DA599C0Fac7")
	upgradeIsthmusL1Block        = common.HexToAddress("0xFf256497D61dcd71a9e9Ff43967C13fdE1F72D12")
	upgradeIsthmusGasPriceOracle = common.HexToAddress("0x93e57A196454CB919193fa9946f14943cf733845")
	upgradeIsthmusOperatorFee    = common.HexToAddress("0x4fa2be8cd41504037f1838bce3bcc93bc68ff537")
	upgradeJovianL1Block         = common.HexToAddress("0x3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C")
	upgradeJovianGasPriceOracle  = common.HexToAddress("0x4f1db3c6AbD250ba86E0928471A8F7DB3AFd88F1")
)

// EIP-4788's beacon roots contract deployment (ecotone/derivation.md) and EIP-2935's block hash history
// contract deployment (isthmus/derivation.md): sender and creation code as the EIPs define them.
const (
	upgradeEIP4788Code = "0x60618060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
	upgradeEIP2935Code = "0x60538060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
)

func ecotoneUpgradeDeposits() []upgradeDeposit {
	return []upgradeDeposit{
		{"Ecotone: L1 Block Deployment", common.HexToAddress("0x4210000000000000000000000000000000000000"), nil, 375_000, upgradeCode(upgradeEcotoneL1BlockCode)},
		{"Ecotone: Gas Price Oracle Deployment", common.HexToAddress("0x4210000000000000000000000000000000000001"), nil, 1_000_000, upgradeCode(upgradeEcotoneGasPriceOracleCode)},
		{"Ecotone: L1 Block Proxy Update", common.Address{}, upgradeAddr("0x4200000000000000000000000000000000000015"), 50_000, upgradeToCall(upgradeEcotoneL1Block)},
		{"Ecotone: Gas Price Oracle Proxy Update", common.Address{}, &upgradeGasPriceOracleAddr, 50_000, upgradeToCall(upgradeEcotoneGasPriceOracle)},
		{"Ecotone: Gas Price Oracle Set Ecotone", L1InfoDepositerAddress, &upgradeGasPriceOracleAddr, 80_000, common.FromHex("0x22b90ab3")},
		{"Ecotone: beacon block roots contract deployment", common.HexToAddress("0x0B799C86a49DEeb90402691F1041aa3AF2d3C875"), nil, 0x3d090, upgradeCode(upgradeEIP4788Code)},
	}
}

func fjordUpgradeDeposits() []upgradeDeposit {
	return []upgradeDeposit{
		{"Fjord: Gas Price Oracle Deployment", common.HexToAddress("0x4210000000000000000000000000000000000002"), nil, 1_450_000, upgradeCode(upgradeFjordGasPriceOracleCode)},
		{"Fjord: Gas Price Oracle Proxy Update", common.Address{}, &upgradeGasPriceOracleAddr, 50_000, upgradeToCall(upgradeFjordGasPriceOracle)},
		{"Fjord: Gas Price Oracle Set Fjord", L1InfoDepositerAddress, &upgradeGasPriceOracleAddr, 90_000, common.FromHex("0x8e98b106")},
	}
}

func isthmusUpgradeDeposits() []upgradeDeposit {
	return []upgradeDeposit{
		{"Isthmus: L1 Block Deployment", common.HexToAddress("0x4210000000000000000000000000000000000003"), nil, 425_000, upgradeCode(upgradeIsthmusL1BlockCode)},
		{"Isthmus: Gas Price Oracle Deployment", common.HexToAddress("0x4210000000000000000000000000000000000004"), nil, 1_625_000, upgradeCode(upgradeIsthmusGasPriceOracleCode)},
		{"Isthmus: Operator Fee Vault Deployment", common.HexToAddress("0x4210000000000000000000000000000000000005"), nil, 500_000, upgradeCode(upgradeIsthmusOperatorFeeVaultCode)},
		{"Isthmus: L1 Block Proxy Update", common.Address{}, upgradeAddr("0x4200000000000000000000000000000000000015"), 50_000, upgradeToCall(upgradeIsthmusL1Block)},
		{"Isthmus: Gas Price Oracle Proxy Update", common.Address{}, &upgradeGasPriceOracleAddr, 50_000, upgradeToCall(upgradeIsthmusGasPriceOracle)},
		{"Isthmus: Operator Fee Vault Proxy Update", common.Address{}, &upgradeOperatorFeeVaultAddr, 50_000, upgradeToCall(upgradeIsthmusOperatorFee)},
		{"Isthmus: Gas Price Oracle Set Isthmus", L1InfoDepositerAddress, &upgradeGasPriceOracleAddr, 90_000, common.FromHex("0x291b0383")},
		{"Isthmus: EIP-2935 Contract Deployment", common.HexToAddress("0x3462413Af4609098e1E27A490f554f260213D685"), nil, 250_000, upgradeCode(upgradeEIP2935Code)},
	}
}

// jovianUpgradeDeposits: the intents are op-node's ("L1 Block", "Gas Price Oracle"), which chains have
// activated with; jovian/derivation.md spells some of them differently ("L1Block", "GasPriceOracle") and
// lists source hashes that op-node does not produce.
func jovianUpgradeDeposits() []upgradeDeposit {
	return []upgradeDeposit{
		{"Jovian: L1 Block Deployment", common.HexToAddress("0x4210000000000000000000000000000000000006"), nil, 447_315, upgradeCode(upgradeJovianL1BlockCode)},
		{"Jovian: L1 Block Proxy Update", common.Address{}, upgradeAddr("0x4200000000000000000000000000000000000015"), 50_000, upgradeToCall(upgradeJovianL1Block)},
		{"Jovian: Gas Price Oracle Deployment", common.HexToAddress("0x4210000000000000000000000000000000000007"), nil, 1_750_714, upgradeCode(upgradeJovianGasPriceOracleCode)},
		{"Jovian: Gas Price Oracle Proxy Update", common.Address{}, &upgradeGasPriceOracleAddr, 50_000, upgradeToCall(upgradeJovianGasPriceOracle)},
		{"Jovian: Gas Price Oracle Set Jovian", L1InfoDepositerAddress, &upgradeGasPriceOracleAddr, 90_000, common.FromHex("0xb3d72079")},
	}
}

// EcotoneUpgradeTransactions are the encoded upgrade transactions of the Ecotone activation block.
func EcotoneUpgradeTransactions() ([][]byte, error) { return upgradeEncode(ecotoneUpgradeDeposits()) }

// FjordUpgradeTransactions are the encoded upgrade transactions of the Fjord activation block.
func FjordUpgradeTransactions() ([][]byte, error) { return upgradeEncode(fjordUpgradeDeposits()) }

// IsthmusUpgradeTransactions are the encoded upgrade transactions of the Isthmus activation block.
func IsthmusUpgradeTransactions() ([][]byte, error) { return upgradeEncode(isthmusUpgradeDeposits()) }

// JovianUpgradeTransactions are the encoded upgrade transactions of the Jovian activation block.
func JovianUpgradeTransactions() ([][]byte, error) { return upgradeEncode(jovianUpgradeDeposits()) }

// The Karst NUT bundle, byte for byte op-node v1.19.6's op-core/nuts/bundles/karst_nut_bundle.json.
//
//go:embed upgrade_karst_nut_bundle.json
var upgradeKarstBundleJSON []byte

// upgradeNUTBundleVersion is the only NUT bundle format version.
const upgradeNUTBundleVersion = "1.0.0"

type upgradeNUTBundle struct {
	Metadata struct {
		Version string `json:"version"`
	} `json:"metadata"`
	Transactions []struct {
		Intent   string          `json:"intent"`
		From     common.Address  `json:"from"`
		To       *common.Address `json:"to"`
		Data     hexutil.Bytes   `json:"data"`
		GasLimit uint64          `json:"gasLimit"`
	} `json:"transactions"`
}

// upgradeBundleDeposits reads a NUT bundle. Each transaction's intent is qualified with the capitalized
// bundle label and its position ("Karst 3: <intent>") before it is hashed into the source hash, as op-node
// and kona do (the specs do not define NUT source hashes yet). It also returns the bundle's total gas.
func upgradeBundleDeposits(label string, bundleJSON []byte) ([]upgradeDeposit, uint64, error) {
	var b upgradeNUTBundle
	if err := json.NewDecoder(bytes.NewReader(bundleJSON)).Decode(&b); err != nil {
		return nil, 0, fmt.Errorf("%s NUT bundle: %w", label, err)
	}
	if b.Metadata.Version != upgradeNUTBundleVersion {
		return nil, 0, fmt.Errorf("%s NUT bundle: version %q, want %q", label, b.Metadata.Version, upgradeNUTBundleVersion)
	}
	prefix := strings.ToUpper(label[:1]) + label[1:]
	deps := make([]upgradeDeposit, 0, len(b.Transactions))
	var gas uint64
	for i, t := range b.Transactions {
		if t.Intent == "" {
			return nil, 0, fmt.Errorf("%s NUT bundle: transaction %d has no intent", label, i)
		}
		if gas+t.GasLimit < gas {
			return nil, 0, fmt.Errorf("%s NUT bundle: total gas overflows", label)
		}
		gas += t.GasLimit
		deps = append(deps, upgradeDeposit{
			intent: fmt.Sprintf("%s %d: %s", prefix, i, t.Intent),
			from:   t.From,
			to:     t.To,
			gas:    t.GasLimit,
			data:   t.Data,
		})
	}
	return deps, gas, nil
}

// KarstUpgradeTransactions are the encoded upgrade transactions of the Karst activation block, from the
// Karst NUT bundle, and the gas the activation block adds to its gas limit for them (the bundle's total).
func KarstUpgradeTransactions() ([][]byte, uint64, error) {
	deps, gas, err := upgradeBundleDeposits(string(rollup.Karst), upgradeKarstBundleJSON)
	if err != nil {
		return nil, 0, err
	}
	txs, err := upgradeEncode(deps)
	if err != nil {
		return nil, 0, err
	}
	return txs, gas, nil
}

// The Lagoon NUT bundle, byte for byte op-node v1.19.6's op-core/nuts/bundles/lagoon_nut_bundle.json.
//
//go:embed upgrade_lagoon_nut_bundle.json
var upgradeLagoonBundleJSON []byte

// upgradeLagoonLabel qualifies the Lagoon bundle's intents: op-node and kona keep the feature's earlier
// name, "interop", so that the source hashes did not change when the fork was renamed.
const upgradeLagoonLabel = "interop"

// The deposits that wrap the Lagoon bundle when the dependency set has more than one chain (op-node's
// LagoonActivationUpgradeTransactions): before it, L1Block.setFeature("INTEROP"), which the bundle's
// L2ContractsManager reads to upgrade the interop predeploys; after it, the funding of ETHLiquidity with
// the largest amount a deposit can mint (2^128 - 1).
var (
	upgradeL1BlockAddr      = common.HexToAddress("0x4200000000000000000000000000000000000015")
	upgradeETHLiquidityAddr = common.HexToAddress("0x4200000000000000000000000000000000000025")
	// upgradeSetFeatureSelector is setFeature(bytes32); upgradeFundSelector is fund() (tests check both).
	upgradeSetFeatureSelector = []byte{0x46, 0xa4, 0xd7, 0x80}
	upgradeFundSelector       = []byte{0xb6, 0x0d, 0x42, 0x88}
)

func lagoonWrapperDeposits() (pre, post *types.DepositTx) {
	feature := make([]byte, 32)
	copy(feature, "INTEROP")
	maxMint := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	pre = &types.DepositTx{
		SourceHash: UpgradeDepositSourceHash("Interop pre: setFeature(INTEROP)"),
		From:       L1InfoDepositerAddress, To: &upgradeL1BlockAddr,
		Mint: new(big.Int), Value: new(big.Int), Gas: 100_000,
		Data: append(append([]byte{}, upgradeSetFeatureSelector...), feature...),
	}
	post = &types.DepositTx{
		SourceHash: UpgradeDepositSourceHash("Interop post: ETHLiquidity Funding"),
		From:       L1InfoDepositerAddress, To: &upgradeETHLiquidityAddr,
		Mint: maxMint, Value: new(big.Int).Set(maxMint), Gas: 50_000,
		Data: append([]byte{}, upgradeFundSelector...),
	}
	return pre, post
}

// LagoonUpgradeTransactions are the encoded upgrade transactions of the Lagoon activation block: the
// Lagoon NUT bundle, and with interopContracts (a dependency set of more than one chain) the setFeature
// deposit before it and the ETHLiquidity funding after it. The gas it returns, which the activation block
// adds to its gas limit, covers the wrappers either way, as op-node's does: the block after it reads the
// system config back without knowing the dependency set.
func LagoonUpgradeTransactions(interopContracts bool) ([][]byte, uint64, error) {
	deps, gas, err := upgradeBundleDeposits(upgradeLagoonLabel, upgradeLagoonBundleJSON)
	if err != nil {
		return nil, 0, err
	}
	txs, err := upgradeEncode(deps)
	if err != nil {
		return nil, 0, err
	}
	pre, post := lagoonWrapperDeposits()
	gas += pre.Gas + post.Gas
	if !interopContracts {
		return txs, gas, nil
	}
	preTx, err := types.NewTx(pre).MarshalBinary()
	if err != nil {
		return nil, 0, fmt.Errorf("lagoon setFeature deposit: %w", err)
	}
	postTx, err := types.NewTx(post).MarshalBinary()
	if err != nil {
		return nil, 0, fmt.Errorf("lagoon ETHLiquidity funding deposit: %w", err)
	}
	out := make([][]byte, 0, len(txs)+2)
	out = append(append(append(out, preTx), txs...), postTx)
	return out, gas, nil
}

// ErrNoDependencySet is returned for the Lagoon activation block when the size of the chain's interop
// dependency set is not known: its upgrade transactions depend on it.
var ErrNoDependencySet = errors.New("the lagoon activation block needs the size of the chain's dependency set")

// UpgradeTransactions returns the network upgrade transactions of the L2 block at l2Timestamp, encoded, in
// block order: those of each fork whose activation block it is, oldest fork first (normally at most one).
// It is empty for other blocks. depSetSize is the number of chains in the chain's interop dependency set,
// read only at the Lagoon activation block (0: not known, an error there).
func UpgradeTransactions(cfg *rollup.Config, l2Timestamp uint64, depSetSize int) ([][]byte, error) {
	txs, _, err := upgradeTransactionsAndGas(cfg, l2Timestamp, depSetSize)
	return txs, err
}

// UpgradeGas is the gas the L2 block at l2Timestamp gets on top of the system config gas limit for its
// upgrade transactions: the NUT bundle gas at the activation of Karst, and at that of Lagoon the bundle's
// and its wrappers' gas; zero otherwise.
func UpgradeGas(cfg *rollup.Config, l2Timestamp uint64) (uint64, error) {
	var gas uint64
	if cfg.IsActivationBlock(rollup.Karst, l2Timestamp) {
		_, g, err := KarstUpgradeTransactions()
		if err != nil {
			return 0, fmt.Errorf("karst upgrade transactions: %w", err)
		}
		gas += g
	}
	if cfg.IsActivationBlock(rollup.Lagoon, l2Timestamp) {
		_, g, err := LagoonUpgradeTransactions(false)
		if err != nil {
			return 0, fmt.Errorf("lagoon upgrade transactions: %w", err)
		}
		gas += g
	}
	return gas, nil
}

// upgradeGasToStrip is the upgrade gas that the system config read back from the block at t subtracts
// from its gas limit, as op-node's does: that of the first fork from Karst on whose activation block it is
// (none for Karst on a KeepKarstUpgradeGas chain). Were Karst and Lagoon to activate in one block, only
// Karst's would be subtracted, which is also op-node's behaviour.
func upgradeGasToStrip(cfg *rollup.Config, t uint64) (uint64, error) {
	switch {
	case cfg.IsActivationBlock(rollup.Karst, t):
		if cfg.KeepKarstUpgradeGas {
			return 0, nil
		}
		_, gas, err := KarstUpgradeTransactions()
		return gas, err
	case cfg.IsActivationBlock(rollup.Lagoon, t):
		_, gas, err := LagoonUpgradeTransactions(false)
		return gas, err
	}
	return 0, nil
}

func upgradeTransactionsAndGas(cfg *rollup.Config, t uint64, depSetSize int) ([][]byte, uint64, error) {
	var out [][]byte
	var gas uint64
	for _, f := range []struct {
		fork rollup.Fork
		txs  func() ([][]byte, error)
	}{
		{rollup.Ecotone, EcotoneUpgradeTransactions},
		{rollup.Fjord, FjordUpgradeTransactions},
		{rollup.Isthmus, IsthmusUpgradeTransactions},
		{rollup.Jovian, JovianUpgradeTransactions},
	} {
		if !cfg.IsActivationBlock(f.fork, t) {
			continue
		}
		txs, err := f.txs()
		if err != nil {
			return nil, 0, fmt.Errorf("%s upgrade transactions: %w", f.fork, err)
		}
		out = append(out, txs...)
	}
	if cfg.IsActivationBlock(rollup.Karst, t) {
		txs, g, err := KarstUpgradeTransactions()
		if err != nil {
			return nil, 0, fmt.Errorf("karst upgrade transactions: %w", err)
		}
		out = append(out, txs...)
		gas += g
	}
	if cfg.IsActivationBlock(rollup.Lagoon, t) {
		if depSetSize <= 0 {
			return nil, 0, fmt.Errorf("%w (block at %d)", ErrNoDependencySet, t)
		}
		txs, g, err := LagoonUpgradeTransactions(depSetSize > 1)
		if err != nil {
			return nil, 0, fmt.Errorf("lagoon upgrade transactions: %w", err)
		}
		out = append(out, txs...)
		gas += g
	}
	return out, gas, nil
}
