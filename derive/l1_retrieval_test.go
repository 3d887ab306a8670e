package derive

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/log"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// fakeL1 serves a fixed chain of L1 blocks.
type fakeL1 struct {
	headers  map[common.Hash]*types.Header
	txs      map[common.Hash]types.Transactions
	receipts map[common.Hash]types.Receipts
	blobs    map[common.Hash]*kzg4844.Blob
}

func (f *fakeL1) HeaderByHash(h common.Hash) (*types.Header, error) {
	if hd, ok := f.headers[h]; ok {
		return hd, nil
	}
	return nil, fmt.Errorf("no header %s", h)
}

func (f *fakeL1) TransactionsByHash(h common.Hash) (*types.Header, types.Transactions, error) {
	hd, err := f.HeaderByHash(h)
	return hd, f.txs[h], err
}

func (f *fakeL1) ReceiptsByHash(h common.Hash) (*types.Header, types.Receipts, error) {
	hd, err := f.HeaderByHash(h)
	return hd, f.receipts[h], err
}

func (f *fakeL1) GetBlob(_, _ uint64, h common.Hash) (*kzg4844.Blob, error) {
	if b, ok := f.blobs[h]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no blob %s", h)
}

// chainOf makes n linked L1 headers 12 s apart, starting at time t0.
func (f *fakeL1) chainOf(n int, t0 uint64) []*types.Header {
	var out []*types.Header
	parent := common.Hash{}
	for i := 0; i < n; i++ {
		h := &types.Header{ParentHash: parent, Number: big.NewInt(int64(i)), Time: t0 + uint64(i)*12, Difficulty: common.Big0}
		f.headers[h.Hash()] = h
		parent = h.Hash()
		out = append(out, h)
	}
	return out
}

func newFakeL1() *fakeL1 {
	return &fakeL1{headers: map[common.Hash]*types.Header{}, txs: map[common.Hash]types.Transactions{},
		receipts: map[common.Hash]types.Receipts{}, blobs: map[common.Hash]*kzg4844.Blob{}}
}

var (
	inbox    = common.HexToAddress("0xff00000000000000000000000000000000000901")
	l1Chain  = big.NewInt(900)
	batcherK = mustKey("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	otherK   = mustKey("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
)

func mustKey(h string) *ecdsa.PrivateKey { k, _ := crypto.HexToECDSA(h); return k }

func calldataTx(key *ecdsa.PrivateKey, nonce uint64, to common.Address, data []byte) *types.Transaction {
	return types.MustSignNewTx(key, types.LatestSignerForChainID(l1Chain), &types.DynamicFeeTx{
		ChainID: l1Chain, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1), Gas: 100000, To: &to, Data: data})
}

func blobTx(t *testing.T, f *fakeL1, key *ecdsa.PrivateKey, nonce uint64, payloads ...[]byte) *types.Transaction {
	var hashes []common.Hash
	for _, p := range payloads {
		var blob *kzg4844.Blob
		if p == nil {
			blob = &kzg4844.Blob{0, 1} // version 1: does not decode
		} else {
			var err error
			blob, err = EncodeBlob(p)
			require.NoError(t, err)
		}
		c, err := kzg4844.BlobToCommitment(blob)
		require.NoError(t, err)
		h := kzg4844.CalcBlobHashV1(sha256New(), &c)
		f.blobs[h] = blob
		hashes = append(hashes, h)
	}
	return types.MustSignNewTx(key, types.LatestSignerForChainID(l1Chain), &types.BlobTx{
		ChainID: uint256.MustFromBig(l1Chain), Nonce: nonce, GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(1),
		Gas: 100000, To: inbox, Data: []byte("ignored calldata"), BlobFeeCap: uint256.NewInt(1), BlobHashes: hashes})
}

func TestBatcherData(t *testing.T) {
	zero := uint64(0)
	batcher := crypto.PubkeyToAddress(batcherK.PublicKey)
	cfg := &rollup.Config{L1ChainID: l1Chain, BatchInboxAddress: inbox, EcotoneTime: &zero}
	f := newFakeL1()
	h := f.chainOf(1, 1000)[0]
	f.txs[h.Hash()] = types.Transactions{
		calldataTx(batcherK, 0, inbox, []byte("first")),
		calldataTx(otherK, 0, inbox, []byte("not the batcher")),
		calldataTx(batcherK, 1, common.Address{1}, []byte("not to the inbox")),
		blobTx(t, f, batcherK, 2, []byte("blob one"), nil, []byte("blob three")),
		calldataTx(batcherK, 3, inbox, []byte("last")),
	}
	data, err := BatcherData(cfg, f, f, L1BlockRefOf(h), batcher, nil, log.New())
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("first"), []byte("blob one"), []byte("blob three"), []byte("last")}, data,
		"batcher data in block order; the blob tx's calldata and its undecodable blob are skipped")

	t.Run("before Ecotone a blob transaction counts by its calldata", func(t *testing.T) {
		pre := *cfg
		pre.EcotoneTime = nil
		data, err := BatcherData(&pre, f, f, L1BlockRefOf(h), batcher, nil, log.New())
		require.NoError(t, err)
		require.Equal(t, []byte("ignored calldata"), data[1])
	})
	t.Run("a signer that cannot recover a sender stops derivation; a bad signature skips", func(t *testing.T) {
		inner := types.LatestSignerForChainID(l1Chain)
		_, err := BatcherData(cfg, f, f, L1BlockRefOf(h), batcher, failingSigner{inner, fmt.Errorf("%w: no data", ErrCritical)}, log.New())
		require.ErrorIs(t, err, ErrCritical)
		data, err := BatcherData(cfg, f, f, L1BlockRefOf(h), batcher, failingSigner{inner, types.ErrInvalidSig}, log.New())
		require.NoError(t, err)
		require.Empty(t, data)
	})
	t.Run("a missing blob is an error, not an empty block", func(t *testing.T) {
		g := newFakeL1()
		h := g.chainOf(1, 1000)[0]
		g.txs[h.Hash()] = types.Transactions{blobTx(t, g, batcherK, 0, []byte("x"))}
		g.blobs = map[common.Hash]*kzg4844.Blob{}
		_, err := BatcherData(cfg, g, g, L1BlockRefOf(h), batcher, nil, log.New())
		require.ErrorContains(t, err, "no blob")
	})
}

func TestL1TraversalAndChain(t *testing.T) {
	f := newFakeL1()
	headers := f.chainOf(5, 1000)
	cfg := &rollup.Config{L1ChainID: l1Chain, L1SystemConfigAddress: common.Address{0x5c}}
	chain, err := NewL1Chain(f, headers[4].Hash())
	require.NoError(t, err)
	ref, err := chain.BlockByNumber(1)
	require.NoError(t, err)
	require.Equal(t, headers[1].Hash(), ref.Hash, "found walking back from the head")
	_, err = chain.BlockByNumber(5)
	require.ErrorIs(t, err, ErrL1NotFound)
	_, err = chain.BlockByHash(rollup.BlockID{Hash: common.Hash{9}, Number: 2})
	require.ErrorIs(t, err, ErrReset)

	tr := NewL1Traversal(cfg, f, chain)
	tr.Reset(L1BlockRefOf(headers[2]), rollup.SystemConfig{GasLimit: 1})
	require.NoError(t, tr.Advance())
	require.NoError(t, tr.Advance())
	require.Equal(t, headers[4].Hash(), tr.Origin().Hash)
	require.ErrorIs(t, tr.Advance(), io.EOF, "the L1 head is the end")
}

func sha256New() hash.Hash { return sha256.New() }

// failingSigner fails every sender recovery with err.
type failingSigner struct {
	types.Signer
	err error
}

func (s failingSigner) Sender(*types.Transaction) (common.Address, error) {
	return common.Address{}, s.err
}
