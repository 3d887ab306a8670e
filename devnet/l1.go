package devnet

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// The L1 rollup contracts, hand-assembled: each emits one log whose non-constant topics and data come from
// the calldata, in the exact shape of the real contract's event.
var (
	// DepositContractCode emits TransactionDeposited(from, to, version, opaqueData) as the OptimismPortal
	// does, with calldata topic1 ++ topic2 ++ topic3 ++ data (the ABI-encoded opaque data): LOG4 of
	// calldata[96:] with DepositEventTopic and the three calldata words. Shorter calldata runs out of gas.
	DepositContractCode = logEmitterCode(derive.DepositEventTopic, 3)
	// SystemConfigCode emits ConfigUpdate(version, updateType, data) as the SystemConfig contract does,
	// with calldata topic1 ++ topic2 ++ data: LOG3 of calldata[64:] with ConfigUpdateEventTopic and the two
	// calldata words.
	SystemConfigCode = logEmitterCode(derive.ConfigUpdateEventTopic, 2)
)

// logEmitterCode is the runtime code that logs calldata[32*n:] with topic0 and the first n calldata words
// as topics 1..n.
func logEmitterCode(topic0 common.Hash, n int) []byte {
	head := byte(32 * n)
	code := []byte{
		0x60, head, 0x36, 0x03, // size = CALLDATASIZE - head (underflows to a huge size: out of gas)
		0x80,                         // DUP1 size
		0x60, head, 0x60, 0x00, 0x37, // CALLDATACOPY(0, head, size)
	}
	for i := n - 1; i >= 0; i-- {
		code = append(code, 0x60, byte(32*i), 0x35) // CALLDATALOAD(32*i): topic i+1
	}
	code = append(code, 0x7f) // PUSH32 topic0
	code = append(code, topic0[:]...)
	code = append(code,
		0x80+byte(n+1), // DUP(n+2): size
		0x60, 0x00,     // offset 0
		0xa0+byte(n+1), // LOG(n+1)
		0x00,           // STOP
	)
	return code
}

// L1ChainConfig is the chain config of the devnet's L1 (chain 900): every Ethereum fork active from
// genesis (through Osaka, with its blob schedule), so blobs and Prague rules apply.
func L1ChainConfig() *params.ChainConfig {
	cfg := *params.MergedTestChainConfig
	cfg.ChainID = big.NewInt(900)
	return &cfg
}

const l1GasLimit = 30_000_000

// l1Genesis is the L1 genesis: each chain's rollup contracts and funded accounts, and Ethereum's system
// contracts.
func l1Genesis(accs []*accounts, chains []*rollup.Config) *core.Genesis {
	rich := new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))
	alloc := types.GenesisAlloc{
		params.BeaconRootsAddress:        {Nonce: 1, Code: params.BeaconRootsCode},
		params.HistoryStorageAddress:     {Nonce: 1, Code: params.HistoryStorageCode},
		params.WithdrawalQueueAddress:    {Nonce: 1, Code: params.WithdrawalQueueCode},
		params.ConsolidationQueueAddress: {Nonce: 1, Code: params.ConsolidationQueueCode},
	}
	for _, c := range chains {
		alloc[c.DepositContractAddress] = types.Account{Code: DepositContractCode}
		alloc[c.L1SystemConfigAddress] = types.Account{Code: SystemConfigCode}
	}
	for _, acc := range accs {
		for _, a := range []account{acc.batchers[0], acc.batchers[1], acc.sysOwner, acc.depositors[0], acc.depositors[1], acc.l1User} {
			alloc[a.addr] = types.Account{Balance: rich}
		}
	}
	return &core.Genesis{
		Config:     L1ChainConfig(),
		Timestamp:  L1GenesisTime,
		GasLimit:   l1GasLimit,
		Difficulty: common.Big0,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Alloc:      alloc,
	}
}

// l1Chain makes L1 blocks one at a time with op-geth's chain maker.
type l1Chain struct {
	genesis  *core.Genesis
	config   *params.ChainConfig
	signer   types.Signer
	engine   consensus.Engine
	db       ethdb.Database
	blocks   []*types.Block
	receipts []types.Receipts
	byHash   map[common.Hash]uint64
}

func newL1Chain(accs []*accounts, chains []*rollup.Config) (*l1Chain, error) {
	g := l1Genesis(accs, chains)
	if g.Config.BlobScheduleConfig == nil || g.Config.BlobScheduleConfig.Osaka == nil {
		return nil, fmt.Errorf("l1 chain config has no blob schedule")
	}
	db := rawdb.NewMemoryDatabase()
	tdb := triedb.NewDatabase(db, triedb.HashDefaults)
	genesis, err := g.Commit(db, tdb, nil)
	tdb.Close()
	if err != nil {
		return nil, fmt.Errorf("l1 genesis: %w", err)
	}
	return &l1Chain{
		genesis: g, config: g.Config, signer: types.LatestSigner(g.Config), engine: beacon.New(ethash.NewFaker()), db: db,
		blocks: []*types.Block{genesis}, receipts: []types.Receipts{nil}, byHash: map[common.Hash]uint64{genesis.Hash(): 0},
	}, nil
}

func (c *l1Chain) head() *types.Block { return c.blocks[len(c.blocks)-1] }

// l1TxFunc makes a transaction of the block being built, given the block's generator (for nonces and the
// base fee).
type l1TxFunc func(b *core.BlockGen) (*types.Transaction, error)

// addBlock makes the next block, 12 seconds after its parent, holding the transactions txs make, in order.
func (c *l1Chain) addBlock(txs []l1TxFunc) (block *types.Block, err error) {
	parent := c.head()
	n := parent.NumberU64() + 1
	defer func() {
		// The chain maker panics on a transaction it cannot apply.
		if r := recover(); r != nil {
			block, err = nil, fmt.Errorf("l1 block %d: %v", n, r)
		}
	}()
	var genErr error
	blocks, receipts := core.GenerateChain(c.config, parent, c.engine, c.db, 1, func(_ int, b *core.BlockGen) {
		b.OffsetTime(L1BlockTime - 10) // the chain maker's blocks are 10 seconds apart
		b.SetCoinbase(common.Address{0xc0, 0x1b})
		b.SetParentBeaconRoot(crypto.Keccak256Hash([]byte("faultproof devnet beacon root"), new(big.Int).SetUint64(n).Bytes()))
		for i, mk := range txs {
			tx, err := mk(b)
			if err != nil {
				genErr = fmt.Errorf("transaction %d: %w", i, err)
				return
			}
			b.AddTx(tx)
		}
	})
	if genErr != nil {
		return nil, fmt.Errorf("l1 block %d: %w", n, genErr)
	}
	c.blocks = append(c.blocks, blocks[0])
	c.receipts = append(c.receipts, receipts[0])
	c.byHash[blocks[0].Hash()] = n
	return blocks[0], nil
}

// l1Gas is the gas limit of a transaction with calldata data and up to extra gas of execution: the
// intrinsic gas, or the EIP-7623 calldata floor if higher, plus extra.
func l1Gas(data []byte, extra uint64) (uint64, error) {
	gas, err := core.IntrinsicGas(data, nil, nil, false, true, true, true)
	if err != nil {
		return 0, err
	}
	floor, err := core.FloorDataGas(data)
	if err != nil {
		return 0, err
	}
	return max(gas, floor) + extra, nil
}

// l1TxKind picks an L1 transaction type for calldata transactions.
type l1TxKind int

const (
	l1Dynamic    l1TxKind = iota // EIP-1559
	l1Legacy                     // EIP-155 legacy
	l1AccessList                 // EIP-2930
)

// l1Call is a calldata transaction from a to `to` with value, signed with the L1 signer. The fee cap is
// twice the block's base fee plus the tip.
func (c *l1Chain) l1Call(from account, kind l1TxKind, to common.Address, value *big.Int, data []byte, extraGas uint64) l1TxFunc {
	return func(b *core.BlockGen) (*types.Transaction, error) {
		gas, err := l1Gas(data, extraGas)
		if err != nil {
			return nil, err
		}
		if value == nil {
			value = new(big.Int)
		}
		tip := big.NewInt(params.GWei)
		feeCap := new(big.Int).Add(new(big.Int).Mul(b.BaseFee(), big.NewInt(2)), tip)
		nonce := b.TxNonce(from.addr)
		var inner types.TxData
		switch kind {
		case l1Legacy:
			inner = &types.LegacyTx{Nonce: nonce, GasPrice: feeCap, Gas: gas, To: &to, Value: value, Data: data}
		case l1AccessList:
			inner = &types.AccessListTx{ChainID: c.config.ChainID, Nonce: nonce, GasPrice: feeCap, Gas: gas, To: &to, Value: value, Data: data,
				AccessList: types.AccessList{{Address: to, StorageKeys: []common.Hash{{}}}}}
		default:
			inner = &types.DynamicFeeTx{ChainID: c.config.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: &to, Value: value, Data: data}
		}
		return types.SignNewTx(from.key, c.signer, inner)
	}
}

// l1SetCodeCall is an EIP-7702 transaction from a that delegates a's own account to the code at target,
// then calls a with data: the code runs with a's address.
func (c *l1Chain) l1SetCodeCall(from account, target common.Address, data []byte) l1TxFunc {
	return func(b *core.BlockGen) (*types.Transaction, error) {
		nonce := b.TxNonce(from.addr)
		auth, err := types.SignSetCode(from.key, types.SetCodeAuthorization{
			ChainID: *uint256.MustFromBig(c.config.ChainID), Address: target, Nonce: nonce + 1, // the sender's nonce is bumped first
		})
		if err != nil {
			return nil, err
		}
		gas, err := l1Gas(data, 200_000)
		if err != nil {
			return nil, err
		}
		tip := uint256.NewInt(params.GWei)
		feeCap := new(uint256.Int).Add(new(uint256.Int).Mul(uint256.MustFromBig(b.BaseFee()), uint256.NewInt(2)), tip)
		return types.SignNewTx(from.key, c.signer, &types.SetCodeTx{
			ChainID: uint256.MustFromBig(c.config.ChainID), Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas,
			To: from.addr, Value: new(uint256.Int), Data: data, AuthList: []types.SetCodeAuthorization{auth},
		})
	}
}

// l1BlobTx is a blob transaction from a to `to` carrying the blobs of sidecar: signed with the sidecar,
// as a batcher sends it, and put in the block without, as blocks hold it.
func (c *l1Chain) l1BlobTx(from account, to common.Address, sidecar *types.BlobTxSidecar) l1TxFunc {
	return func(b *core.BlockGen) (*types.Transaction, error) {
		tip := uint256.NewInt(params.GWei)
		feeCap := new(uint256.Int).Add(new(uint256.Int).Mul(uint256.MustFromBig(b.BaseFee()), uint256.NewInt(2)), tip)
		tx, err := types.SignNewTx(from.key, c.signer, &types.BlobTx{
			ChainID: uint256.MustFromBig(c.config.ChainID), Nonce: b.TxNonce(from.addr), GasTipCap: tip, GasFeeCap: feeCap,
			Gas: params.TxGas, To: to, Value: new(uint256.Int),
			BlobFeeCap: uint256.NewInt(params.GWei), BlobHashes: sidecar.BlobHashes(), Sidecar: sidecar,
		})
		if err != nil {
			return nil, err
		}
		return tx.WithoutBlobTxSidecar(), nil
	}
}

// depositCalldata is the calldata of the devnet deposit contract for dep: the topics and data of the
// TransactionDeposited log the OptimismPortal would emit.
func depositCalldata(dep *types.DepositTx) ([]byte, error) {
	ev, err := derive.MarshalDepositLogEvent(DepositContractAddress, dep)
	if err != nil {
		return nil, err
	}
	var data []byte
	for _, t := range ev.Topics[1:] {
		data = append(data, t[:]...)
	}
	return append(data, ev.Data...), nil
}

// sysConfigCalldata is the calldata of the devnet system config contract for a version-0 update with
// content payload: version, update type, then the ABI encoding of payload as bytes.
func sysConfigCalldata(typ derive.SystemConfigUpdateType, payload []byte) []byte {
	data := make([]byte, 0, 128+len(payload))
	data = append(data, derive.ConfigUpdateEventVersion0[:]...)
	data = append(data, typ.Topic().Bytes()...)
	data = append(data, common.BigToHash(big.NewInt(32)).Bytes()...)
	data = append(data, common.BigToHash(big.NewInt(int64(len(payload)))).Bytes()...)
	return append(data, payload...)
}
