package mpt

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand"
	"sort"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// rawList presents opaque encodings as a types.DerivableList.
type rawList [][]byte

func (l rawList) Len() int                             { return len(l) }
func (l rawList) EncodeIndex(i int, buf *bytes.Buffer) { buf.Write(l[i]) }

// memOracle is a host's preimage store: it answers keccak keys from a map, checks every answer like the
// oracle client does, and counts requests.
type memOracle struct {
	store    map[[32]byte][]byte
	requests map[[32]byte]int
}

func newMemOracle() *memOracle {
	return &memOracle{store: make(map[[32]byte][]byte), requests: make(map[[32]byte]int)}
}

// putNodes stores nodes as a host lays them out (layout.List).
func (o *memOracle) putNodes(nodes [][]byte) {
	for _, n := range nodes {
		o.store[preimage.KeccakKeyOf(n).PreimageKey()] = n
	}
}

func (o *memOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	o.requests[k]++
	v, ok := o.store[k]
	if !ok {
		return nil, fmt.Errorf("no preimage for key %x", k)
	}
	if err := preimage.Verify(k, v); err != nil {
		return nil, err
	}
	return v, nil
}

// values returns n values whose sizes spread from 1 byte to 10 KiB, deterministically.
func values(n int, seed int64) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	out := make([][]byte, n)
	for i := range out {
		var size int
		switch i % 4 {
		case 0:
			size = 1 // embedded leaves
		case 1:
			size = 1 + rng.Intn(40) // around the 32-byte embedding threshold
		case 2:
			size = 10 * 1024
		default:
			size = 1 + rng.Intn(10*1024)
		}
		out[i] = make([]byte, size)
		rng.Read(out[i])
	}
	return out
}

func TestListRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 127, 128, 129, 1000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			vals := values(n, int64(n))
			root, nodes := layout.ListNodes(vals)
			require.Equal(t, types.DeriveSha(rawList(vals), trie.NewStackTrie(nil)), root)

			o := newMemOracle()
			o.putNodes(nodes)
			got, err := ReadList(root, o)
			require.NoError(t, err)
			require.Len(t, got, n)
			for i := range vals {
				require.Equal(t, vals[i], got[i], "value %d", i)
			}

			// Each node layout.ListNodes returned is fetched exactly once, and nothing else is asked for: embedded
			// nodes are never requested.
			require.Len(t, o.requests, len(nodes))
			for _, nd := range nodes {
				require.Equal(t, 1, o.requests[preimage.KeccakKeyOf(nd).PreimageKey()])
			}
		})
	}
}

func TestListNodesAreUnique(t *testing.T) {
	// Identical values under keys with the same suffix (e.g. rlp(1) and rlp(17): nibbles 0,1 and 1,1)
	// make identical leaf nodes; they are returned once.
	same := make([][]byte, 300)
	for i := range same {
		same[i] = bytes.Repeat([]byte{0x42}, 100)
	}
	emitted := 0
	st := trie.NewStackTrie(func([]byte, common.Hash, []byte) { emitted++ })
	root := types.DeriveSha(rawList(same), st)
	gotRoot, nodes := layout.ListNodes(same)
	require.Equal(t, root, gotRoot)
	require.Less(t, len(nodes), emitted)
	seen := make(map[common.Hash]bool)
	for _, n := range nodes {
		h := crypto.Keccak256Hash(n)
		require.False(t, seen[h])
		seen[h] = true
	}
	o := newMemOracle()
	o.putNodes(nodes)
	got, err := ReadList(root, o)
	require.NoError(t, err)
	require.Equal(t, same, got)
}

func TestListSmallValuesEmbedded(t *testing.T) {
	vals := make([][]byte, 16)
	for i := range vals {
		vals[i] = []byte{byte(i + 1)}
	}
	root, nodes := layout.ListNodes(vals)
	// One-byte values make leaves of a few bytes, embedded in their branch: apart from the root, which
	// is always hashed, layout.ListNodes returns only nodes of 32 bytes or more.
	for _, nd := range nodes {
		if crypto.Keccak256Hash(nd) != root {
			require.GreaterOrEqual(t, len(nd), 32)
		}
	}
	o := newMemOracle()
	o.putNodes(nodes)
	got, err := ReadList(root, o)
	require.NoError(t, err)
	require.Equal(t, vals, got)
}

func TestListTinyRootIsServed(t *testing.T) {
	// A one-item list of one byte has a root node shorter than 32 bytes; it is still fetched by hash.
	root, nodes := layout.ListNodes([][]byte{{0x01}})
	require.Len(t, nodes, 1)
	require.Less(t, len(nodes[0]), 32)
	require.Equal(t, crypto.Keccak256Hash(nodes[0]), root)
	o := newMemOracle()
	o.putNodes(nodes)
	got, err := ReadList(root, o)
	require.NoError(t, err)
	require.Equal(t, [][]byte{{0x01}}, got)
}

// signedTxs returns real signed transactions of every L1 type.
func signedTxs(t testing.TB) types.Transactions {
	key, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	require.NoError(t, err)
	return makeTxs(t, key, params.MainnetChainConfig.ChainID)
}

func makeTxs(t testing.TB, key *ecdsa.PrivateKey, chainID *big.Int) types.Transactions {
	signer := types.NewCancunSigner(chainID)
	to := common.HexToAddress("0x1234567890123456789012345678901234567890")
	datas := []types.TxData{
		&types.LegacyTx{Nonce: 0, GasPrice: big.NewInt(1e9), Gas: 21000, To: &to, Value: big.NewInt(1)},
		&types.AccessListTx{ChainID: chainID, Nonce: 1, GasPrice: big.NewInt(2e9), Gas: 50000, To: &to,
			AccessList: types.AccessList{{Address: to, StorageKeys: []common.Hash{{1}, {2}}}}, Data: []byte{1, 2, 3}},
		&types.DynamicFeeTx{ChainID: chainID, Nonce: 2, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(3e9),
			Gas: 100000, To: &to, Data: bytes.Repeat([]byte{0xab}, 300)},
		&types.BlobTx{ChainID: uint256.MustFromBig(chainID), Nonce: 3, GasTipCap: uint256.NewInt(1),
			GasFeeCap: uint256.NewInt(3e9), Gas: 21000, To: to, BlobFeeCap: uint256.NewInt(1e9),
			BlobHashes: []common.Hash{{0x01, 0xaa}, {0x01, 0xbb}}},
	}
	txs := make(types.Transactions, len(datas))
	for i, d := range datas {
		tx, err := types.SignNewTx(key, signer, d)
		require.NoError(t, err)
		txs[i] = tx
	}
	return txs
}

func TestListMatchesDeriveShaOfTransactions(t *testing.T) {
	base := signedTxs(t)
	for _, n := range []int{1, 2, 4, 130, 300} {
		txs := make(types.Transactions, n)
		for i := range txs {
			txs[i] = base[i%len(base)]
		}
		encs := make([][]byte, n)
		for i, tx := range txs {
			enc, err := tx.MarshalBinary()
			require.NoError(t, err)
			encs[i] = enc
		}
		root, nodes := layout.ListNodes(encs)
		require.Equal(t, types.DeriveSha(txs, trie.NewStackTrie(nil)), root, "n=%d", n)

		o := newMemOracle()
		o.putNodes(nodes)
		got, err := ReadList(root, o)
		require.NoError(t, err)
		require.Equal(t, encs, got)
	}
}

// buildTrie writes an arbitrary key/value trie, for list tries a correct writer would never produce.
func buildTrie(t *testing.T, kvs map[string][]byte) (common.Hash, [][]byte) {
	keys := make([]string, 0, len(kvs))
	for k := range kvs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var nodes [][]byte
	st := trie.NewStackTrie(func(_ []byte, _ common.Hash, blob []byte) { nodes = append(nodes, bytes.Clone(blob)) })
	for _, k := range keys {
		require.NoError(t, st.Update([]byte(k), kvs[k]))
	}
	return st.Hash(), nodes
}

func idx(i uint64) string { return string(rlp.AppendUint64(nil, i)) }

func TestReadListMalformed(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 40) // hashed leaves, so a stray one lives in its own node
	tests := []struct {
		name string
		kvs  map[string][]byte
	}{
		{"gap", map[string][]byte{idx(0): big, idx(1): big, idx(3): big}},
		{"gap small values", map[string][]byte{idx(0): {1}, idx(1): {2}, idx(3): {3}}},
		{"no index 0", map[string][]byte{idx(1): big, idx(2): big}},
		{"far index", map[string][]byte{idx(0): big, idx(1): big, idx(1000): big}},
		{"non-canonical zero", map[string][]byte{idx(0): big, idx(1): big, "\x00": big}},
		{"non-canonical one", map[string][]byte{idx(0): big, idx(1): big, "\x81\x01": big}},
		{"leading zero", map[string][]byte{idx(0): big, idx(1): big, "\x82\x00\x80": big}},
		{"non-rlp key", map[string][]byte{idx(0): {1}, "hello": {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, nodes := buildTrie(t, tt.kvs)
			o := newMemOracle()
			o.putNodes(nodes)
			_, err := ReadList(root, o)
			require.ErrorIs(t, err, ErrMalformedList)
		})
	}
}

func TestReadListEmptyAndZeroRoot(t *testing.T) {
	o := newMemOracle()
	got, err := ReadList(types.EmptyRootHash, o)
	require.NoError(t, err)
	require.Empty(t, got)
	require.Empty(t, o.requests, "the empty root is not fetched")

	_, err = ReadList(common.Hash{}, o)
	require.ErrorIs(t, err, ErrZeroRoot)
}

func TestReadListMissingNode(t *testing.T) {
	vals := values(200, 1)
	root, nodes := layout.ListNodes(vals)
	for _, missing := range []int{0, len(nodes) / 2, len(nodes) - 1} {
		o := newMemOracle()
		o.putNodes(nodes)
		key := preimage.KeccakKeyOf(nodes[missing])
		delete(o.store, key.PreimageKey())
		_, err := ReadList(root, o)
		require.Error(t, err)
		// The error names the node hash, and the oracle's error with the key it was asked for.
		require.Contains(t, err.Error(), common.Hash(key).Hex()[2:])
		k := key.PreimageKey()
		require.Contains(t, err.Error(), fmt.Sprintf("%x", k))
	}
}

func TestNodeReader(t *testing.T) {
	o := newMemOracle()
	r := NewNodeReader(o)
	node := []byte{0xc2, 0x80, 0x80}
	o.putNodes([][]byte{node})
	got, err := r.NodeByHash(crypto.Keccak256Hash(node))
	require.NoError(t, err)
	require.Equal(t, node, got)

	_, err = r.NodeByHash(common.Hash{1})
	require.ErrorContains(t, err, common.Hash{1}.Hex())

	o.putNodes([][]byte{{}})
	_, err = r.NodeByHash(crypto.Keccak256Hash(nil))
	require.ErrorIs(t, err, ErrEmptyNode)

	// It serves op-geth's trie directly, e.g. for a state-style trie of hashed keys.
	kvs := map[string][]byte{}
	for i := 0; i < 50; i++ {
		kvs[string(crypto.Keccak256([]byte{byte(i)}))] = bytes.Repeat([]byte{byte(i)}, i+1)
	}
	root, nodes := buildTrie(t, kvs)
	o.putNodes(nodes)
	tr, err := trie.New(trie.StateTrieID(root), r)
	require.NoError(t, err)
	for k, v := range kvs {
		got, err := tr.Get([]byte(k))
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
}

func TestReadListErrorsAreNotPanics(t *testing.T) {
	// A keccak preimage that is no trie node: the root, and a child referenced from a valid branch.
	junk := bytes.Repeat([]byte{0xff}, 40)
	o := newMemOracle()
	o.putNodes([][]byte{junk})
	_, err := ReadList(crypto.Keccak256Hash(junk), o)
	require.Error(t, err)

	// A branch with the junk as a child: at nibble 8 (on the path of rlp(0)) it fails the lookup, at
	// nibble 0xc (on no index's path) it is refused by the cut-off reader without being decoded.
	for _, slot := range []int{8, 0xc} {
		items := make([]any, 17)
		for i := range items {
			items[i] = []byte{}
		}
		items[slot] = crypto.Keccak256(junk)
		enc, err := rlp.EncodeToBytes(items)
		require.NoError(t, err)
		o.putNodes([][]byte{enc})
		_, err = ReadList(crypto.Keccak256Hash(enc), o)
		require.Error(t, err, "slot %x", slot)
		if slot == 0xc {
			require.ErrorIs(t, err, ErrMalformedList)
			require.ErrorIs(t, err, errCutOff)
		}
		t.Logf("slot %x: %v", slot, err)
	}
}

func BenchmarkReadList(b *testing.B) {
	txs := signedTxs(b)
	encs := make([][]byte, 1000)
	for i := range encs {
		enc, err := txs[i%len(txs)].MarshalBinary()
		require.NoError(b, err)
		encs[i] = enc
	}
	root, nodes := layout.ListNodes(encs)
	o := newMemOracle()
	o.putNodes(nodes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := ReadList(root, o)
		require.NoError(b, err)
	}
}
