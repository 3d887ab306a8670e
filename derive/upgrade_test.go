package derive

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

// attrUpgradeSpec is an upgrade transaction as a fork's derivation page lists it.
type attrUpgradeSpec struct {
	intent     string
	sourceHash string
	from       string
	to         string // "" for a creation
	gas        uint64
	data       string // full calldata, or "" where the spec links the bytecode file
	codeHash   string // code hash the deployment must produce, where the spec gives one
	deployedTo string
}

var (
	attrGPO     = "0x420000000000000000000000000000000000000F"
	attrL1Block = "0x4200000000000000000000000000000000000015"
	attrDepos   = "0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001"
	attrZero    = "0x0000000000000000000000000000000000000000"
)

// Values copied from specs/protocol/{ecotone,fjord,isthmus}/derivation.md.
var attrEcotoneSpec = []attrUpgradeSpec{
	{"Ecotone: L1 Block Deployment", "0x877a6077205782ea15a6dc8699fa5ebcec5e0f4389f09cb8eda09488231346f8",
		"0x4210000000000000000000000000000000000000", "", 375_000, "", "0xc88a313aa75dc4fbf0b6850d9f9ae41e04243b7008cf3eadb29256d4a71c1dfd", "0x07dbe8500fc591d1852B76feE44d5a05e13097Ff"},
	{"Ecotone: Gas Price Oracle Deployment", "0xa312b4510adf943510f05fcc8f15f86995a5066bd83ce11384688ae20e6ecf42",
		"0x4210000000000000000000000000000000000001", "", 1_000_000, "", "0x8b71360ea773b4cfaf1ae6d2bd15464a4e1e2e360f786e475f63aeaed8da0ae5", "0xb528D11cC114E026F138fE568744c6D45ce6Da7A"},
	{"Ecotone: L1 Block Proxy Update", "0x18acb38c5ff1c238a7460ebc1b421fa49ec4874bdf1e0a530d234104e5e67dbc",
		attrZero, attrL1Block, 50_000, "0x3659cfe600000000000000000000000007dbe8500fc591d1852b76fee44d5a05e13097ff", "", ""},
	{"Ecotone: Gas Price Oracle Proxy Update", "0xee4f9385eceef498af0be7ec5862229f426dec41c8d42397c7257a5117d9230a",
		attrZero, attrGPO, 50_000, "0x3659cfe6000000000000000000000000b528d11cc114e026f138fe568744c6d45ce6da7a", "", ""},
	{"Ecotone: Gas Price Oracle Set Ecotone", "0x0c1cb38e99dbc9cbfab3bb80863380b0905290b37eb3d6ab18dc01c1f3e75f93",
		attrDepos, attrGPO, 80_000, "0x22b90ab3", "", ""},
	{"Ecotone: beacon block roots contract deployment", "0x69b763c48478b9dc2f65ada09b3d92133ec592ea715ec65ad6e7f3dc519dc00c",
		"0x0B799C86a49DEeb90402691F1041aa3AF2d3C875", "", 0x3d090,
		"0x60618060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500",
		"", "0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02"},
}

var attrFjordSpec = []attrUpgradeSpec{
	{"Fjord: Gas Price Oracle Deployment", "0x86122c533fdcb89b16d8713174625e44578a89751d96c098ec19ab40a51a8ea3",
		"0x4210000000000000000000000000000000000002", "", 1_450_000, "", "0xa88fa50a2745b15e6794247614b5298483070661adacb8d32d716434ed24c6b2", "0xa919894851548179A0750865e7974DA599C0Fac7"},
	{"Fjord: Gas Price Oracle Proxy Update", "0x1e6bb0c28bfab3dc9b36ffb0f721f00d6937f33577606325692db0965a7d58c6",
		attrZero, attrGPO, 50_000, "0x3659cfe6000000000000000000000000a919894851548179a0750865e7974da599c0fac7", "", ""},
	{"Fjord: Gas Price Oracle Set Fjord", "0xbac7bb0d5961cad209a345408b0280a0d4686b1b20665e1b0f9cdafd73b19b6b",
		attrDepos, attrGPO, 90_000, "0x8e98b106", "", ""},
}

var attrIsthmusSpec = []attrUpgradeSpec{
	{"Isthmus: L1 Block Deployment", "0x3b2d0821ca2411ad5cd3595804d1213d15737188ae4cbd58aa19c821a6c211bf",
		"0x4210000000000000000000000000000000000003", "", 425_000, "", "0x8e3fe7a416d3e5f3b7be74ddd4e7e58e516fa3f80b67c6d930e3cd7297da4a4b", "0xFf256497D61dcd71a9e9Ff43967C13fdE1F72D12"},
	{"Isthmus: Gas Price Oracle Deployment", "0xfc70b48424763fa3fab9844253b4f8d508f91eb1f7cb11a247c9baec0afb8035",
		"0x4210000000000000000000000000000000000004", "", 1_625_000, "", "0x4d195a9d7caf9fb6d4beaf80de252c626c853afd5868c4f4f8d19c9d301c2679", "0x93e57A196454CB919193fa9946f14943cf733845"},
	{"Isthmus: Operator Fee Vault Deployment", "0x107a570d3db75e6110817eb024f09f3172657e920634111ce9875d08a16daa96",
		"0x4210000000000000000000000000000000000005", "", 500_000, "", "0x57dc55c9c09ca456fa728f253fe7b895d3e6aae0706104935fe87c7721001971", "0x4fa2Be8cd41504037F1838BcE3bCC93bC68Ff537"},
	{"Isthmus: L1 Block Proxy Update", "0xebe8b5cb10ca47e0d8bda8f5355f2d66711a54ddeb0ef1d30e29418c9bf17a0e",
		attrZero, attrL1Block, 50_000, "0x3659cfe6000000000000000000000000ff256497d61dcd71a9e9ff43967c13fde1f72d12", "", ""},
	{"Isthmus: Gas Price Oracle Proxy Update", "0xecf2d9161d26c54eda6b7bfdd9142719b1e1199a6e5641468d1bf705bc531ab0",
		attrZero, attrGPO, 50_000, "0x3659cfe600000000000000000000000093e57a196454cb919193fa9946f14943cf733845", "", ""},
	{"Isthmus: Operator Fee Vault Proxy Update", "0xad74e1adb877ccbe176b8fa1cc559388a16e090ddbe8b512f5b37d07d887a927",
		attrZero, "0x420000000000000000000000000000000000001b", 50_000, "0x3659cfe60000000000000000000000004fa2be8cd41504037f1838bce3bcc93bc68ff537", "", ""},
	{"Isthmus: Gas Price Oracle Set Isthmus", "0x3ddf4b1302548dd92939826e970f260ba36167f4c25f18390a5e8b194b295319",
		attrDepos, attrGPO, 90_000, "0x291b0383", "", ""},
	{"Isthmus: EIP-2935 Contract Deployment", "0xbfb734dae514c5974ddf803e54c1bc43d5cdb4a48ae27e1d9b875a5a150b553a",
		"0x3462413Af4609098e1E27A490f554f260213D685", "", 250_000,
		"0x60538060095f395ff33373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500",
		"0x6e49e66782037c0555897870e29fa5e552daf4719552131a0abce779daec0a5d", "0x0000F90827F1C53a10cb7A02335B175320002935"},
}

// Jovian: jovian/derivation.md, except the intents (and so the source hashes) of the first four, which are
// op-node's; the spec's spelling is checked separately below.
var attrJovianSpec = []attrUpgradeSpec{
	{"Jovian: L1 Block Deployment", "",
		"0x4210000000000000000000000000000000000006", "", 447_315, "", "0x5f885ca815d2cf27a203123e50b8ae204fdca910b6995d90b2d7700cbb9240d1", "0x3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C"},
	{"Jovian: L1 Block Proxy Update", "",
		attrZero, attrL1Block, 50_000, "0x3659cfe60000000000000000000000003ba4007f5c922fbb33c454b41ea7a1f11e83df2c", "", ""},
	{"Jovian: Gas Price Oracle Deployment", "",
		"0x4210000000000000000000000000000000000007", "", 1_750_714, "", "0xe9fc7c96c4db0d6078e3d359d7e8c982c350a513cb2c31121adf5e1e8a446614", "0x4f1db3c6AbD250ba86E0928471A8F7DB3AFd88F1"},
	{"Jovian: Gas Price Oracle Proxy Update", "",
		attrZero, attrGPO, 50_000, "0x3659cfe60000000000000000000000004f1db3c6abd250ba86e0928471a8f7db3afd88f1", "", ""},
	{"Jovian: Gas Price Oracle Set Jovian", "0xe836db6a959371756f8941be3e962d000f7e12a32e49e2c9ca42ba177a92716c",
		attrDepos, attrGPO, 90_000, "0xb3d72079", "", ""},
}

func TestUpgradeTransactionsMatchSpecs(t *testing.T) {
	for _, fork := range []struct {
		name string
		txs  func() ([][]byte, error)
		spec []attrUpgradeSpec
	}{
		{"ecotone", EcotoneUpgradeTransactions, attrEcotoneSpec},
		{"fjord", FjordUpgradeTransactions, attrFjordSpec},
		{"isthmus", IsthmusUpgradeTransactions, attrIsthmusSpec},
		{"jovian", JovianUpgradeTransactions, attrJovianSpec},
	} {
		t.Run(fork.name, func(t *testing.T) {
			encs, err := fork.txs()
			require.NoError(t, err)
			require.Len(t, encs, len(fork.spec))
			for i, want := range fork.spec {
				var tx types.Transaction
				require.NoError(t, tx.UnmarshalBinary(encs[i]))
				require.Equal(t, uint8(types.DepositTxType), tx.Type(), want.intent)
				require.Equal(t, UpgradeDepositSourceHash(want.intent), tx.SourceHash(), want.intent)
				if want.sourceHash != "" {
					require.Equal(t, common.HexToHash(want.sourceHash), tx.SourceHash(), want.intent)
				}
				from, err := types.LatestSignerForChainID(big.NewInt(1)).Sender(&tx)
				require.NoError(t, err)
				require.Equal(t, common.HexToAddress(want.from), from, want.intent)
				if want.to == "" {
					require.Nil(t, tx.To(), want.intent)
				} else {
					require.Equal(t, common.HexToAddress(want.to), *tx.To(), want.intent)
				}
				require.Zero(t, tx.Mint().Sign(), want.intent)
				require.Zero(t, tx.Value().Sign(), want.intent)
				require.Equal(t, want.gas, tx.Gas(), want.intent)
				require.False(t, tx.IsSystemTx(), want.intent)
				if want.data != "" {
					require.Equal(t, want.data, hexutilEncode(tx.Data()), want.intent)
				}
				if want.deployedTo != "" {
					require.Equal(t, common.HexToAddress(want.deployedTo), crypto.CreateAddress(from, 0), want.intent)
				}
				if want.codeHash != "" {
					attrCheckDeployment(t, from, tx.Data(), tx.Gas(), common.HexToHash(want.codeHash))
				}
			}
		})
	}
}

func hexutilEncode(b []byte) string { return "0x" + hex.EncodeToString(b) }

// attrCheckDeployment runs the creation code, within the transaction's gas less the intrinsic gas, and
// checks the code hash of the deployed contract.
func attrCheckDeployment(t *testing.T, from common.Address, code []byte, gas uint64, codeHash common.Hash) {
	t.Helper()
	intrinsic, err := core.IntrinsicGas(code, nil, nil, true, true, true, true)
	require.NoError(t, err)
	deployed, _, _, err := runtime.Create(code, &runtime.Config{Origin: from, GasLimit: gas - intrinsic})
	require.NoError(t, err)
	require.Equal(t, codeHash, crypto.Keccak256Hash(deployed))
}

// TestJovianSpecIntents documents that jovian/derivation.md's source hashes belong to its spelling of the
// intents ("L1Block", "GasPriceOracle"), which op-node does not use.
func TestJovianSpecIntents(t *testing.T) {
	for intent, h := range map[string]string{
		"Jovian: L1Block Deployment":          "0x98faf23b9795967bc0b1c543144739d50dba3ea40420e77ad6ca9848dbfb62e8",
		"Jovian: L1Block Proxy Update":        "0x08447273a4fbce97bc8c515f97ac74efc461f6a4001553712f31ebc11288bad2",
		"Jovian: GasPriceOracle Deployment":   "0xd939cca6eca7bd0ee0c7e89f7e5b5cf7bf6f7afe7b6966bb45dfb95344b31545",
		"Jovian: GasPriceOracle Proxy Update": "0x46b597e2d8346ed7749b46734074361e0b41a0ab9af7afda5bb4e367e072bcb8",
	} {
		require.Equal(t, common.HexToHash(h), UpgradeDepositSourceHash(intent), intent)
	}
	encs, err := JovianUpgradeTransactions()
	require.NoError(t, err)
	var tx types.Transaction
	require.NoError(t, tx.UnmarshalBinary(encs[0]))
	require.NotEqual(t, common.HexToHash("0x98faf23b9795967bc0b1c543144739d50dba3ea40420e77ad6ca9848dbfb62e8"), tx.SourceHash())
}

func TestKarstUpgradeTransactions(t *testing.T) {
	// The embedded bundle is op-node v1.19.6's op-core/nuts/bundles/karst_nut_bundle.json.
	sum := sha256.Sum256(upgradeKarstBundleJSON)
	require.Equal(t, "08f5df36f7ff29a9421ab84beebe96684a7455df9a5d234a2468613a4008ad91", hex.EncodeToString(sum[:]))

	encs, gas, err := KarstUpgradeTransactions()
	require.NoError(t, err)
	require.Len(t, encs, 31)
	require.Equal(t, uint64(55_370_657), gas)
	var total uint64
	for i, enc := range encs {
		var tx types.Transaction
		require.NoError(t, tx.UnmarshalBinary(enc))
		total += tx.Gas()
		require.False(t, tx.IsSystemTx())
		require.Zero(t, tx.Value().Sign())
		if i == 0 {
			require.Equal(t, UpgradeDepositSourceHash("Karst 0: ConditionalDeployer Deployment"), tx.SourceHash())
			require.Equal(t, common.HexToAddress("0x4e59b44847b379578588920cA78FbF26c0B4956C"), *tx.To())
		}
		if i == 30 {
			require.Equal(t, UpgradeDepositSourceHash("Karst 30: L2ProxyAdmin Upgrade Predeploys"), tx.SourceHash())
		}
	}
	require.Equal(t, gas, total)
}

func TestUpgradeBundleRejects(t *testing.T) {
	_, _, err := upgradeBundleDeposits("karst", []byte(`{"metadata":{"version":"2.0.0"},"transactions":[]}`))
	require.ErrorContains(t, err, "version")
	_, _, err = upgradeBundleDeposits("karst", []byte(`{"metadata":{"version":"1.0.0"},"transactions":[{"intent":"","gasLimit":1}]}`))
	require.ErrorContains(t, err, "no intent")
	_, _, err = upgradeBundleDeposits("karst", []byte(`{"metadata":{"version":"1.0.0"},"transactions":[{"intent":"a","gasLimit":18446744073709551615},{"intent":"b","gasLimit":1}]}`))
	require.ErrorContains(t, err, "overflows")
	_, _, err = upgradeBundleDeposits("karst", []byte(`{`))
	require.Error(t, err)
	deps, gas, err := upgradeBundleDeposits("karst", []byte(`{"metadata":{"version":"1.0.0"},"transactions":[{"intent":"x","to":null,"gasLimit":5,"data":"0x01"}]}`))
	require.NoError(t, err)
	require.Equal(t, uint64(5), gas)
	require.Nil(t, deps[0].to)
	require.Equal(t, "Karst 0: x", deps[0].intent)
}

func TestUpgradeTransactionsByBlock(t *testing.T) {
	cfg := attrForkConfig()
	count := func(tm uint64) (int, uint64) {
		txs, err := UpgradeTransactions(cfg, tm, 2)
		require.NoError(t, err)
		gas, err := UpgradeGas(cfg, tm)
		require.NoError(t, err)
		return len(txs), gas
	}
	for _, tt := range []struct {
		time uint64
		n    int
		gas  uint64
	}{
		{0, 0, 0}, {98, 0, 0},
		{100, 6, 0}, {102, 0, 0}, // Ecotone
		{120, 3, 0}, {122, 0, 0}, // Fjord
		{140, 0, 0}, {160, 0, 0}, // Granite, Holocene: none
		{180, 8, 0}, {182, 0, 0}, // Isthmus
		{200, 5, 0}, {202, 0, 0}, // Jovian
		{220, 31, 55_370_657}, {222, 0, 0}, // Karst
	} {
		n, gas := count(tt.time)
		require.Equal(t, tt.n, n, "time %d", tt.time)
		require.Equal(t, tt.gas, gas, "time %d", tt.time)
	}

	// Several forks in one block: their transactions in fork order.
	same := attrForkConfig()
	for _, f := range []**uint64{&same.EcotoneTime, &same.FjordTime, &same.GraniteTime, &same.HoloceneTime, &same.IsthmusTime, &same.JovianTime, &same.KarstTime} {
		*f = attrPtr(100)
	}
	txs, err := UpgradeTransactions(same, 100, 0)
	require.NoError(t, err)
	require.Len(t, txs, 6+3+8+5+31)
	eco, _ := EcotoneUpgradeTransactions()
	require.Equal(t, eco[0], txs[0])

	// Forks active at genesis have no upgrade transactions.
	gen := attrForkConfig()
	gen.EcotoneTime, gen.FjordTime = attrPtr(0), attrPtr(0)
	txs, err = UpgradeTransactions(gen, 0, 0)
	require.NoError(t, err)
	require.Empty(t, txs)

	// Lagoon: the bundle alone for a dependency set of one chain, wrapped for more; the size must be known
	// at the activation block only. The gas does not depend on it.
	lagoon := attrForkConfig()
	lagoon.LagoonTime = attrPtr(300)
	_, err = UpgradeTransactions(lagoon, 300, 0)
	require.ErrorIs(t, err, ErrNoDependencySet)
	txs, err = UpgradeTransactions(lagoon, 302, 0)
	require.NoError(t, err)
	require.Empty(t, txs)
	single, err := UpgradeTransactions(lagoon, 300, 1)
	require.NoError(t, err)
	require.Len(t, single, 28)
	multi, err := UpgradeTransactions(lagoon, 300, 3)
	require.NoError(t, err)
	require.Len(t, multi, 30)
	require.Equal(t, single, multi[1:29])
	gas, err := UpgradeGas(lagoon, 300)
	require.NoError(t, err)
	require.Equal(t, lagoonGas, gas)

	// Karst and Lagoon in one block: both, in fork order, and both gas amounts.
	both := attrForkConfig()
	both.LagoonTime = attrPtr(220)
	txs, err = UpgradeTransactions(both, 220, 2)
	require.NoError(t, err)
	require.Len(t, txs, 31+30)
	gas, err = UpgradeGas(both, 220)
	require.NoError(t, err)
	require.Equal(t, uint64(55_370_657)+lagoonGas, gas)
}

// lagoonGas is the Lagoon activation block's upgrade gas: the bundle's and the two wrappers'.
const lagoonGas uint64 = 60_503_172 + 100_000 + 50_000

func TestLagoonUpgradeTransactions(t *testing.T) {
	// The embedded bundle is op-node v1.19.6's op-core/nuts/bundles/lagoon_nut_bundle.json.
	sum := sha256.Sum256(upgradeLagoonBundleJSON)
	require.Equal(t, "2124ce31c0947cac15f00114214dd4354848f7b4642ff2d12ebb3f94b28cc989", hex.EncodeToString(sum[:]))
	require.Equal(t, crypto.Keccak256([]byte("setFeature(bytes32)"))[:4], upgradeSetFeatureSelector)
	require.Equal(t, crypto.Keccak256([]byte("fund()"))[:4], upgradeFundSelector)

	bundle, gas, err := LagoonUpgradeTransactions(false)
	require.NoError(t, err)
	require.Equal(t, uint64(lagoonGas), gas, "the gas covers the wrappers without them")
	require.Len(t, bundle, 28)
	var bundleGas uint64
	for i, enc := range bundle {
		var tx types.Transaction
		require.NoError(t, tx.UnmarshalBinary(enc))
		bundleGas += tx.Gas()
		require.Zero(t, tx.Mint().Sign())
		if i == 0 {
			// The intents are qualified with "Interop", the feature's name before the fork was named Lagoon.
			require.Equal(t, UpgradeDepositSourceHash("Interop 0: Deploy StorageSetter Implementation"), tx.SourceHash())
		}
		if i == 27 {
			require.Equal(t, UpgradeDepositSourceHash("Interop 27: L2ProxyAdmin Upgrade Predeploys"), tx.SourceHash())
		}
	}
	require.Equal(t, uint64(lagoonGas-150_000), bundleGas)

	wrapped, gas2, err := LagoonUpgradeTransactions(true)
	require.NoError(t, err)
	require.Equal(t, gas, gas2)
	require.Equal(t, bundle, wrapped[1:29])
	var pre, post types.Transaction
	require.NoError(t, pre.UnmarshalBinary(wrapped[0]))
	require.NoError(t, post.UnmarshalBinary(wrapped[29]))
	from := func(tx *types.Transaction) common.Address {
		f, err := types.NewLondonSigner(big.NewInt(1)).Sender(tx)
		require.NoError(t, err)
		return f
	}
	require.Equal(t, L1InfoDepositerAddress, from(&pre))
	require.Equal(t, common.HexToAddress("0x4200000000000000000000000000000000000015"), *pre.To())
	require.Equal(t, UpgradeDepositSourceHash("Interop pre: setFeature(INTEROP)"), pre.SourceHash())
	require.Equal(t, append(crypto.Keccak256([]byte("setFeature(bytes32)"))[:4], common.RightPadBytes([]byte("INTEROP"), 32)...), pre.Data())
	require.Equal(t, uint64(100_000), pre.Gas())
	require.Zero(t, pre.Mint().Sign())
	require.Equal(t, L1InfoDepositerAddress, from(&post))
	require.Equal(t, common.HexToAddress("0x4200000000000000000000000000000000000025"), *post.To())
	require.Equal(t, UpgradeDepositSourceHash("Interop post: ETHLiquidity Funding"), post.SourceHash())
	u128 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	require.Equal(t, u128, post.Mint())
	require.Equal(t, u128, post.Value())
	require.Equal(t, uint64(50_000), post.Gas())
	require.False(t, pre.IsSystemTx() || post.IsSystemTx())
}

func TestUpgradeToSelector(t *testing.T) {
	require.Equal(t, crypto.Keccak256([]byte("upgradeTo(address)"))[:4], UpgradeToSelector[:])
	for sig, sel := range map[string]string{"setEcotone()": "22b90ab3", "setFjord()": "8e98b106", "setIsthmus()": "291b0383", "setJovian()": "b3d72079"} {
		require.Equal(t, sel, hex.EncodeToString(crypto.Keccak256([]byte(sig))[:4]), sig)
	}
}
