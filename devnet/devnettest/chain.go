// Package devnettest gives the host's tests small chains that devnet's server serves, over real JSON-RPC
// and beacon-API HTTP on 127.0.0.1: an L1 made with op-geth's chain maker (transactions of every type,
// blob transactions with their blobs, a block with more transactions than one receipts batch, an empty
// block) and an L2 made with devnet's builder (every OP fork at its own block). Each test serves them on
// a server of its own, and tells the server's endpoints to fail, refuse methods or lie (devnet.Endpoint);
// the helpers here write the lies.
package devnettest

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/faultproof/faultproof/devnet"
)

// L1 timing: the beacon genesis is the L1 genesis, slots are 12 seconds and so are blocks, so block n is
// in slot n.
const (
	L1GenesisTime  = devnet.L1GenesisTime
	SecondsPerSlot = devnet.SecondsPerSlot
	L1ChainID      = 900
)

// BlobRef is a blob of the L1 chain.
type BlobRef struct {
	Block         uint64
	Slot          uint64
	Index         int // among the block's blobs
	VersionedHash common.Hash
	Commitment    kzg4844.Commitment
	Blob          *kzg4844.Blob
}

// L1Chain is an L1 with transactions of every kind, blob transactions and receipts with logs.
type L1Chain struct {
	Genesis  *core.Genesis
	Config   *params.ChainConfig
	Blocks   []*types.Block // index = number
	Receipts []types.Receipts
	Blobs    []BlobRef
}

// BlobTxTo is the recipient of the L1 chain's transactions, the blob transactions among them.
var BlobTxTo = common.Address{0xaa}

// ManyTxBlock is the L1 block holding more transactions than one receipts batch.
const ManyTxBlock = 3

// ManyTxCount is how many transactions it holds.
const ManyTxCount = 130

// logEmitter logs its calldata with one topic: LOG1(0, CALLDATASIZE, 0xfa17) after copying the calldata.
var logEmitter = common.FromHex("0x366000600037611a17366000a100")

// L1 returns the test L1, made once per test binary.
var L1 = sync.OnceValues(makeL1)

// testBlob is a blob whose field elements are small and distinct (valid field elements).
func testBlob(seed byte) *kzg4844.Blob {
	var b kzg4844.Blob
	for i := 0; i < len(b)/32; i++ {
		b[i*32+31] = seed
		b[i*32+30] = byte(i)
		b[i*32+29] = byte(i >> 8)
	}
	return &b
}

func makeL1() (*L1Chain, error) {
	cfg := devnet.L1ChainConfig()
	key, _ := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	sender := crypto.PubkeyToAddress(key.PublicKey)
	emitter := common.HexToAddress("0x10e")
	g := &core.Genesis{
		Config: cfg, Timestamp: L1GenesisTime, GasLimit: 30_000_000, Difficulty: common.Big0, BaseFee: big.NewInt(params.InitialBaseFee),
		Alloc: types.GenesisAlloc{
			sender:                           {Balance: new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))},
			emitter:                          {Code: logEmitter},
			params.BeaconRootsAddress:        {Nonce: 1, Code: params.BeaconRootsCode},
			params.HistoryStorageAddress:     {Nonce: 1, Code: params.HistoryStorageCode},
			params.WithdrawalQueueAddress:    {Nonce: 1, Code: params.WithdrawalQueueCode},
			params.ConsolidationQueueAddress: {Nonce: 1, Code: params.ConsolidationQueueCode},
		},
	}

	// Blobs: two in block 1, one in block 2.
	chain := &L1Chain{Genesis: g, Config: cfg}
	for _, s := range []struct {
		block uint64
		seed  byte
	}{{1, 1}, {1, 2}, {2, 3}} {
		b := testBlob(s.seed)
		c, err := kzg4844.BlobToCommitment(b)
		if err != nil {
			return nil, err
		}
		chain.Blobs = append(chain.Blobs, BlobRef{Block: s.block, Slot: s.block, VersionedHash: kzg4844.CalcBlobHashV1(sha256.New(), &c), Commitment: c, Blob: b})
	}
	signer := types.LatestSigner(cfg)
	sign := func(inner types.TxData) *types.Transaction { return types.MustSignNewTx(key, signer, inner) }
	to := BlobTxTo
	_, blocks, receipts := core.GenerateChainWithGenesis(g, beacon.New(ethash.NewFaker()), 4, func(i int, b *core.BlockGen) {
		n := uint64(i + 1)
		b.OffsetTime(SecondsPerSlot - 10) // the chain maker's blocks are 10 seconds apart
		b.SetParentBeaconRoot(common.Hash{0xbe, byte(n)})
		tip := big.NewInt(params.GWei)
		feeCap := new(big.Int).Add(new(big.Int).Mul(b.BaseFee(), big.NewInt(2)), tip)
		dyn := func(to common.Address, data []byte, gas uint64) *types.Transaction {
			return sign(&types.DynamicFeeTx{ChainID: cfg.ChainID, Nonce: b.TxNonce(sender), GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: &to, Value: big.NewInt(1), Data: data})
		}
		switch n {
		case 1, 2:
			b.AddTx(sign(&types.LegacyTx{Nonce: b.TxNonce(sender), GasPrice: feeCap, Gas: 21000, To: &to, Value: big.NewInt(7)}))
			b.AddTx(dyn(emitter, []byte("faultproof log"), 100_000))
			b.AddTx(sign(&types.AccessListTx{ChainID: cfg.ChainID, Nonce: b.TxNonce(sender), GasPrice: feeCap, Gas: 30_000, To: &to,
				AccessList: types.AccessList{{Address: to, StorageKeys: []common.Hash{{}}}}}))
			var hashes []common.Hash
			for _, ref := range chain.Blobs {
				if ref.Block == n {
					hashes = append(hashes, ref.VersionedHash)
				}
			}
			b.AddTx(sign(&types.BlobTx{ChainID: uint256.MustFromBig(cfg.ChainID), Nonce: b.TxNonce(sender), GasTipCap: uint256.MustFromBig(tip),
				GasFeeCap: uint256.MustFromBig(feeCap), Gas: 21000, To: to, BlobFeeCap: uint256.NewInt(params.GWei), BlobHashes: hashes}))
		case ManyTxBlock:
			for j := 0; j < ManyTxCount; j++ {
				b.AddTx(dyn(common.Address{0xbb, byte(j)}, nil, 21000))
			}
		case 4: // no transactions
		}
	})
	chain.Blocks = append([]*types.Block{g.ToBlock()}, blocks...)
	chain.Receipts = append([]types.Receipts{nil}, receipts...)
	for n, b := range chain.Blocks[1:] {
		var blobFee *big.Int
		if b.ExcessBlobGas() != nil {
			blobFee = eip4844.CalcBlobFee(cfg, b.Header())
		}
		if err := chain.Receipts[n+1].DeriveFields(cfg, b.Hash(), b.NumberU64(), b.Time(), b.BaseFee(), blobFee, b.Transactions()); err != nil {
			return nil, fmt.Errorf("l1 block %d receipts: %w", n+1, err)
		}
		for _, r := range chain.Receipts[n+1] {
			if r.Logs == nil {
				r.Logs = []*types.Log{} // nodes send [] for no logs
			}
		}
	}
	for i := range chain.Blobs {
		ref := &chain.Blobs[i]
		for j, h := range chain.Blocks[ref.Block].Transactions()[3].BlobHashes() {
			if h == ref.VersionedHash {
				ref.Index = j
			}
		}
		if got, want := chain.Blocks[ref.Block].Time(), uint64(L1GenesisTime+SecondsPerSlot*ref.Slot); got != want {
			return nil, fmt.Errorf("l1 block %d at %d, want %d", ref.Block, got, want)
		}
	}
	return chain, nil
}

// L2Blocks is how many blocks the test L2 has after genesis: through Jovian (block 15) and one more.
const L2Blocks = 16

// L2 returns the test L2 builder with L2Blocks blocks, made once per test binary. Do not add blocks.
var L2 = sync.OnceValues(func() (*devnet.L2Builder, error) {
	b, err := devnet.NewL2Builder()
	if err != nil {
		return nil, err
	}
	return b, b.Build(L2Blocks)
})
