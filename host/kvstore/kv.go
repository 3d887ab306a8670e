// Package kvstore is the preimage store of the host. The host fetches preimages
// (block headers, trie nodes, blobs, ...) from L1/L2 sources, or reads them from a
// datadir left by an earlier run, and keeps them here keyed by their 32-byte
// type-prefixed preimage key. The client program never sees this package: it only
// receives preimages over the preimage oracle channel served from the store.
//
// The on-disk formats are byte-compatible with op-program's host and kona, so a
// datadir written by either can be reused by this host and vice versa.
package kvstore

import (
	"errors"

	"github.com/ethereum/go-ethereum/common"
)

var (
	// ErrNotFound is returned by Get when the key is not in the store.
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by Put and Get after Close.
	ErrClosed = errors.New("kvstore: closed")
)

// KV is a preimage store. Implementations are safe for concurrent use.
type KV interface {
	// Put stores value under key, replacing any previous value.
	Put(key common.Hash, value []byte) error
	// Get returns a copy of the value the caller may keep, or ErrNotFound.
	Get(key common.Hash) ([]byte, error)
	// Close releases the store. Put and Get fail afterwards.
	Close() error
}

var (
	_ KV = (*Mem)(nil)
	_ KV = (*File)(nil)
	_ KV = (*Directory)(nil)
	_ KV = (*Pebble)(nil)
)
