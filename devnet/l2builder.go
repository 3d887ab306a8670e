// Package devnet makes OP Stack chains on the spot, deterministically, for the demo, the tests and the
// benchmarks: an L2 chain built by op-geth's own block builder from payload attributes, the way op-node
// drives it, with every fork activating at its own height.
package devnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/beacon/engine"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
	"github.com/faultproof/faultproof/rollup"
)

const (
	genesisTime = 1_000_000
	blockTime   = 2
)

// ForkSchedule lists the L2 block number at which each OP fork activates (Bedrock is active from genesis).
type ForkSchedule = []struct {
	Fork   rollup.Fork
	Height uint64
}

// ForkHeights activates each fork at its own block, so that every block before, at and after an
// activation is built; block 1 is a Bedrock block (before Regolith).
var ForkHeights = ForkSchedule{
	{rollup.Regolith, 2}, {rollup.Canyon, 3}, {rollup.Delta, 4}, {rollup.Ecotone, 5}, {rollup.Fjord, 7}, {rollup.Granite, 9},
	{rollup.Holocene, 11}, {rollup.Isthmus, 13}, {rollup.Jovian, 15}, {rollup.Karst, 17},
}

// forkTimes returns the activation time of a fork under a schedule for a chain starting at genesis with
// 2-second blocks (nil: never).
func forkTimes(genesis uint64, schedule ForkSchedule) func(rollup.Fork) *uint64 {
	return func(f rollup.Fork) *uint64 {
		for _, fh := range schedule {
			if fh.Fork == f {
				t := genesis + fh.Height*blockTime
				return &t
			}
		}
		return nil
	}
}

// DefaultConfigs are the L2 chain config and rollup config of the devnet chain (chain ID 901 on L1 900):
// every fork from Canyon to Karst activates at its own block (ForkHeights).
func DefaultConfigs() (*params.ChainConfig, *rollup.Config) {
	return forkConfigs(genesisTime, forkTimes(genesisTime, ForkHeights))
}

// forkConfigs are the chain 901 configs for an L2 genesis at time genesis and the given fork times.
func forkConfigs(genesis uint64, forkTime func(rollup.Fork) *uint64) (*params.ChainConfig, *rollup.Config) {
	canyonDenominator := uint64(250)
	cfg := &params.ChainConfig{
		ChainID:                 big.NewInt(901),
		HomesteadBlock:          common.Big0,
		EIP150Block:             common.Big0,
		EIP155Block:             common.Big0,
		EIP158Block:             common.Big0,
		ByzantiumBlock:          common.Big0,
		ConstantinopleBlock:     common.Big0,
		PetersburgBlock:         common.Big0,
		IstanbulBlock:           common.Big0,
		MuirGlacierBlock:        common.Big0,
		BerlinBlock:             common.Big0,
		LondonBlock:             common.Big0,
		ArrowGlacierBlock:       common.Big0,
		GrayGlacierBlock:        common.Big0,
		MergeNetsplitBlock:      common.Big0,
		TerminalTotalDifficulty: common.Big0,
		BedrockBlock:            common.Big0,
		RegolithTime:            forkTime(rollup.Regolith),
		CanyonTime:              forkTime(rollup.Canyon),
		ShanghaiTime:            forkTime(rollup.Canyon),
		EcotoneTime:             forkTime(rollup.Ecotone),
		CancunTime:              forkTime(rollup.Ecotone),
		FjordTime:               forkTime(rollup.Fjord),
		GraniteTime:             forkTime(rollup.Granite),
		HoloceneTime:            forkTime(rollup.Holocene),
		IsthmusTime:             forkTime(rollup.Isthmus),
		PragueTime:              forkTime(rollup.Isthmus),
		JovianTime:              forkTime(rollup.Jovian),
		KarstTime:               forkTime(rollup.Karst),
		LagoonTime:              forkTime(rollup.Lagoon),
		Optimism:                &params.OptimismConfig{EIP1559Elasticity: 6, EIP1559Denominator: 50, EIP1559DenominatorCanyon: &canyonDenominator},
	}
	rcfg := &rollup.Config{
		Genesis: rollup.Genesis{
			L1:           rollup.BlockID{Hash: common.HexToHash("0x01"), Number: 0},
			L2Time:       genesis,
			SystemConfig: rollup.SystemConfig{BatcherAddr: common.HexToAddress("0xba7c4e5"), Scalar: common.HexToHash("0x01"), GasLimit: 30_000_000},
		},
		BlockTime: blockTime, MaxSequencerDrift: 600, SeqWindowSize: 100, ChannelTimeoutBedrock: 300,
		L1ChainID: big.NewInt(900), L2ChainID: big.NewInt(901),
		RegolithTime: forkTime(rollup.Regolith), CanyonTime: cfg.CanyonTime, DeltaTime: forkTime(rollup.Delta), EcotoneTime: cfg.EcotoneTime,
		FjordTime: cfg.FjordTime, GraniteTime: cfg.GraniteTime, HoloceneTime: cfg.HoloceneTime, IsthmusTime: cfg.IsthmusTime,
		JovianTime: cfg.JovianTime, KarstTime: cfg.KarstTime, LagoonTime: cfg.LagoonTime,
		BatchInboxAddress: common.HexToAddress("0xff00000000000000000000000000000000000901"), DepositContractAddress: common.HexToAddress("0xdeadbeef"),
		ChainOpConfig: cfg.Optimism,
	}
	return cfg, rcfg
}

// Hand-assembled contracts exercising storage writes and deletes, precompiles and self-destruct.
var (
	// StorageCode is the runtime code of the devnet storage contract: SSTORE(calldata[0:32],
	// calldata[32:64]); a zero value deletes the slot.
	StorageCode = common.FromHex("0x602035600035550000")
	// precompileCaller(addr): STATICCALL addr with the calldata, store the first output word in slot 0
	// and the success flag in slot 1.
	precompileCaller = func(addr byte) []byte {
		return append(common.FromHex("0x3660006000376020600036600060"), append([]byte{addr}, common.FromHex("0x5afa600051600055600155")...)...)
	}
	// destructor: SELFDESTRUCT to the caller.
	destructorCode = common.FromHex("0x33ff")

	storageAddr     = common.HexToAddress("0x5707a9e")
	ecrecoverCaller = common.HexToAddress("0xec4ec0")
	sha256Caller    = common.HexToAddress("0x54a256")
	pairingCaller   = common.HexToAddress("0x9a141")
	blsAddCaller    = common.HexToAddress("0xb15add")
	destructorAddr  = common.HexToAddress("0xde57")

	l1BlockAddr  = common.HexToAddress("0x4200000000000000000000000000000000000015")
	depositorAcc = common.HexToAddress("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001")
)

// initCode wraps runtime code in a constructor that returns it.
func initCode(runtime []byte) []byte {
	n := byte(len(runtime))
	return append([]byte{0x60, n, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3}, runtime...)
}

// L2Builder builds an L2 chain with op-geth's block builder and keeps the attributes of every block.
type L2Builder struct {
	genesis *core.Genesis
	config  *params.ChainConfig
	rollup  *rollup.Config
	db      ethdb.Database
	chain   *core.BlockChain
	miner   *miner.Miner
	key     *ecdsa.PrivateKey
	sender  common.Address
	nonce   uint64
	blocks  []*types.Block // index = number
	attrs   []*rollup.PayloadAttributes
	// witnesses holds the RLP of op-geth's stateless witness of each block after genesis.
	witnesses [][]byte
}

type minerBackend struct{ chain *core.BlockChain }

func (m minerBackend) BlockChain() *core.BlockChain { return m.chain }
func (m minerBackend) TxPool() *txpool.TxPool       { return nil } // NoTxPool: never read

// NewL2Builder starts a chain at the devnet genesis.
func NewL2Builder() (*L2Builder, error) {
	cfg, rcfg := DefaultConfigs()
	key, _ := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	sender := crypto.PubkeyToAddress(key.PublicKey)
	genesis := &core.Genesis{
		Config:     cfg,
		Timestamp:  genesisTime,
		GasLimit:   30_000_000,
		Difficulty: common.Big0,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Alloc: types.GenesisAlloc{
			sender:                             {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))},
			storageAddr:                        {Code: StorageCode, Storage: map[common.Hash]common.Hash{{31: 1}: {31: 7}, {31: 2}: {31: 8}}},
			ecrecoverCaller:                    {Code: precompileCaller(0x01)},
			sha256Caller:                       {Code: precompileCaller(0x02)},
			pairingCaller:                      {Code: precompileCaller(0x08)},
			blsAddCaller:                       {Code: precompileCaller(0x0b)},
			destructorAddr:                     {Code: destructorCode, Balance: big.NewInt(12345)},
			params.OptimismL2ToL1MessagePasser: {Code: []byte{0x00}, Storage: map[common.Hash]common.Hash{{31: 9}: {31: 1}}},
		},
	}
	db := rawdb.NewMemoryDatabase()
	chain, err := core.NewBlockChain(db, genesis, beacon.New(ethash.NewFaker()), core.DefaultConfig().WithStateScheme(rawdb.HashScheme).WithArchive(true))
	if err != nil {
		return nil, fmt.Errorf("l2 genesis: %w", err)
	}
	m := miner.New(minerBackend{chain}, miner.Config{GasCeil: 30_000_000}, chain.Engine())
	b := &L2Builder{genesis: genesis, config: cfg, rollup: rcfg, db: db, chain: chain, miner: m, key: key, sender: sender}
	b.rollup.Genesis.L2 = rollup.BlockID{Hash: chain.Genesis().Hash(), Number: 0}
	b.blocks = []*types.Block{chain.Genesis()}
	b.attrs = []*rollup.PayloadAttributes{nil}
	return b, nil
}

// Close stops op-geth's chain and builder.
func (b *L2Builder) Close() {
	b.miner.Close()
	b.chain.Stop()
}

// Genesis is the genesis specification (shared: do not modify).
func (b *L2Builder) Genesis() *core.Genesis { return b.genesis }

// Config is the L2 chain config.
func (b *L2Builder) Config() *params.ChainConfig { return b.config }

// Rollup is the rollup config, with the genesis block filled in.
func (b *L2Builder) Rollup() *rollup.Config { return b.rollup }

// Block returns block n (0 is genesis).
func (b *L2Builder) Block(n uint64) *types.Block { return b.blocks[n] }

// Head is the newest block.
func (b *L2Builder) Head() *types.Block { return b.blocks[len(b.blocks)-1] }

// Attributes returns the payload attributes block n was built from (nil for genesis).
func (b *L2Builder) Attributes(n uint64) *rollup.PayloadAttributes { return b.attrs[n] }

// StateDB opens op-geth's state at a root, to check results against.
func (b *L2Builder) StateAt(root common.Hash) (*state.StateDB, error) { return b.chain.StateAt(root) }

// l1InfoData is an L1-info deposit's calldata in the shape the block's fork expects (op-geth reads the
// Jovian DA footprint scalar from it). Values are arbitrary: the L1Block predeploy is not deployed here.
func (b *L2Builder) l1InfoData(n, ts uint64) []byte {
	var data []byte
	switch {
	case b.rollup.IsJovian(ts) && !b.rollup.IsActivationBlock(rollup.Jovian, ts):
		data = append(append([]byte{}, types.JovianL1AttributesSelector...), make([]byte, types.JovianL1AttributesLen-4)...)
		binary.BigEndian.PutUint16(data[len(data)-2:], 400) // DA footprint gas scalar
	case b.rollup.IsIsthmus(ts) && !b.rollup.IsActivationBlock(rollup.Isthmus, ts):
		data = append(append([]byte{}, types.IsthmusL1AttributesSelector...), make([]byte, types.IsthmusL1AttributesLen-4)...)
	case b.rollup.IsEcotone(ts) && !b.rollup.IsActivationBlock(rollup.Ecotone, ts):
		data = append(append([]byte{}, types.EcotoneL1AttributesSelector...), make([]byte, 160)...)
	default:
		data = append(common.FromHex("0x015d8eb9"), make([]byte, 256)...)
	}
	binary.BigEndian.PutUint64(data[4:], n) // a different deposit in every block
	return data
}

func (b *L2Builder) signed(to *common.Address, value *big.Int, gas uint64, data []byte) []byte {
	head := b.blocks[len(b.blocks)-1].Header()
	tx := types.MustSignNewTx(b.key, types.LatestSignerForChainID(b.config.ChainID), &types.DynamicFeeTx{
		ChainID: b.config.ChainID, Nonce: b.nonce, GasTipCap: big.NewInt(1), GasFeeCap: new(big.Int).Mul(head.BaseFee, big.NewInt(4)),
		Gas: gas, To: to, Value: value, Data: data,
	})
	b.nonce++
	return mustEncode(tx)
}

func (b *L2Builder) deposit(source byte, from common.Address, to *common.Address, mint, value *big.Int, gas uint64, data []byte) []byte {
	tx := types.NewTx(&types.DepositTx{SourceHash: common.Hash{0: source, 31: byte(len(b.blocks))}, From: from, To: to, Mint: mint, Value: value, Gas: gas, Data: data})
	return mustEncode(tx)
}

// validEcrecoverInput is (hash, v, r, s) of a real signature.
func validEcrecoverInput(n uint64) []byte {
	key, _ := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	hash := crypto.Keccak256(word(n))
	sig, _ := crypto.Sign(hash, key)
	in := append(append([]byte{}, hash...), word(uint64(sig[64])+27)...)
	return append(append(in, sig[:32]...), sig[32:64]...)
}

// mustEncode encodes a transaction we just made; that cannot fail.
func mustEncode(tx *types.Transaction) []byte {
	enc, err := tx.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("encode transaction: %v", err))
	}
	return enc
}

func word(v uint64) []byte { return common.BigToHash(new(big.Int).SetUint64(v)).Bytes() }

// userTxs are the sequencer transactions of block n: a different mix in every block.
func (b *L2Builder) userTxs(n uint64) [][]byte {
	var txs [][]byte
	recipient := common.Address{0xaa, byte(n)}
	txs = append(txs, b.signed(&recipient, big.NewInt(int64(1000+n)), 21000, nil))
	switch n % 5 {
	case 0:
		txs = append(txs, b.signed(&storageAddr, nil, 100_000, append(word(n), word(n*3)...))) // write
		txs = append(txs, b.signed(&storageAddr, nil, 100_000, append(word(1), word(0)...)))   // delete
	case 1:
		txs = append(txs, b.signed(nil, nil, 200_000, initCode(StorageCode)))    // create
		txs = append(txs, b.signed(nil, nil, 200_000, initCode(destructorCode))) // create then self-destruct later
	case 2:
		sig := make([]byte, 128) // an invalid signature: ecrecover returns nothing, the call succeeds
		txs = append(txs, b.signed(&ecrecoverCaller, nil, 100_000, sig))
		txs = append(txs, b.signed(&ecrecoverCaller, nil, 100_000, validEcrecoverInput(n)))
		txs = append(txs, b.signed(&sha256Caller, nil, 100_000, []byte("faultproof")))
	case 3:
		txs = append(txs, b.signed(&pairingCaller, nil, 200_000, nil)) // empty pairing input is true
		txs = append(txs, b.signed(&destructorAddr, nil, 100_000, nil))
	case 4:
		if b.config.IsPrague(new(big.Int).SetUint64(n), b.rollup.TimestampForBlock(n)) {
			txs = append(txs, b.signed(&blsAddCaller, nil, 100_000, make([]byte, 256))) // infinity + infinity
		}
		txs = append(txs, b.signed(&storageAddr, nil, 100_000, append(word(n), word(0)...)))
	}
	return txs
}

// AddBlock builds the next block with op-geth's builder from its payload attributes and inserts it.
func (b *L2Builder) AddBlock() error {
	parent := b.blocks[len(b.blocks)-1]
	n := parent.NumberU64() + 1
	ts := b.rollup.TimestampForBlock(n)
	gasLimit := uint64(30_000_000)
	attrs := &rollup.PayloadAttributes{
		Timestamp:             ts,
		Random:                common.Hash{0xee, byte(n)},
		SuggestedFeeRecipient: common.HexToAddress("0x4200000000000000000000000000000000000011"),
		NoTxPool:              true,
		GasLimit:              &gasLimit,
	}
	if b.rollup.IsCanyon(ts) {
		attrs.Withdrawals = types.Withdrawals{}
	}
	if b.rollup.IsEcotone(ts) {
		attrs.BeaconRoot = &common.Hash{0xbe, byte(n)}
	}
	if b.rollup.IsHolocene(ts) {
		attrs.EIP1559Params = eip1559.EncodeHolocene1559Params(0, 0)
		if n%2 == 1 {
			attrs.EIP1559Params = eip1559.EncodeHolocene1559Params(100, 4)
		}
	}
	if b.rollup.IsJovian(ts) {
		minBaseFee := uint64(n * 1000)
		attrs.MinBaseFee = &minBaseFee
	}
	attrs.Transactions = append(attrs.Transactions, b.deposit(0, depositorAcc, &l1BlockAddr, nil, big.NewInt(0), 1_000_000, b.l1InfoData(n, ts)))
	userDepositor := common.Address{0xd0}
	attrs.Transactions = append(attrs.Transactions, b.deposit(1, userDepositor, &storageAddr, big.NewInt(params.Ether), big.NewInt(5), 100_000, append(word(100+n), word(n)...)))
	// The first Jovian block carries deposits only, as derivation makes it.
	if !b.rollup.IsActivationBlock(rollup.Jovian, ts) {
		attrs.Transactions = append(attrs.Transactions, b.userTxs(n)...)
	}

	block, witness, err := buildBlock(b.miner, b.chain, b.config, parent, attrs, true)
	if err != nil {
		return err
	}
	b.blocks = append(b.blocks, block)
	b.attrs = append(b.attrs, attrs)
	b.witnesses = append(b.witnesses, witness)
	return nil
}

// errRejected: op-geth does not build a block from the payload attributes (the engine API's INVALID).
var errRejected = errors.New("the engine rejects the payload attributes")

// buildBlock has op-geth's block builder build the block of attrs on parent, as op-node drives it
// (forced transactions, no transaction pool), checks that every forced transaction made it in, and inserts
// the block into chain. With witness, it also returns the RLP of op-geth's stateless witness of the block.
func buildBlock(m *miner.Miner, chain *core.BlockChain, config *params.ChainConfig, parent *types.Block, attrs *rollup.PayloadAttributes, witness bool) (*types.Block, []byte, error) {
	n := parent.NumberU64() + 1
	txs := make([]*types.Transaction, len(attrs.Transactions))
	for i, enc := range attrs.Transactions {
		txs[i] = new(types.Transaction)
		if err := txs[i].UnmarshalBinary(enc); err != nil {
			return nil, nil, fmt.Errorf("%w: block %d: transaction %d: %w", errRejected, n, i, err)
		}
	}
	args := payloadArgs(parent.Hash(), attrs)
	args.Transactions = txs
	payload, err := m.BuildPayload(context.Background(), args, witness)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: op-geth builds block %d: %w", errRejected, n, err)
	}
	env := payload.ResolveFull()
	block, err := engine.ExecutableDataToBlock(*env.ExecutionPayload, []common.Hash{}, attrs.BeaconRoot, env.Requests, config)
	if err != nil {
		return nil, nil, fmt.Errorf("block %d from payload: %w", n, err)
	}
	if len(block.Transactions()) != len(txs) {
		return nil, nil, fmt.Errorf("%w: block %d has %d of the %d forced transactions", errRejected, n, len(block.Transactions()), len(txs))
	}
	if _, err := chain.InsertChain(types.Blocks{block}); err != nil {
		return nil, nil, fmt.Errorf("op-geth rejects block %d: %w", n, err)
	}
	var w []byte
	if env.Witness != nil {
		w = *env.Witness
	}
	return block, w, nil
}

// payloadArgs are op-geth's builder arguments for attrs on parent, as op-node drives it: the attributes'
// transactions forced, none from a pool. Transactions that do not decode are left out.
func payloadArgs(parent common.Hash, attrs *rollup.PayloadAttributes) *miner.BuildPayloadArgs {
	args := &miner.BuildPayloadArgs{
		Parent: parent, Timestamp: attrs.Timestamp, FeeRecipient: attrs.SuggestedFeeRecipient, Random: attrs.Random,
		Withdrawals: attrs.Withdrawals, BeaconRoot: attrs.BeaconRoot, NoTxPool: true,
		GasLimit: attrs.GasLimit, EIP1559Params: attrs.EIP1559Params, MinBaseFee: attrs.MinBaseFee,
	}
	for _, enc := range attrs.Transactions {
		tx := new(types.Transaction)
		if tx.UnmarshalBinary(enc) == nil {
			args.Transactions = append(args.Transactions, tx)
		}
	}
	return args
}

// ExecutionWitness is op-geth's stateless witness of block n (the debug_executionWitness shape): the
// state nodes, code and ancestor headers its execution touched.
func (b *L2Builder) ExecutionWitness(n uint64) (*stateless.ExtWitness, error) {
	if n == 0 || int(n) >= len(b.blocks) {
		return nil, fmt.Errorf("no witness for block %d", n)
	}
	var w stateless.Witness
	if err := rlp.DecodeBytes(b.witnesses[n-1], &w); err != nil {
		return nil, fmt.Errorf("decode witness of block %d: %w", n, err)
	}
	return w.ToExtWitness(), nil
}

// Build adds n blocks.
func (b *L2Builder) Build(n int) error {
	for i := 0; i < n; i++ {
		if err := b.AddBlock(); err != nil {
			return err
		}
	}
	return nil
}

// Preimages returns every L2 preimage a host could serve for this chain, by keccak256 key: block headers,
// the nodes of every transaction trie, and all state trie nodes and code op-geth holds.
func (b *L2Builder) Preimages() (map[[32]byte][]byte, error) {
	out := map[[32]byte][]byte{}
	putKey := func(k preimage.Key, v []byte) { out[k.PreimageKey()] = v }
	put := func(v []byte) { putKey(preimage.KeccakKeyOf(v), v) }
	for _, blk := range b.blocks {
		if err := layout.Block(putKey, blk); err != nil {
			return nil, err
		}
	}
	it := b.db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		k, v := it.Key(), it.Value()
		switch {
		case len(k) == 32 && crypto.Keccak256Hash(v) == common.BytesToHash(k):
			put(common.CopyBytes(v)) // a trie node
		case len(k) == 33 && k[0] == 'c' && crypto.Keccak256Hash(v) == common.BytesToHash(k[1:]):
			put(common.CopyBytes(v)) // code
		}
	}
	return out, it.Error()
}
