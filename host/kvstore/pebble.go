package kvstore

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
)

// Pebble stores values in a pebble database at dir, keyed by the 32 raw key
// bytes. It is op-program's "pebble" format.
type Pebble struct {
	// mu only fences Close: pebble is safe for concurrent use on its own but
	// panics when used after Close.
	mu sync.RWMutex
	db *pebble.DB // nil once closed
}

// NewPebble opens or creates the pebble database in dir.
func NewPebble(dir string) (*Pebble, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(32 << 20)
	defer cache.Unref() // the DB holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:                    cache,
		MaxConcurrentCompactions: runtime.NumCPU,
		Levels: []pebble.LevelOptions{
			{Compression: pebble.SnappyCompression},
		},
		Logger: pebbleLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("kvstore: open pebble db %s: %w", dir, err)
	}
	return &Pebble{db: db}, nil
}

// Put doesn't wait for fsync, like op-program: a crash may lose the latest
// writes, but the WAL checksums keep them from being read back torn.
func (s *Pebble) Put(key common.Hash, value []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.db.Set(key[:], value, pebble.NoSync); err != nil {
		return fmt.Errorf("kvstore: pebble put %s: %w", key, err)
	}
	return nil
}

func (s *Pebble) Get(key common.Hash) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	v, closer, err := s.db.Get(key[:])
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("kvstore: pebble get %s: %w", key, err)
	}
	// v is only valid until closer is closed.
	out := append(make([]byte, 0, len(v)), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("kvstore: pebble get %s: %w", key, err)
	}
	return out, nil
}

// Close flushes the memtable and closes the database. Closing twice is a no-op.
func (s *Pebble) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	db := s.db
	s.db = nil
	return errors.Join(db.Flush(), db.Close())
}

// pebbleLogger sends pebble's routine messages (WAL replay, ...) to the debug
// log instead of pebble's default of printing them to stderr.
type pebbleLogger struct{}

func (pebbleLogger) Infof(format string, args ...any) {
	log.Debug("Pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf must not return; log.Crit exits like pebble's default logger.
func (pebbleLogger) Fatalf(format string, args ...any) {
	log.Crit("Pebble: " + fmt.Sprintf(format, args...))
}
