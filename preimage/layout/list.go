package layout

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/faultproof/faultproof/preimage"
)

// List lays out an ordered list a block header commits to (its transactions, receipts or withdrawals,
// each value in its canonical encoding): every node of the list trie a reader fetches, under its
// keccak256 key. It fails, storing nothing, unless the trie's root is want; an empty list has
// types.EmptyRootHash and no nodes. The program reads the list back with client/mpt.ReadList.
func List(put Put, what string, values [][]byte, want common.Hash) error {
	if len(values) == 0 {
		if want != types.EmptyRootHash {
			return fmt.Errorf("%s: empty, but the header's root is %s", what, want)
		}
		return nil
	}
	root, nodes := ListNodes(values)
	if root != want {
		return fmt.Errorf("%s: root %s, header has %s", what, root, want)
	}
	for _, n := range nodes {
		put(preimage.KeccakKeyOf(n), n)
	}
	return nil
}

// ListRoot is the root of the list trie of values, as a block header commits to it.
func ListRoot(values [][]byte) common.Hash {
	if len(values) == 0 {
		return types.EmptyRootHash
	}
	root, _ := ListNodes(values)
	return root
}

// rawList presents opaque encodings as a types.DerivableList.
type rawList [][]byte

func (l rawList) Len() int                             { return len(l) }
func (l rawList) EncodeIndex(i int, buf *bytes.Buffer) { buf.Write(l[i]) }

// ListNodes builds the list trie of values the way a block header commits to it (types.DeriveSha over a
// stack trie) and returns its root and every node a reader must fetch: the root node and each node of 32
// bytes or more, in the order the stack trie emits them, without repeats. Smaller nodes are embedded in
// their parent.
//
// Values must not be empty: a trie cannot hold an empty value (it means absence), and the root would
// silently be wrong, so ListNodes panics instead. It is for hosts and tests, not for the program.
func ListNodes(values [][]byte) (root common.Hash, nodes [][]byte) {
	for i, v := range values {
		if len(v) == 0 {
			panic(fmt.Sprintf("layout.ListNodes: value %d is empty", i))
		}
	}
	seen := make(map[common.Hash]struct{})
	st := trie.NewStackTrie(func(_ []byte, hash common.Hash, blob []byte) {
		if _, ok := seen[hash]; ok {
			return // identical subtrees at different paths share their node
		}
		seen[hash] = struct{}{}
		nodes = append(nodes, bytes.Clone(blob)) // the stack trie reuses blob's buffer
	})
	root = types.DeriveSha(rawList(values), st)
	return root, nodes
}
