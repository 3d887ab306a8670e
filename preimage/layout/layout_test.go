package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// store collects what a layout function puts, checking that no key is given two values.
type store map[[32]byte][]byte

func (s store) put(t *testing.T) Put {
	return func(key preimage.Key, value []byte) {
		k := key.PreimageKey()
		if old, ok := s[k]; ok {
			require.Equal(t, old, value, "key %x laid out twice with different values", k)
		}
		s[k] = value
	}
}

// verified requires every keccak256 and sha256 value to match its key, as a host checks before serving.
func (s store) verified(t *testing.T) {
	for k, v := range s {
		require.NoError(t, preimage.Verify(k, v), "key %x", k)
	}
}

// testBlob is a blob of canonical field elements (each below the BLS12-381 modulus: top byte zero).
func testBlob(seed byte) *kzg4844.Blob {
	blob := new(kzg4844.Blob)
	for i := 0; i < len(blob); i += 32 {
		copy(blob[i+1:i+32], crypto.Keccak256([]byte{seed, byte(i >> 8), byte(i)}))
	}
	return blob
}

func TestHeaderAndOutput(t *testing.T) {
	s := store{}
	h := &types.Header{Number: common.Big1, Difficulty: common.Big0, GasLimit: 30_000_000}
	enc := []byte{0xc0}
	Header(s.put(t), h.Hash(), enc)
	require.Equal(t, enc, s[preimage.Keccak256Key(h.Hash()).PreimageKey()])

	out := &rollup.Output{StateRoot: common.Hash{1}, MessagePasserStorageRoot: common.Hash{2}, BlockHash: common.Hash{3}}
	s = store{}
	Output(s.put(t), out)
	require.Len(t, s, 1)
	got, err := rollup.UnmarshalOutput(s[preimage.Keccak256Key(out.Root()).PreimageKey()])
	require.NoError(t, err)
	require.Equal(t, out, got)
	s.verified(t)
}

// TestList: the nodes laid out are those a reader walks from the root (every one of 32 bytes or more,
// the root included), the root is the header's, and a wrong root lays out nothing.
func TestList(t *testing.T) {
	for _, n := range []int{1, 2, 16, 17, 130, 1000} {
		values := make([][]byte, n)
		for i := range values {
			values[i] = append(crypto.Keccak256([]byte{byte(i), byte(i >> 8)}), byte(i))[:1+i%33]
		}
		want := types.DeriveSha(rawList(values), trie.NewStackTrie(nil))
		require.Equal(t, want, ListRoot(values), "%d values", n)
		s := store{}
		require.NoError(t, List(s.put(t), "test list", values, want))
		s.verified(t)
		require.Contains(t, s, [32]byte(preimage.Keccak256Key(want).PreimageKey()), "the root node, %d values", n)
		_, nodes := ListNodes(values)
		require.Len(t, s, len(nodes))

		s = store{}
		require.ErrorContains(t, List(s.put(t), "test list", values, common.Hash{1}), "test list: root")
		require.Empty(t, s)
	}
	s := store{}
	require.NoError(t, List(s.put(t), "empty", nil, types.EmptyRootHash))
	require.Empty(t, s)
	require.Equal(t, types.EmptyRootHash, ListRoot(nil))
	require.ErrorContains(t, List(s.put(t), "empty", nil, common.Hash{1}), "empty, but the header's root")
	require.Panics(t, func() { ListNodes([][]byte{{1}, {}}) }, "an empty value cannot be in a trie")
}

func TestFieldElementKeyGolden(t *testing.T) {
	// The zero blob commits to the point at infinity, 0xc0 followed by 47 zero bytes.
	var zero kzg4844.Blob
	commitment, err := kzg4844.BlobToCommitment(&zero)
	require.NoError(t, err)
	var want kzg4844.Commitment
	want[0] = 0xc0
	require.Equal(t, want, commitment)

	// z_1 = ω^BitReversed(1) = ω^2048 = -1 = BLS modulus - 1.
	z1, err := hex.DecodeString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000")
	require.NoError(t, err)
	in := append(append([]byte{}, commitment[:]...), z1...)
	require.Len(t, in, 80)

	key, gotIn := FieldElementKey(&commitment, 1)
	require.Equal(t, in, gotIn[:])
	require.Equal(t, preimage.BlobKey(crypto.Keccak256Hash(in)), key)
	pk := key.PreimageKey()
	require.Equal(t, "0548a8b457e7d906d8d22e959da25e1162d6f70cfaf8fc55338f898581217adb", hex.EncodeToString(pk[:]))
}

// TestBlob: the commitment under its versioned hash, 4096 field elements under their keys, each key's
// 80-byte preimage (commitment ++ z_i) under its keccak256 key.
func TestBlob(t *testing.T) {
	blob := testBlob(7)
	c, err := kzg4844.BlobToCommitment(blob)
	require.NoError(t, err)
	s := store{}
	Blob(s.put(t), &c, blob)
	s.verified(t)
	require.Len(t, s, 1+2*params.BlobTxFieldElementsPerBlob)
	vh := kzg4844.CalcBlobHashV1(sha256.New(), &c)
	require.Equal(t, c[:], s[preimage.Sha256Key(vh).PreimageKey()])
	for _, i := range []int{0, 1, 4095} {
		key, in := FieldElementKey(&c, i)
		require.Equal(t, blob[i*32:(i+1)*32], s[key.PreimageKey()], "element %d", i)
		require.Equal(t, in[:], s[preimage.KeccakKeyOf(in[:]).PreimageKey()])
		require.Equal(t, c[:], in[:48])
		z := RootOfUnity(i)
		require.Equal(t, z[:], in[48:])
		require.Equal(t, preimage.BlobKey(crypto.Keccak256Hash(in[:])), key)
	}
}

// TestPrecompile: the call is op-program's (address ++ gas ++ input), stored under its keccak256 key, and
// the answer (status ++ return data) under the precompile key of the same hash.
func TestPrecompile(t *testing.T) {
	addr := common.BytesToAddress([]byte{0x0a})
	call := PrecompileCall(addr, 50_000, []byte{7, 8, 9})
	require.Equal(t, common.FromHex("0x000000000000000000000000000000000000000a000000000000c350070809"), call)
	for _, tc := range []struct {
		ok     bool
		result []byte
		answer []byte
	}{
		{true, []byte{1, 2}, []byte{1, 1, 2}},
		{true, nil, []byte{1}},
		{false, []byte{1, 2}, []byte{0}},
	} {
		answer := PrecompileAnswer(tc.ok, tc.result)
		require.Equal(t, tc.answer, answer)
		s := store{}
		Precompile(s.put(t), call, answer)
		s.verified(t)
		h := crypto.Keccak256Hash(call)
		require.Equal(t, call, s[preimage.Keccak256Key(h).PreimageKey()])
		require.Equal(t, answer, s[preimage.PrecompileKey(h).PreimageKey()])
	}
}

func BenchmarkListNodes(b *testing.B) {
	vals := make([][]byte, 1000)
	for i := range vals {
		vals[i] = make([]byte, 1+i*37%4096)
		vals[i][0] = byte(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		ListNodes(vals)
	}
}

// TestBlockAndReceipts: a block's header under its hash and its transactions' and receipts' list tries,
// each value as the trie holds it (a deposit receipt before Canyon without its nonce), checked against
// the header's roots.
func TestBlockAndReceipts(t *testing.T) {
	to := common.Address{9}
	txs := types.Transactions{
		types.NewTx(&types.DepositTx{SourceHash: common.Hash{1}, From: common.Address{2}, To: &to, Gas: 1_000_000, Data: []byte{1, 2, 3}}),
		types.NewTx(&types.DynamicFeeTx{ChainID: common.Big1, Nonce: 1, GasTipCap: common.Big1, GasFeeCap: common.Big2, Gas: 21000, To: &to}),
	}
	nonce := uint64(7)
	receipts := types.Receipts{
		{Type: types.DepositTxType, Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: 50_000, DepositNonce: &nonce,
			Logs: []*types.Log{{Address: to, Topics: []common.Hash{{3}}, Data: []byte{4}}}},
		{Type: types.DynamicFeeTxType, Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: 71_000, Logs: []*types.Log{}},
	}
	for _, r := range receipts {
		r.Bloom = types.CreateBloom(r)
	}
	values := ReceiptValues(receipts)
	withNonce, err := receipts[0].MarshalBinary()
	require.NoError(t, err)
	require.NotEqual(t, withNonce, values[0], "a deposit receipt without a receipt version is hashed without its nonce")
	second, err := receipts[1].MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, second, values[1])

	txValues, err := TransactionValues(txs)
	require.NoError(t, err)
	header := &types.Header{Number: big.NewInt(5), Difficulty: common.Big0, GasLimit: 30_000_000,
		TxHash: ListRoot(txValues), ReceiptHash: ListRoot(values)}
	block := types.NewBlockWithHeader(header).WithBody(types.Body{Transactions: txs})
	require.Equal(t, types.DeriveSha(txs, trie.NewStackTrie(nil)), block.TxHash())
	require.Equal(t, types.DeriveSha(receipts, trie.NewStackTrie(nil)), block.ReceiptHash())

	s := store{}
	require.NoError(t, Block(s.put(t), block))
	require.NoError(t, Receipts(s.put(t), block.Header(), receipts))
	s.verified(t)
	enc, err := rlp.EncodeToBytes(block.Header())
	require.NoError(t, err)
	require.Equal(t, enc, s[preimage.Keccak256Key(block.Hash()).PreimageKey()])
	for _, root := range []common.Hash{block.TxHash(), block.ReceiptHash()} {
		require.Contains(t, s, [32]byte(preimage.Keccak256Key(root).PreimageKey()), "the root node of %s", root)
	}
	_, txNodes := ListNodes(txValues)
	_, receiptNodes := ListNodes(values)
	require.Len(t, s, 1+len(txNodes)+len(receiptNodes))

	// Receipts that are not the block's, one of a type op-geth cannot encode among them, lay out nothing.
	s = store{}
	require.ErrorContains(t, Receipts(s.put(t), block.Header(), receipts[1:]), "root")
	unknown := types.Receipts{receipts[0], {Type: 0x42, Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: 71_000}}
	require.Equal(t, []byte{0x42}, ReceiptValues(unknown)[1], "a type op-geth cannot encode")
	require.ErrorContains(t, Receipts(s.put(t), block.Header(), unknown), "root")
	require.Empty(t, s)
	forged := types.NewBlockWithHeader(types.CopyHeader(header)).WithBody(types.Body{Transactions: txs[:1]})
	require.ErrorContains(t, Block(s.put(t), forged), "transactions of block 5")
	require.Empty(t, s)
}
