package kvstore

import (
	"encoding/hex"
	"path/filepath"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
)

// Directory stores every value in <dir>/<hex[0:4]>/<hex[4:64]>.txt, where hex is
// the key in lowercase hex without 0x, with the same content as File. Sharding by
// the first two key bytes keeps directories small. It is the "directory" format of
// op-program and kona, and the default.
type Directory struct {
	dir    string
	sync   bool // as File.sync: off
	closed atomic.Bool
}

// NewDirectory opens a directory store in dir, creating dir if missing.
// Shard directories are created on first write.
func NewDirectory(dir string) (*Directory, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	return &Directory{dir: dir}, nil
}

// locate returns the shard directory and file name of key.
func (s *Directory) locate(key common.Hash) (shard, name string) {
	var b [2*common.HashLength + 4]byte
	hex.Encode(b[:], key[:])
	copy(b[2*common.HashLength:], ".txt")
	return filepath.Join(s.dir, string(b[:4])), string(b[4:])
}

func (s *Directory) Put(key common.Hash, value []byte) error {
	if s.closed.Load() {
		return ErrClosed
	}
	shard, name := s.locate(key)
	// writeHexFile creates the shard directory when the temp file can't be made.
	return writeHexFile(shard, name, value, s.sync)
}

func (s *Directory) Get(key common.Hash) ([]byte, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	shard, name := s.locate(key)
	return readHexFile(filepath.Join(shard, name))
}

// Close marks the store closed; there is nothing to release.
func (s *Directory) Close() error {
	s.closed.Store(true)
	return nil
}
