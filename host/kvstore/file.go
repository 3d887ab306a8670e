package kvstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
)

const dirPerm = 0o755

// File stores every value in its own file <dir>/0x<hex key>.txt holding the
// lowercase hex of the value without 0x prefix. It is op-program's "file" format.
type File struct {
	dir string
	// sync makes writes durable (see writeHexFile). It is off, as in op-program: it makes a write about
	// 3.5x slower (BenchmarkPutSync), and a value torn by a power loss is caught when read (CheckValue)
	// and fetched again by an online host.
	sync   bool
	closed atomic.Bool
}

// NewFile opens a file store in dir, creating dir if missing.
func NewFile(dir string) (*File, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	return &File{dir: dir}, nil
}

func fileName(key common.Hash) string {
	var b [2 + 2*common.HashLength + 4]byte
	copy(b[:], "0x")
	hex.Encode(b[2:], key[:])
	copy(b[2+2*common.HashLength:], ".txt")
	return string(b[:])
}

func (s *File) Put(key common.Hash, value []byte) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return writeHexFile(s.dir, fileName(key), value, s.sync)
}

func (s *File) Get(key common.Hash) ([]byte, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return readHexFile(filepath.Join(s.dir, fileName(key)))
}

// Close marks the store closed; there is nothing to release.
func (s *File) Close() error {
	s.closed.Store(true)
	return nil
}

// ensureDir creates dir if needed and rejects a dir that is not a directory,
// which MkdirAll would otherwise report only as an obscure ENOTDIR.
func ensureDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("kvstore: datadir %s is not a directory", dir)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("kvstore: create datadir: %w", err)
	}
	return nil
}

// writeHexFile atomically replaces dir/name with the hex encoding of value. With durable, the file's data
// and then the directory entry are flushed to disk (fsync), so that a power loss cannot leave an empty or
// torn file under the name.
// The temp file is created in dir so the rename stays on one filesystem, and its
// name does not end in ".txt" so it can never be read back as a value. Unique
// temp names let concurrent writers of the same key race safely: the last
// rename wins and every reader sees one complete value.
func writeHexFile(dir, name string, value []byte, durable bool) error {
	pattern := name + ".tmp-*"
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, fs.ErrNotExist) {
		// The datadir or shard directory is new or was removed under us.
		if err := os.MkdirAll(dir, dirPerm); err != nil {
			return fmt.Errorf("kvstore: create directory: %w", err)
		}
		f, err = os.CreateTemp(dir, pattern)
	}
	if err != nil {
		return fmt.Errorf("kvstore: create temp file: %w", err)
	}
	tmp := f.Name()
	buf := make([]byte, hex.EncodedLen(len(value)))
	hex.Encode(buf, value)
	_, err = f.Write(buf)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	target := filepath.Join(dir, name)
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kvstore: write %s: %w", target, err)
	}
	if durable {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("kvstore: write %s: %w", target, err)
		}
	}
	return nil
}

// syncDir flushes a directory's entries (a rename into it) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readHexFile reads a value written by writeHexFile. It also accepts
// surrounding whitespace and a 0x prefix, as hand-written files may have them.
func readHexFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("kvstore: read %s: %w", path, err)
	}
	src := bytes.TrimSpace(data)
	if len(src) >= 2 && src[0] == '0' && (src[1] == 'x' || src[1] == 'X') {
		src = src[2:]
	}
	// Decode into a right-sized buffer rather than in place, so that callers
	// keeping the value don't pin twice its size.
	out := make([]byte, hex.DecodedLen(len(src)))
	if _, err := hex.Decode(out, src); err != nil {
		return nil, fmt.Errorf("kvstore: %w: invalid hex in %s: %w", ErrCorrupt, path, err)
	}
	return out, nil
}
