package kvstore

import (
	"bytes"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// Mem is an in-memory store, used when the host runs without a datadir.
type Mem struct {
	mu sync.RWMutex
	m  map[common.Hash][]byte // nil once closed
}

// NewMem returns an empty memory store.
func NewMem() *Mem {
	return &Mem{m: make(map[common.Hash][]byte)}
}

func (s *Mem) Put(key common.Hash, value []byte) error {
	// Clone outside the lock and keep empty values non-nil so they are
	// distinguishable from missing ones in tests and callers alike.
	v := append(make([]byte, 0, len(value)), value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return ErrClosed
	}
	s.m[key] = v
	return nil
}

func (s *Mem) Get(key common.Hash) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.m == nil {
		return nil, ErrClosed
	}
	v, ok := s.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

// Close drops all values. Closing twice is a no-op.
func (s *Mem) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = nil
	return nil
}
