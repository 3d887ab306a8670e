package l1

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// fakeHost is an in-memory host: a preimage store that records the hints and requests it receives in
// order and, like the oracle client, verifies keccak256 and sha256 answers against their key. Entries in
// lies are served instead of the store and unverified, to play a host (or oracle) that cheats.
type fakeHost struct {
	store map[[32]byte][]byte
	lies  map[[32]byte][]byte
	hints []string
	gets  [][32]byte
}

func newFakeHost() *fakeHost {
	return &fakeHost{store: make(map[[32]byte][]byte), lies: make(map[[32]byte][]byte)}
}

func (h *fakeHost) Hint(v preimage.Hint) error {
	h.hints = append(h.hints, v.Hint())
	return nil
}

func (h *fakeHost) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	h.gets = append(h.gets, k)
	if v, ok := h.lies[k]; ok {
		return v, nil
	}
	v, ok := h.store[k]
	if !ok {
		return nil, fmt.Errorf("no preimage for key %x", k)
	}
	if err := preimage.Verify(k, v); err != nil {
		return nil, err
	}
	return v, nil
}

// reset forgets the hints and requests seen so far.
func (h *fakeHost) reset() {
	h.hints, h.gets = nil, nil
}

func (h *fakeHost) putKeccak(b []byte) { h.put(preimage.KeccakKeyOf(b), b) }

// put stores a value under its key, as layout's functions hand them out.
func (h *fakeHost) put(k preimage.Key, v []byte) { h.store[k.PreimageKey()] = v }

// block is an L1 block as a host serves it.
type block struct {
	header   *types.Header
	txs      types.Transactions
	receipts types.Receipts
}

func (b *block) hash() common.Hash { return b.header.Hash() }

// putBlock stores a block's header and the nodes of its transaction and receipt tries, as a host lays
// them out.
func (h *fakeHost) putBlock(t testing.TB, b *block) {
	enc, err := rlp.EncodeToBytes(b.header)
	require.NoError(t, err)
	layout.Header(h.put, b.hash(), enc)
	require.NoError(t, layout.List(h.put, "transactions", encodeAll(t, b.txs), b.header.TxHash))
	require.NoError(t, layout.List(h.put, "receipts", encodeAll(t, b.receipts), b.header.ReceiptHash))
}

func encodeAll[T interface{ MarshalBinary() ([]byte, error) }](t testing.TB, items []T) [][]byte {
	out := make([][]byte, len(items))
	for i, it := range items {
		enc, err := it.MarshalBinary()
		require.NoError(t, err)
		out[i] = enc
	}
	return out
}

// putBlob stores a blob the way a host does on an l1-blob hint and returns its commitment and
// versioned hash.
func (h *fakeHost) putBlob(t testing.TB, blob *kzg4844.Blob) (kzg4844.Commitment, common.Hash) {
	commitment, err := kzg4844.BlobToCommitment(blob)
	require.NoError(t, err)
	layout.Blob(h.put, &commitment, blob)
	return commitment, common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &commitment))
}

// seededBlob is a random blob of canonical field elements.
func seededBlob(seed int64) *kzg4844.Blob {
	rng := rand.New(rand.NewSource(seed))
	blob := new(kzg4844.Blob)
	rng.Read(blob[:])
	for i := 0; i < len(blob); i += 32 {
		blob[i] &= 0x3f // below the BLS12-381 scalar modulus (0x73ed...)
	}
	return blob
}

var testKey = func() *ecdsa.PrivateKey {
	k, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	if err != nil {
		panic(err)
	}
	return k
}()

// testBlock builds a post-Prague L1 block with signed transactions of every type, and receipts with logs.
func testBlock(t testing.TB, number uint64, txCount int) *block {
	chainID := params.MainnetChainConfig.ChainID
	signer := types.NewPragueSigner(chainID)
	to := common.HexToAddress("0x1234567890123456789012345678901234567890")
	b := &block{}
	var cumulative uint64
	for i := 0; i < txCount; i++ {
		nonce := uint64(i)
		var data types.TxData
		switch i % 4 {
		case 0:
			data = &types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(int64(i))}
		case 1:
			data = &types.AccessListTx{ChainID: chainID, Nonce: nonce, GasPrice: big.NewInt(2e9), Gas: 50000, To: &to,
				AccessList: types.AccessList{{Address: to, StorageKeys: []common.Hash{{1}, {2}}}}, Data: []byte{1, 2, 3}}
		case 2:
			data = &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(3e9),
				Gas: 100000, To: &to, Data: bytes.Repeat([]byte{byte(i)}, 300)}
		default:
			data = &types.BlobTx{ChainID: uint256.MustFromBig(chainID), Nonce: nonce, GasTipCap: uint256.NewInt(1),
				GasFeeCap: uint256.NewInt(3e9), Gas: 21000, To: to, BlobFeeCap: uint256.NewInt(1e9),
				BlobHashes: []common.Hash{{0x01, byte(i)}, {0x01, byte(i), 1}}}
		}
		tx, err := types.SignNewTx(testKey, signer, data)
		require.NoError(t, err)
		b.txs = append(b.txs, tx)

		cumulative += 21000 + uint64(i)*100
		r := &types.Receipt{Type: tx.Type(), Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: cumulative}
		if i%3 == 1 {
			r.Status = types.ReceiptStatusFailed
		}
		for j := 0; j < i%3; j++ { // 0, 1 or 2 logs
			r.Logs = append(r.Logs, &types.Log{
				Address: common.Address{byte(i), byte(j)},
				Topics:  []common.Hash{{0xde, 0xad}, {byte(i), byte(j)}},
				Data:    bytes.Repeat([]byte{byte(j)}, 10*j),
			})
		}
		r.Bloom = types.CreateBloom(r)
		b.receipts = append(b.receipts, r)
	}
	txRoot := layout.ListRoot(encodeAll(t, b.txs))
	receiptRoot := layout.ListRoot(encodeAll(t, b.receipts))
	blobGasUsed, excess := uint64(2*131072), uint64(0)
	b.header = &types.Header{
		ParentHash:       common.Hash{0xaa, byte(number)},
		UncleHash:        types.EmptyUncleHash,
		Coinbase:         common.Address{0xc0},
		Root:             common.Hash{0xbb},
		TxHash:           txRoot,
		ReceiptHash:      receiptRoot,
		Bloom:            types.MergeBloom(b.receipts),
		Difficulty:       new(big.Int),
		Number:           new(big.Int).SetUint64(number),
		GasLimit:         36_000_000,
		GasUsed:          cumulative,
		Time:             1_750_000_000 + 12*number,
		Extra:            []byte("faultproof"),
		BaseFee:          big.NewInt(7),
		WithdrawalsHash:  &types.EmptyWithdrawalsHash,
		BlobGasUsed:      &blobGasUsed,
		ExcessBlobGas:    &excess,
		ParentBeaconRoot: &common.Hash{0xcc},
		RequestsHash:     &types.EmptyRequestsHash,
	}
	// The roots are those a block header commits to.
	require.Equal(t, types.DeriveSha(b.txs, newStackTrie()), txRoot)
	require.Equal(t, types.DeriveSha(b.receipts, newStackTrie()), receiptRoot)
	return b
}
