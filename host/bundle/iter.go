package bundle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble"
	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/host/kvstore"
)

// formatMarker is the file in which kvstore records a datadir's layout.
const formatMarker = "kvformat"

// DataDirFormat returns the format recorded in a datadir.
func DataDirFormat(dir string) (kvstore.Format, error) {
	data, err := os.ReadFile(filepath.Join(dir, formatMarker))
	if err != nil {
		return "", fmt.Errorf("datadir %s: %w", dir, err)
	}
	return kvstore.ParseFormat(strings.TrimSpace(string(data)))
}

// Iterate calls fn for every preimage in the datadir, without modifying it. The file and directory formats
// are walked on disk; a pebble database is opened read-only and iterated.
func Iterate(dir string, fn func(key common.Hash, value []byte) error) error {
	format, err := DataDirFormat(dir)
	if err != nil {
		return err
	}
	switch format {
	case kvstore.FormatFile:
		return iterateFiles(dir, false, fn)
	case kvstore.FormatDirectory:
		return iterateFiles(dir, true, fn)
	case kvstore.FormatPebble:
		return iteratePebble(dir, fn)
	}
	return fmt.Errorf("datadir %s: unsupported format %q", dir, format)
}

// iterateFiles walks the hex files of the file format (<dir>/0x<64 hex>.txt) or the directory format
// (<dir>/<4 hex>/<60 hex>.txt). Temp files and anything else are skipped.
func iterateFiles(dir string, sharded bool, fn func(common.Hash, []byte) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if sharded && len(rel) == 4 && isHex(rel) {
				return nil
			}
			return filepath.SkipDir
		}
		name, ok := strings.CutSuffix(filepath.ToSlash(rel), ".txt")
		if !ok {
			return nil
		}
		var hexKey string
		if sharded {
			shard, rest, ok := strings.Cut(name, "/")
			if !ok || len(shard) != 4 || len(rest) != 60 {
				return nil
			}
			hexKey = shard + rest
		} else {
			rest, ok := strings.CutPrefix(name, "0x")
			if !ok || len(rest) != 64 {
				return nil
			}
			hexKey = rest
		}
		kb, err := hex.DecodeString(hexKey)
		if err != nil {
			return nil
		}
		value, err := readHex(path)
		if err != nil {
			return err
		}
		return fn(common.BytesToHash(kb), value)
	})
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func readHex(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src := bytes.TrimSpace(data)
	if len(src) >= 2 && src[0] == '0' && (src[1] == 'x' || src[1] == 'X') {
		src = src[2:]
	}
	out := make([]byte, hex.DecodedLen(len(src)))
	if _, err := hex.Decode(out, src); err != nil {
		return nil, fmt.Errorf("invalid hex in %s: %w", path, err)
	}
	return out, nil
}

func iteratePebble(dir string, fn func(common.Hash, []byte) error) (err error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: quietLogger{}})
	if err != nil {
		return fmt.Errorf("open pebble db %s: %w", dir, err)
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	it, err := db.NewIter(nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != common.HashLength {
			continue
		}
		v, verr := it.ValueAndErr()
		if verr != nil {
			return verr
		}
		if err := fn(common.BytesToHash(k), bytes.Clone(v)); err != nil {
			return err
		}
	}
	return it.Error()
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
