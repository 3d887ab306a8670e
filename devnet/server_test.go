package devnet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/preimage"
)

var sharedServer = sync.OnceValues(func() (*devnet.Server, error) {
	d, err := shared()
	if err != nil {
		return nil, err
	}
	return devnet.Serve(context.Background(), d, "127.0.0.1:0")
})

// testServer serves the default devnet, started once for all tests (and never stopped: the test binary
// exits).
func testServer(t *testing.T) (*devnet.Devnet, *devnet.Server) {
	t.Helper()
	d := testDevnet(t)
	s, err := sharedServer()
	require.NoError(t, err)
	return d, s
}

func dialRPC(t *testing.T, url string) *rpc.Client {
	t.Helper()
	c, err := rpc.DialContext(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// chainCase is one of the two chains, for tests that run on both.
type chainCase struct {
	name    string
	url     string
	chainID uint64
	config  *params.ChainConfig
	head    uint64
	block   func(uint64) *types.Block
}

func chainCases(d *devnet.Devnet, s *devnet.Server) []chainCase {
	return []chainCase{
		{"l1", s.L1URL(), 900, d.L1ChainConfig(), d.L1Head().NumberU64(), d.L1Block},
		{"l2", s.L2URL(), 901, d.L2ChainConfig(), d.L2Head().NumberU64(), d.L2Block},
	}
}

func TestServerBlocksAndTransactions(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	for _, c := range chainCases(d, s) {
		t.Run(c.name, func(t *testing.T) {
			ec := ethclient.NewClient(dialRPC(t, c.url))
			id, err := ec.ChainID(ctx)
			require.NoError(t, err)
			require.Equal(t, c.chainID, id.Uint64())
			head, err := ec.BlockNumber(ctx)
			require.NoError(t, err)
			require.Equal(t, c.head, head)

			txs := 0
			for n := uint64(0); n <= c.head; n++ {
				want := c.block(n)
				// ethclient rebuilds the header from the JSON: its hash checks every header field.
				got, err := ec.BlockByNumber(ctx, new(big.Int).SetUint64(n))
				require.NoError(t, err, "block %d", n)
				require.Equal(t, want.Hash(), got.Hash(), "block %d", n)
				require.Equal(t, want.Size(), got.Size(), "block %d", n)
				require.Len(t, got.Transactions(), len(want.Transactions()), "block %d", n)
				require.Equal(t, types.DeriveSha(want.Transactions(), trie.NewStackTrie(nil)), types.DeriveSha(got.Transactions(), trie.NewStackTrie(nil)))
				require.Equal(t, len(want.Withdrawals()), len(got.Withdrawals()))
				signer := types.MakeSigner(c.config, want.Number(), want.Time())
				for i, tx := range want.Transactions() {
					require.Equal(t, tx.Hash(), got.Transactions()[i].Hash())
					wantFrom, err := types.Sender(signer, tx)
					require.NoError(t, err)
					// The sender the server sent with the block.
					from, err := ec.TransactionSender(ctx, got.Transactions()[i], want.Hash(), uint(i))
					require.NoError(t, err)
					require.Equal(t, wantFrom, from, "block %d transaction %d", n, i)
					txs++
				}
				h, err := ec.HeaderByHash(ctx, want.Hash())
				require.NoError(t, err)
				require.Equal(t, want.Hash(), h.Hash())
			}
			require.Positive(t, txs)

			// Tags: earliest is genesis, every other tag the head.
			for tag, want := range map[rpc.BlockNumber]uint64{
				rpc.EarliestBlockNumber: 0, rpc.LatestBlockNumber: c.head, rpc.SafeBlockNumber: c.head,
				rpc.FinalizedBlockNumber: c.head, rpc.PendingBlockNumber: c.head,
			} {
				h, err := ec.HeaderByNumber(ctx, big.NewInt(tag.Int64()))
				require.NoError(t, err, tag)
				require.Equal(t, c.block(want).Hash(), h.Hash(), tag)
			}

			// A transaction by hash, with its block and sender.
			last := c.block(c.head)
			tx := last.Transactions()[len(last.Transactions())-1]
			var raw map[string]any
			require.NoError(t, ec.Client().CallContext(ctx, &raw, "eth_getTransactionByHash", tx.Hash()))
			require.Equal(t, last.Hash().Hex(), raw["blockHash"])
			require.Equal(t, hexutil.EncodeUint64(c.head), raw["blockNumber"])
			byHash, pending, err := ec.TransactionByHash(ctx, tx.Hash())
			require.NoError(t, err)
			require.False(t, pending)
			require.Equal(t, tx.Hash(), byHash.Hash())

			// Without full transactions: their hashes.
			var hashes struct {
				Transactions []common.Hash `json:"transactions"`
				Uncles       []common.Hash `json:"uncles"`
			}
			require.NoError(t, ec.Client().CallContext(ctx, &hashes, "eth_getBlockByHash", last.Hash(), false))
			require.Len(t, hashes.Transactions, len(last.Transactions()))
			require.Equal(t, tx.Hash(), hashes.Transactions[len(hashes.Transactions)-1])
			require.NotNil(t, hashes.Uncles)
		})
	}
}

// TestServerDepositTransactions checks the OP Stack fields of deposits: source hash, mint, the system flag
// only on system deposits, and the nonce and receipt version of the receipt.
func TestServerDepositTransactions(t *testing.T) {
	d, s := testServer(t)
	c := dialRPC(t, s.L2URL())
	ctx := context.Background()
	var deposits, user int
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		var blk struct {
			Transactions []map[string]json.RawMessage `json:"transactions"`
		}
		require.NoError(t, c.CallContext(ctx, &blk, "eth_getBlockByNumber", hexutil.EncodeUint64(n), true))
		var receipts []*types.Receipt
		require.NoError(t, c.CallContext(ctx, &receipts, "eth_getBlockReceipts", hexutil.EncodeUint64(n)))
		for i, tx := range blk.Transactions {
			if string(tx["type"]) != `"0x7e"` {
				user++
				require.NotContains(t, tx, "sourceHash")
				continue
			}
			deposits++
			require.Contains(t, tx, "sourceHash")
			require.Equal(t, `"0x0"`, string(tx["gasPrice"]))
			var nonce hexutil.Uint64
			require.NoError(t, json.Unmarshal(tx["nonce"], &nonce))
			if d.L2ChainConfig().IsRegolith(d.L2Block(n).Time()) {
				require.NotNil(t, receipts[i].DepositNonce)
				require.Equal(t, *receipts[i].DepositNonce, uint64(nonce))
			} else {
				require.Nil(t, receipts[i].DepositNonce, "deposit nonces are recorded from Regolith")
				require.Zero(t, nonce)
			}
			// Only system transactions show the flag: the L1 info deposit before Regolith.
			_, hasFlag := tx["isSystemTx"]
			require.Equal(t, i == 0 && !d.L2ChainConfig().IsRegolith(d.L2Block(n).Time()), hasFlag, "block %d deposit %d", n, i)
			if d.L2ChainConfig().IsCanyon(d.L2Block(n).Time()) {
				require.Contains(t, tx, "depositReceiptVersion")
			} else {
				require.NotContains(t, tx, "depositReceiptVersion")
			}
		}
	}
	require.Positive(t, deposits)
	require.Positive(t, user)
}

func encodeReceipts(t *testing.T, rs []*types.Receipt) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		enc, err := r.MarshalBinary()
		require.NoError(t, err)
		out[i] = enc
	}
	return out
}

func TestServerReceipts(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	for _, c := range chainCases(d, s) {
		t.Run(c.name, func(t *testing.T) {
			ec := ethclient.NewClient(dialRPC(t, c.url))
			for n := uint64(0); n <= c.head; n++ {
				b := c.block(n)
				got, err := ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithHash(b.Hash(), false))
				require.NoError(t, err)
				require.NotNil(t, got, "block %d: an empty list, not null", n)
				require.Equal(t, b.ReceiptHash(), types.DeriveSha(types.Receipts(got), trie.NewStackTrie(nil)), "block %d", n)
				if c.name == "l1" {
					require.Equal(t, encodeReceipts(t, d.L1Receipts(n)), encodeReceipts(t, got), "block %d", n)
				}
				var raw []hexutil.Bytes
				require.NoError(t, ec.Client().CallContext(ctx, &raw, "debug_getRawReceipts", hexutil.EncodeUint64(n)))
				require.Len(t, raw, len(got))
				for i, r := range got {
					tx := b.Transactions()[i]
					require.Equal(t, tx.Hash(), r.TxHash)
					require.Equal(t, b.Hash(), r.BlockHash)
					require.Equal(t, n, r.BlockNumber.Uint64())
					require.Equal(t, uint(i), r.TransactionIndex)
					require.NotNil(t, r.EffectiveGasPrice)
					for _, l := range r.Logs {
						require.Equal(t, tx.Hash(), l.TxHash)
						require.Equal(t, b.Hash(), l.BlockHash)
					}
					enc := encodeReceipts(t, []*types.Receipt{r})[0]
					require.Equal(t, []byte(raw[i]), enc)
					byHash, err := ec.TransactionReceipt(ctx, tx.Hash())
					require.NoError(t, err)
					require.Equal(t, enc, encodeReceipts(t, []*types.Receipt{byHash})[0])
					if c.name == "l2" {
						regolith := d.L2ChainConfig().IsRegolith(b.Time())
						require.Equal(t, tx.IsDepositTx() && regolith, r.DepositNonce != nil)
						require.Equal(t, !tx.IsDepositTx(), r.L1Fee != nil, "block %d transaction %d: L1 fee", n, i)
					}
				}
			}

			// geth's extra fields: sender, recipient, status.
			last := c.block(c.head)
			var rec map[string]any
			require.NoError(t, ec.Client().CallContext(ctx, &rec, "eth_getTransactionReceipt", last.Transactions()[0].Hash()))
			for _, k := range []string{"from", "to", "status", "contractAddress", "logs", "effectiveGasPrice", "type"} {
				require.Contains(t, rec, k)
			}
			require.NotContains(t, rec, "root")
		})
	}
}

// TestServerBlobTransactions checks the L1 blob transactions: no sidecar in the block, blob fields in
// the receipt.
func TestServerBlobTransactions(t *testing.T) {
	d, s := testServer(t)
	c := dialRPC(t, s.L1URL())
	n := d.BlobBlocks()[0]
	var blk struct {
		Transactions []map[string]json.RawMessage `json:"transactions"`
	}
	require.NoError(t, c.CallContext(context.Background(), &blk, "eth_getBlockByNumber", hexutil.EncodeUint64(n), true))
	found := false
	for i, tx := range blk.Transactions {
		if string(tx["type"]) != `"0x3"` {
			continue
		}
		found = true
		require.Contains(t, tx, "blobVersionedHashes")
		require.NotContains(t, tx, "blobs")
		var r map[string]any
		require.NoError(t, c.CallContext(context.Background(), &r, "eth_getTransactionReceipt", d.L1Block(n).Transactions()[i].Hash()))
		require.Contains(t, r, "blobGasUsed")
		require.Contains(t, r, "blobGasPrice")
	}
	require.True(t, found)
}

// TestServerHostClients runs the host's own clients, which check every answer (header hashes, transaction
// and receipt roots, proofs, blobs), over every block, with each way of fetching receipts.
func TestServerHostClients(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	for _, kind := range []sources.RPCKind{sources.RPCKindStandard, sources.RPCKindDebugGeth, sources.RPCKindBasic} {
		l1 := sources.NewL1Client(dialRPC(t, s.L1URL()), kind, sources.Options{})
		for n := uint64(0); n <= d.L1Head().NumberU64(); n++ {
			h := d.L1Block(n).Hash()
			b, err := l1.BlockByHash(ctx, h)
			require.NoError(t, err, "%s: L1 block %d", kind, n)
			require.Len(t, b.Transactions, len(d.L1Block(n).Transactions()))
			r, err := l1.ReceiptsByHash(ctx, h)
			require.NoError(t, err, "%s: L1 receipts %d", kind, n)
			require.Len(t, r.Encoded, len(d.L1Receipts(n)))
		}
	}
	l2 := sources.NewL2Client(dialRPC(t, s.L2URL()), sources.Options{})
	for n := uint64(0); n <= d.L2Head().NumberU64(); n++ {
		h := d.L2Block(n).Hash()
		_, err := l2.BlockByHash(ctx, h)
		require.NoError(t, err, "L2 block %d", n)
		_, err = l2.ReceiptsByHash(ctx, h)
		require.NoError(t, err, "L2 receipts %d", n)
		out, _, err := l2.OutputAt(ctx, h)
		require.NoError(t, err, "L2 output %d", n)
		require.Equal(t, d.OutputRoot(n), common.Hash(out.Root()), "L2 output %d", n)
	}
	beacon, err := sources.NewBeaconClient(s.BeaconURL(), sources.Options{})
	require.NoError(t, err)
	for _, n := range d.BlobBlocks() {
		for _, tx := range d.L1Block(n).Transactions() {
			for _, vh := range tx.BlobHashes() {
				blob, err := beacon.BlobByHash(ctx, d.L1Block(n).Time(), vh)
				require.NoError(t, err, "blob %s of L1 block %d", vh, n)
				want, _, _, _ := d.Blob(vh)
				require.Equal(t, want, blob.Blob)
			}
		}
	}
}

func proofDB(nodes []hexutil.Bytes) *memorydb.Database {
	db := memorydb.New()
	for _, n := range nodes {
		_ = db.Put(crypto.Keccak256(n), n)
	}
	return db
}

// verifyProof checks an eth_getProof answer against a state root and the node's other state methods.
func verifyProof(t *testing.T, c *rpc.Client, root common.Hash, block common.Hash, addr common.Address, slots []common.Hash, p *wire.AccountProof) {
	t.Helper()
	ctx := context.Background()
	bh := rpc.BlockNumberOrHashWithHash(block, false)
	require.Equal(t, addr, p.Address)
	val, err := trie.VerifyProof(root, crypto.Keccak256(addr[:]), proofDB(p.AccountProof))
	require.NoError(t, err, "account %s", addr)
	var balance hexutil.Big
	require.NoError(t, c.CallContext(ctx, &balance, "eth_getBalance", addr, bh))
	var nonce hexutil.Uint64
	require.NoError(t, c.CallContext(ctx, &nonce, "eth_getTransactionCount", addr, bh))
	var code hexutil.Bytes
	require.NoError(t, c.CallContext(ctx, &code, "eth_getCode", addr, bh))
	require.Equal(t, balance.ToInt(), p.Balance.ToInt())
	require.Equal(t, nonce, p.Nonce)
	if len(val) == 0 {
		require.Equal(t, types.EmptyCodeHash, p.CodeHash)
		require.Equal(t, types.EmptyRootHash, p.StorageHash)
		require.Zero(t, p.Balance.ToInt().Sign())
	} else {
		var acc types.StateAccount
		require.NoError(t, rlp.DecodeBytes(val, &acc))
		require.Equal(t, acc.Balance.ToBig(), p.Balance.ToInt())
		require.Equal(t, acc.Nonce, uint64(p.Nonce))
		require.Equal(t, common.BytesToHash(acc.CodeHash), p.CodeHash)
		require.Equal(t, acc.Root, p.StorageHash)
	}
	require.Equal(t, crypto.Keccak256Hash(code), p.CodeHash)
	require.Len(t, p.StorageProof, len(slots))
	for i, sp := range p.StorageProof {
		var stored hexutil.Bytes
		require.NoError(t, c.CallContext(ctx, &stored, "eth_getStorageAt", addr, slots[i].Hex(), bh))
		require.Zero(t, new(big.Int).SetBytes(stored).Cmp(sp.Value.ToInt()), "slot %s", slots[i])
		if p.StorageHash == types.EmptyRootHash {
			require.Empty(t, sp.Proof)
			require.Zero(t, sp.Value.ToInt().Sign())
			continue
		}
		enc, err := trie.VerifyProof(p.StorageHash, crypto.Keccak256(slots[i][:]), proofDB(sp.Proof))
		require.NoError(t, err, "slot %s of %s", slots[i], addr)
		got := new(big.Int)
		if len(enc) > 0 {
			var content []byte
			require.NoError(t, rlp.DecodeBytes(enc, &content))
			got.SetBytes(content)
		}
		require.Zero(t, got.Cmp(sp.Value.ToInt()), "slot %s of %s", slots[i], addr)
	}
}

func TestServerProofs(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	storage := common.HexToAddress("0x5707a9e")
	slots := []common.Hash{{31: 1}, {31: 2}, {31: 9}, {31: 20}, crypto.Keccak256Hash([]byte("absent"))}
	keys := make([]string, len(slots))
	for i, sl := range slots {
		keys[i] = sl.Hex()
	}
	c := dialRPC(t, s.L2URL())
	accounts := []common.Address{
		params.OptimismL2ToL1MessagePasser, storage, common.HexToAddress("0x4200000000000000000000000000000000000011"),
		common.HexToAddress("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001"), common.HexToAddress("0x00000000000000000000000000000000000dead1"),
	}
	head := d.L2Head().NumberU64()
	for _, n := range []uint64{0, 1, 24, 50, head} {
		b := d.L2Block(n)
		for _, addr := range accounts {
			var p wire.AccountProof
			require.NoError(t, c.CallContext(ctx, &p, "eth_getProof", addr, keys, b.Hash()))
			verifyProof(t, c, b.Root(), b.Hash(), addr, slots, &p)
			for i, sp := range p.StorageProof {
				require.Equal(t, keys[i], sp.Key, "a 32-byte key is echoed as given")
			}
		}
	}
	// The message passer's storage root is the output's.
	var p wire.AccountProof
	require.NoError(t, c.CallContext(ctx, &p, "eth_getProof", params.OptimismL2ToL1MessagePasser, []string{}, "latest"))
	require.Equal(t, d.Output(head).MessagePasserStorageRoot, p.StorageHash)
	require.Equal(t, d.L2Head().Root(), d.Output(head).StateRoot)

	// Short keys come back as quantities, as geth answers.
	require.NoError(t, c.CallContext(ctx, &p, "eth_getProof", storage, []string{"0x1", "0x02"}, "earliest"))
	require.Equal(t, "0x1", p.StorageProof[0].Key)
	require.Equal(t, "0x2", p.StorageProof[1].Key)
	require.Equal(t, int64(7), p.StorageProof[0].Value.ToInt().Int64(), "slot 1 of the storage contract holds 7 from genesis")

	// The host's client verifies proofs itself.
	l2 := sources.NewL2Client(c, sources.Options{})
	ap, err := l2.GetProof(ctx, storage, slots, d.L2Block(30).Hash())
	require.NoError(t, err)
	require.Len(t, ap.StorageProof, len(slots))

	// L1 has state and proofs too.
	l1 := dialRPC(t, s.L1URL())
	for _, addr := range []common.Address{devnet.DepositContractAddress, devnet.SystemConfigAddress, devnet.BatchInboxAddress} {
		var p wire.AccountProof
		require.NoError(t, l1.CallContext(ctx, &p, "eth_getProof", addr, keys, d.L1Head().Hash()))
		verifyProof(t, l1, d.L1Head().Root(), d.L1Head().Hash(), addr, slots, &p)
	}
}

func TestServerDBGet(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	c := dialRPC(t, s.L2URL())
	// Every node of a proof is in the database under its hash.
	var p wire.AccountProof
	require.NoError(t, c.CallContext(ctx, &p, "eth_getProof", common.HexToAddress("0x5707a9e"), []string{"0x1"}, d.L2Block(10).Hash()))
	nodes := append(append([]hexutil.Bytes{}, p.AccountProof...), p.StorageProof[0].Proof...)
	require.NotEmpty(t, nodes)
	for _, n := range nodes {
		var v hexutil.Bytes
		require.NoError(t, c.CallContext(ctx, &v, "debug_dbGet", crypto.Keccak256Hash(n).Hex()))
		require.Equal(t, n, v)
	}
	// Code under "c" ++ hash.
	var v hexutil.Bytes
	require.NoError(t, c.CallContext(ctx, &v, "debug_dbGet", hexutil.Encode(append([]byte{'c'}, p.CodeHash[:]...))))
	require.Equal(t, devnet.StorageCode, []byte(v))
	require.Equal(t, p.CodeHash, crypto.Keccak256Hash(v))

	// The host's client reads them the same way.
	l2 := sources.NewL2Client(c, sources.Options{})
	code, err := l2.CodeByHash(ctx, p.CodeHash)
	require.NoError(t, err)
	require.Equal(t, devnet.StorageCode, code)
	node, err := l2.NodeByHash(ctx, d.L2Head().Root())
	require.NoError(t, err)
	require.Equal(t, d.L2Head().Root(), crypto.Keccak256Hash(node))

	// What is not there is an error.
	err = c.CallContext(ctx, &v, "debug_dbGet", common.Hash{0x01}.Hex())
	require.ErrorContains(t, err, "not found")
	err = c.CallContext(ctx, &v, "debug_dbGet", "0xzz")
	require.Error(t, err)
}

func TestServerExecutionWitness(t *testing.T) {
	d, s := testServer(t)
	c := dialRPC(t, s.L2URL())
	n := uint64(25)
	var w stateless.ExtWitness
	require.NoError(t, c.CallContext(context.Background(), &w, "debug_executionWitness", hexutil.EncodeUint64(n)))
	require.NotEmpty(t, w.Headers)
	require.Equal(t, d.L2Block(n-1).Hash(), w.Headers[0].Hash())
	hashes := map[common.Hash]bool{}
	for _, node := range w.State {
		hashes[crypto.Keccak256Hash(node)] = true
	}
	require.True(t, hashes[d.L2Block(n-1).Root()], "the witness holds the parent's state root node")
}

func TestServerOutputAtBlock(t *testing.T) {
	d, s := testServer(t)
	c := dialRPC(t, s.L2URL())
	ctx := context.Background()
	head := d.L2Head().NumberU64()
	for n := uint64(0); n <= head; n++ {
		var out devnet.OutputResponse
		require.NoError(t, c.CallContext(ctx, &out, "optimism_outputAtBlock", hexutil.Uint64(n)))
		require.Equal(t, d.OutputRoot(n), out.OutputRoot, "block %d", n)
		require.Equal(t, common.Hash{}, out.Version)
		require.Equal(t, d.Output(n).StateRoot, out.StateRoot)
		require.Equal(t, d.Output(n).MessagePasserStorageRoot, out.WithdrawalStorageRoot)
		b := d.L2Block(n)
		require.Equal(t, devnet.L2BlockRef{
			Hash: b.Hash(), Number: n, ParentHash: b.ParentHash(), Time: b.Time(),
			L1Origin: out.BlockRef.L1Origin, SequenceNumber: out.BlockRef.SequenceNumber,
		}, out.BlockRef)
		if n > 0 {
			info := d.Batch(n)
			require.Equal(t, d.L1Block(info.L1Origin).Hash(), out.BlockRef.L1Origin.Hash, "block %d", n)
			require.Equal(t, info.L1Origin, out.BlockRef.L1Origin.Number)
			require.Equal(t, info.SeqNumber, out.BlockRef.SequenceNumber)
		} else {
			require.Equal(t, d.Rollup().Genesis.L1, out.BlockRef.L1Origin)
		}
		require.Equal(t, d.L2Head().Hash(), out.Status.SafeL2.Hash)
	}

	// op-node's JSON: plain numbers in block references, snake_case sync status.
	var raw map[string]json.RawMessage
	require.NoError(t, c.CallContext(ctx, &raw, "optimism_outputAtBlock", hexutil.Uint64(3)))
	require.Contains(t, string(raw["blockRef"]), `"number":3,`)
	require.Equal(t, `"`+common.Hash{}.Hex()+`"`, string(raw["version"]))

	var st devnet.SyncStatus
	require.NoError(t, c.CallContext(ctx, &st, "optimism_syncStatus"))
	for _, ref := range []devnet.L2BlockRef{st.UnsafeL2, st.SafeL2, st.FinalizedL2, st.PendingSafeL2, st.CrossUnsafeL2, st.LocalSafeL2} {
		require.Equal(t, d.L2Head().Hash(), ref.Hash)
		require.Equal(t, head, ref.Number)
	}
	for _, ref := range []devnet.L1BlockRef{st.CurrentL1, st.CurrentL1Finalized, st.HeadL1, st.SafeL1, st.FinalizedL1} {
		require.Equal(t, d.L1Head().Hash(), ref.Hash)
	}
	// Every L2 block's batch is on L1 by the L1 head, and the head's L1 origin is before it.
	require.Less(t, st.SafeL2.L1Origin.Number, st.HeadL1.Number)

	var cfg map[string]any
	require.NoError(t, c.CallContext(ctx, &cfg, "optimism_rollupConfig"))
	require.Contains(t, cfg, "genesis")

	err := c.CallContext(ctx, &raw, "optimism_outputAtBlock", hexutil.Uint64(head+1))
	require.ErrorContains(t, err, "not found")
}

// beaconGet fetches a beacon API path and returns the status and body.
func beaconGet(t *testing.T, s *devnet.Server, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(s.BeaconURL() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func TestServerBeacon(t *testing.T) {
	d, s := testServer(t)
	status, body := beaconGet(t, s, "/eth/v1/beacon/genesis")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"genesis_time":"1700000000"`)
	status, body = beaconGet(t, s, "/eth/v1/config/spec")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"SECONDS_PER_SLOT":"12"`)

	blobs := 0
	for _, n := range d.BlobBlocks() {
		var hashes []common.Hash
		for _, tx := range d.L1Block(n).Transactions() {
			hashes = append(hashes, tx.BlobHashes()...)
		}
		require.NotEmpty(t, hashes)
		slot := (d.L1Block(n).Time() - devnet.L1GenesisTime) / devnet.SecondsPerSlot
		require.Equal(t, n, slot, "L1 block n is in slot n")
		status, body := beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/"+big.NewInt(int64(slot)).String())
		require.Equal(t, http.StatusOK, status, string(body))
		var sc wire.BlockResponse[[]wire.BlobSidecar]
		require.NoError(t, json.Unmarshal(body, &sc))
		require.Len(t, sc.Data, len(hashes))
		for i, side := range sc.Data {
			require.Equal(t, wire.QuotedUint64(i), side.Index)
			require.NoError(t, kzg4844.VerifyBlobProof(side.Blob, side.KZGCommitment, side.KZGProof), "L1 block %d blob %d", n, i)
			require.Equal(t, hashes[i], common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &side.KZGCommitment)))
			want, commitment, block, ok := d.Blob(hashes[i])
			require.True(t, ok)
			require.Equal(t, n, block)
			require.Equal(t, commitment, side.KZGCommitment)
			require.Equal(t, want, side.Blob)
			require.Equal(t, wire.QuotedUint64(slot), side.SignedBlockHeader.Message.Slot)
			require.Len(t, side.KZGCommitmentInclusionProof, 17)
			blobs++
		}

		// The blobs endpoint, filtered by versioned hash.
		last := hashes[len(hashes)-1]
		status, body = beaconGet(t, s, "/eth/v1/beacon/blobs/"+big.NewInt(int64(slot)).String()+"?versioned_hashes="+last.Hex())
		require.Equal(t, http.StatusOK, status)
		var bl struct {
			Data []*kzg4844.Blob `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &bl))
		require.Len(t, bl.Data, 1)
		want, _, _, _ := d.Blob(last)
		require.Equal(t, want, bl.Data[0])
		status, body = beaconGet(t, s, "/eth/v1/beacon/blobs/"+big.NewInt(int64(slot)).String())
		require.Equal(t, http.StatusOK, status)
		require.NoError(t, json.Unmarshal(body, &bl))
		require.Len(t, bl.Data, len(hashes))

		// Sidecars by index.
		status, body = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/"+big.NewInt(int64(slot)).String()+"?indices=0")
		require.Equal(t, http.StatusOK, status)
		require.NoError(t, json.Unmarshal(body, &sc))
		require.Len(t, sc.Data, 1)
	}
	require.Positive(t, blobs)

	// A slot without blobs has none; slots past the head and bad block IDs are errors.
	status, body = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/0")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"data":[]`)
	head := d.L1Head().NumberU64()
	status, body = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/"+big.NewInt(int64(head+1)).String())
	require.Equal(t, http.StatusNotFound, status)
	require.Contains(t, string(body), `"code":404`)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blobs/"+big.NewInt(int64(head+1)).String())
	require.Equal(t, http.StatusNotFound, status)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/latest-ish")
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/"+common.Hash{1}.Hex())
	require.Equal(t, http.StatusNotFound, status)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blobs/1?versioned_hashes=0x1234")
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/head")
	require.Equal(t, http.StatusOK, status)
	resp, err := http.Post(s.BeaconURL()+"/eth/v1/beacon/genesis", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// rpcPost sends a raw JSON-RPC body and returns the decoded answer.
func rpcPost(t *testing.T, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func errorCode(t *testing.T, answer map[string]any) float64 {
	t.Helper()
	e, ok := answer["error"].(map[string]any)
	require.True(t, ok, "an error answer: %v", answer)
	return e["code"].(float64)
}

func TestServerErrors(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	unknown := common.Hash{0xde, 0xad}
	for _, c := range chainCases(d, s) {
		t.Run(c.name, func(t *testing.T) {
			ec := ethclient.NewClient(dialRPC(t, c.url))
			_, err := ec.HeaderByHash(ctx, unknown)
			require.ErrorIs(t, err, ethereum.NotFound)
			_, err = ec.BlockByHash(ctx, unknown)
			require.ErrorIs(t, err, ethereum.NotFound)
			_, err = ec.BlockByNumber(ctx, new(big.Int).SetUint64(c.head+1))
			require.ErrorIs(t, err, ethereum.NotFound)
			_, err = ec.TransactionReceipt(ctx, unknown)
			require.ErrorIs(t, err, ethereum.NotFound)
			_, _, err = ec.TransactionByHash(ctx, unknown)
			require.ErrorIs(t, err, ethereum.NotFound)
			_, err = ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithHash(unknown, false))
			require.ErrorIs(t, err, ethereum.NotFound)
			var raw json.RawMessage
			require.NoError(t, ec.Client().CallContext(ctx, &raw, "eth_getBlockReceipts", hexutil.EncodeUint64(c.head+1)))
			require.Equal(t, "null", string(raw))
			err = ec.Client().CallContext(ctx, &raw, "eth_getProof", common.Address{1}, []string{}, unknown)
			require.ErrorContains(t, err, "header not found")
			_, err = ec.BalanceAtHash(ctx, common.Address{1}, unknown)
			require.ErrorContains(t, err, "header not found")
			err = ec.Client().CallContext(ctx, &raw, "debug_getRawReceipts", unknown)
			require.ErrorContains(t, err, "not found")

			// Malformed requests: JSON-RPC errors with the standard codes.
			for _, tc := range []struct {
				name, body string
				code       float64
			}{
				{"not JSON", `{"jsonrpc":"2.0","id":1,`, -32700},
				{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"eth_frobnicate","params":[]}`, -32601},
				{"short hash", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":["0x1234",false]}`, -32602},
				{"missing argument", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByHash","params":["` + unknown.Hex() + `"]}`, -32602},
				{"bad block number", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["tomorrow",false]}`, -32602},
				{"bad storage key", `{"jsonrpc":"2.0","id":1,"method":"eth_getProof","params":["0x0000000000000000000000000000000000000001",["0xnope"],"latest"]}`, -32602},
				{"long storage key", `{"jsonrpc":"2.0","id":1,"method":"eth_getProof","params":["0x0000000000000000000000000000000000000001",["0x` + strings.Repeat("11", 33) + `"],"latest"]}`, -32602},
				{"not an object", `"hello"`, -32600},
			} {
				status, answer := rpcPost(t, c.url, "application/json", tc.body)
				require.Equal(t, http.StatusOK, status, tc.name)
				require.Equal(t, tc.code, errorCode(t, answer), tc.name)
			}
			keys := make([]string, 1025)
			for i := range keys {
				keys[i] = "0x1"
			}
			err = ec.Client().CallContext(ctx, &raw, "eth_getProof", common.Address{1}, keys, "latest")
			var rpcErr rpc.Error
			require.True(t, errors.As(err, &rpcErr), "%v", err)
			require.Equal(t, -32602, rpcErr.ErrorCode())

			// A batch answers each element.
			resp, err := http.Post(c.url, "application/json", bytes.NewReader([]byte(
				`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":2,"method":"eth_nope","params":[]}]`)))
			require.NoError(t, err)
			var batch []map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&batch))
			resp.Body.Close()
			require.Len(t, batch, 2)
			require.Equal(t, hexutil.EncodeUint64(c.chainID), batch[0]["result"])
			require.Equal(t, float64(-32601), errorCode(t, batch[1]))

			// Not JSON at all.
			status, _ := rpcPost(t, c.url, "text/plain", `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`)
			require.Equal(t, http.StatusUnsupportedMediaType, status)
		})
	}
}

func TestServerLifecycle(t *testing.T) {
	d := testDevnet(t)
	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:0", "example.com:0", "127.0.0.1", "127.0.0.1:99999"} {
		require.Error(t, devnet.CheckAddr(addr), addr)
		_, err := devnet.Serve(context.Background(), d, addr)
		require.Error(t, err, addr)
	}
	require.NoError(t, devnet.CheckAddr("127.0.0.1:8545"))

	ctx, cancel := context.WithCancel(context.Background())
	s, err := devnet.Serve(ctx, d, "localhost:0")
	require.NoError(t, err)
	for _, u := range []string{s.L1URL(), s.L2URL(), s.BeaconURL()} {
		require.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), u)
	}
	ec := ethclient.NewClient(dialRPC(t, s.L2URL()))
	_, err = ec.ChainID(ctx)
	require.NoError(t, err)
	_, err = ec.HeaderByHash(ctx, d.L2Head().Hash())
	require.NoError(t, err)
	_, _ = beaconGet(t, s, "/eth/v1/beacon/genesis")
	got := s.Requests()
	require.Equal(t, uint64(1), got.L2["eth_chainId"])
	require.Equal(t, uint64(1), got.L2["eth_getBlockByHash"])
	require.Equal(t, uint64(1), got.Beacon["genesis"])
	require.Equal(t, uint64(3), got.Total())

	// Ending the context stops the servers.
	cancel()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the server did not stop with its context")
	}
	_, err = http.Get(s.BeaconURL() + "/eth/v1/beacon/genesis")
	require.Error(t, err)
	require.NoError(t, s.Close(), "closing again is harmless")
}

// witnessOracle answers the program's reads from a payload witness, falling back to all of the devnet's
// preimages, and counts the state nodes and code the witness lacked.
type witnessOracle struct {
	witness  map[[32]byte][]byte // by preimage key
	all      map[[32]byte][]byte
	lastHint string
	reads    int // state nodes and code read
	missing  int // of which not in the witness
}

func (o *witnessOracle) Hint(h preimage.Hint) error {
	o.lastHint, _, _ = strings.Cut(h.Hint(), " ")
	return nil
}

func (o *witnessOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	node := o.lastHint == preimage.HintL2StateNode || o.lastHint == preimage.HintL2Code
	if node {
		o.reads++
		if v, ok := o.witness[k]; ok {
			return v, nil
		}
		o.missing++
	}
	if v, ok := o.all[k]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("no preimage %x", k)
}

// TestServerExecutePayload checks debug_executePayload: for blocks of every era, op-geth's builder executes
// the block's attributes on its parent and the witness it returns lets the program's engine rebuild the
// same block, with every state node and code read but the few that prove an account absent (op-geth's
// witnesses leave those out) coming from the witness.
func TestServerExecutePayload(t *testing.T) {
	d, s := testServer(t)
	ctx := context.Background()
	l2c := sources.NewL2Client(dialRPC(t, s.L2URL()), sources.Options{})
	all := d.Preimages()
	for _, n := range []uint64{1, 3, 6, 12, 31, 61, d.L2Head().NumberU64()} {
		attrs := d.L2Attributes(n)
		require.NotNil(t, attrs, "block %d", n)
		raw, err := json.Marshal(attrs)
		require.NoError(t, err)
		parent := d.L2Block(n - 1)
		w, err := l2c.ExecutePayload(ctx, parent.Hash(), raw)
		require.NoError(t, err, "block %d", n)
		o := &witnessOracle{witness: map[[32]byte][]byte{}, all: all}
		for _, v := range append(w.State, w.Codes...) {
			o.witness[preimage.KeccakKeyOf(v).PreimageKey()] = v
		}
		require.Contains(t, o.witness, preimage.Keccak256Key(parent.Root()).PreimageKey(), "block %d: the witness holds the parent's state root", n)

		chain, err := l2.NewChain(d.Rollup(), d.L2ChainConfig(), l2.NewOracle(o, o), parent.Hash())
		require.NoError(t, err)
		res, err := chain.BuildBlock(parent.Hash(), attrs, vm.Config{})
		require.NoError(t, err, "block %d", n)
		require.Equal(t, d.L2Block(n).Hash(), res.Block.Hash(), "block %d rebuilt", n)
		require.Positive(t, o.reads)
		require.Less(t, o.missing*4, o.reads, "block %d: %d of %d state reads not in the witness", n, o.missing, o.reads)
		t.Logf("block %3d: %3d state nodes and codes in the witness, %3d read, %2d not in it", n, len(o.witness), o.reads, o.missing)
	}

	// Errors: an unknown parent, no attributes, a transaction that does not decode.
	var res json.RawMessage
	c := dialRPC(t, s.L2URL())
	err := c.CallContext(ctx, &res, "debug_executePayload", common.Hash{1}, d.L2Attributes(2))
	require.ErrorContains(t, err, "not found")
	err = c.CallContext(ctx, &res, "debug_executePayload", d.L2Block(1).Hash(), nil)
	require.ErrorContains(t, err, "missing payload attributes")
	bad := *d.L2Attributes(2)
	bad.Transactions = [][]byte{{0x7f, 0x01}}
	err = c.CallContext(ctx, &res, "debug_executePayload", d.L2Block(1).Hash(), &bad)
	require.ErrorContains(t, err, "transaction 0")
	// The L1 node is not an experimental node.
	err = dialRPC(t, s.L1URL()).CallContext(ctx, &res, "debug_executePayload", d.L1Block(1).Hash(), d.L2Attributes(2))
	require.ErrorContains(t, err, "does not exist")
}
