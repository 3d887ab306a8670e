package l2

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
)

// stateKV is the key-value store under the state database: writes (new trie nodes and code of the blocks
// we build) stay in memory; reads that miss go to the oracle by key shape, trie nodes by their 32-byte
// hash and code by "c" ++ code hash.
//
// op-geth treats a failed read as "absent" and carries on, so an oracle failure is remembered here and
// checked after every block: a block built on data we could not read must never be trusted.
type stateKV struct {
	*memorydb.Database
	oracle *Oracle

	mu  sync.Mutex
	err error
}

func newStateKV(oracle *Oracle) *stateKV {
	return &stateKV{Database: memorydb.New(), oracle: oracle}
}

var codePrefix = rawdb.CodePrefix

func (db *stateKV) Get(key []byte) ([]byte, error) {
	if v, err := db.Database.Get(key); err == nil {
		return v, nil
	}
	var v []byte
	var err error
	switch {
	case len(key) == common.HashLength:
		v, err = db.oracle.NodeByHash(common.BytesToHash(key))
	case len(key) == len(codePrefix)+common.HashLength && bytes.HasPrefix(key, codePrefix):
		v, err = db.oracle.CodeByHash(common.BytesToHash(key[len(codePrefix):]))
	default:
		// op-geth asks for metadata keys (snapshot roots, scheme markers) that a stateless run does not have.
		return nil, errNotFound
	}
	if err != nil {
		db.setErr(err)
		return nil, err
	}
	return v, nil
}

func (db *stateKV) Has(key []byte) (bool, error) {
	_, err := db.Get(key)
	return err == nil, nil
}

func (db *stateKV) setErr(err error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.err == nil {
		db.err = err
	}
}

// Err returns the first oracle failure, if any.
func (db *stateKV) Err() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.err != nil {
		return fmt.Errorf("state read failed: %w", db.err)
	}
	return nil
}

var errNotFound = errors.New("not found")
