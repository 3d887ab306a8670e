// Package mpt reads Merkle-Patricia tries whose nodes travel as keccak256 preimages.
//
// In the data flow it sits between the preimage oracle and the block readers: a host stores every hashed
// node of a block's transaction, receipt or withdrawal trie under its keccak key (preimage/layout.List),
// and the program walks the trie from the root committed in a verified header, fetching node by node
// (ReadList). The trie logic itself is op-geth's; this package only feeds it nodes and checks the list
// shape.
package mpt

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/triedb/database"

	"github.com/faultproof/faultproof/preimage"
)

// ErrEmptyNode is returned when the oracle answers a node request with no bytes. A keccak preimage can be
// empty, but no trie node is.
var ErrEmptyNode = errors.New("empty trie node")

// NodeReader serves trie nodes by hash from the preimage oracle: the node whose hash is h is the preimage
// of Keccak256Key(h). It is a read-only op-geth node database (database.NodeDatabase and
// database.NodeReader), so op-geth's trie can run directly on top of it.
//
// It does not hash what it returns: the oracle verifies keccak preimages against their key already, and
// a second keccak per node would only cost VM steps.
type NodeReader struct {
	oracle preimage.Oracle
}

var (
	_ database.NodeDatabase = (*NodeReader)(nil)
	_ database.NodeReader   = (*NodeReader)(nil)
)

// NewNodeReader returns a node reader over oracle, which must verify keccak256 preimages.
func NewNodeReader(oracle preimage.Oracle) *NodeReader {
	return &NodeReader{oracle: oracle}
}

// NodeByHash returns the RLP encoding of the node with the given hash.
func (r *NodeReader) NodeByHash(hash common.Hash) ([]byte, error) {
	blob, err := r.oracle.Get(preimage.Keccak256Key(hash))
	if err != nil {
		return nil, fmt.Errorf("trie node %s: %w", hash, err)
	}
	if len(blob) == 0 {
		return nil, fmt.Errorf("trie node %s: %w", hash, ErrEmptyNode)
	}
	return blob, nil
}

// Node implements database.NodeReader. Nodes are content-addressed, so the owner and path are not needed
// to find one.
func (r *NodeReader) Node(_ common.Hash, _ []byte, hash common.Hash) ([]byte, error) {
	return r.NodeByHash(hash)
}

// NodeReader implements database.NodeDatabase: every state root is served by the same oracle, so the
// reader is the database itself.
func (r *NodeReader) NodeReader(common.Hash) (database.NodeReader, error) {
	return r, nil
}
