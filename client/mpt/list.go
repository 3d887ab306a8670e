package mpt

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/ethereum/go-ethereum/triedb/database"

	"github.com/faultproof/faultproof/preimage"
)

// ErrMalformedList is returned when a list trie holds anything but the keys rlp(0) .. rlp(n-1): a gap, an
// extra key (beyond the first gap, or not a canonical RLP index) or an empty value.
var ErrMalformedList = errors.New("malformed list trie")

// ErrZeroRoot is returned for the all-zero root, which no header commits to (the empty list's root is
// types.EmptyRootHash); op-geth would silently read it as an empty trie.
var ErrZeroRoot = errors.New("zero list trie root")

// ReadList returns the values of an ordered list trie (a block's transactions, receipts or withdrawals:
// value i under key rlp(i)) in index order, fetching its hashed nodes from the oracle.
//
// It looks up rlp(0), rlp(1), ... until a key is absent, then walks the trie once more with the oracle cut
// off to count its leaves: a leaf that was not found by index (past a gap, or under a non-canonical key)
// either sits in a subtree that was never fetched, which the cut-off reader refuses, or is counted as
// surplus. Every node is fetched once (op-geth's trie keeps what it resolved) and nothing is hashed
// beyond the oracle's own check of each node.
//
// The returned values are copies and may be modified.
func ReadList(root common.Hash, oracle preimage.Oracle) ([][]byte, error) {
	switch root {
	case types.EmptyRootHash:
		return nil, nil
	case common.Hash{}:
		return nil, ErrZeroRoot
	}
	nodes := &listNodes{reader: NewNodeReader(oracle)}
	tr, err := trie.New(trie.TrieID(root), nodes)
	if err != nil {
		return nil, fmt.Errorf("list trie %s: root: %w", root, err)
	}
	var (
		values [][]byte
		key    []byte
	)
	for i := uint64(0); ; i++ {
		key = rlp.AppendUint64(key[:0], i)
		v, err := tr.Get(key)
		if err != nil {
			return nil, fmt.Errorf("list trie %s: item %d: %w", root, i, err)
		}
		if len(v) == 0 {
			break
		}
		values = append(values, bytes.Clone(v))
	}

	// Everything reachable through keys 0..n-1 is now in memory; any other node would hold another leaf.
	nodes.cutOff = true
	it, err := tr.NodeIterator(nil)
	if err != nil {
		return nil, fmt.Errorf("list trie %s: iterate: %w", root, err)
	}
	leaves := 0
	for it.Next(true) {
		if it.Leaf() {
			leaves++
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("list trie %s: %w: a node off the paths of the first %d indices: %w",
			root, ErrMalformedList, len(values), err)
	}
	if leaves != len(values) {
		return nil, fmt.Errorf("list trie %s: %w: %d leaves, but only the first %d indices are present",
			root, ErrMalformedList, leaves, len(values))
	}
	return values, nil
}

// errCutOff is what the node source answers once ReadList has fetched every node it may need.
var errCutOff = errors.New("node is not on the path of any list index")

// listNodes is the node database of one ReadList call, with a switch to refuse further fetches.
type listNodes struct {
	reader *NodeReader
	cutOff bool
}

func (l *listNodes) NodeReader(common.Hash) (database.NodeReader, error) { return l, nil }

func (l *listNodes) Node(owner common.Hash, path []byte, hash common.Hash) ([]byte, error) {
	if l.cutOff {
		return nil, fmt.Errorf("trie node %s at path %x: %w", hash, path, errCutOff)
	}
	return l.reader.Node(owner, path, hash)
}
