package kvstore

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

// goldenKey is spelled out so that path expectations below are literal.
var goldenKey = common.HexToHash("0x02c0ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef")

// listFiles returns all regular files under dir, relative and slash-separated.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

func TestFileGoldenLayout(t *testing.T) {
	const name = "0x02c0ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef.txt"
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"bytes", []byte{0x00, 0x01, 0xab, 0xff}, "0001abff"},
		{"empty", []byte{}, ""},
		{"text", []byte("Hi"), "4869"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kv, err := NewFile(dir)
			require.NoError(t, err)
			require.NoError(t, kv.Put(goldenKey, tt.value))
			require.Equal(t, []string{name}, listFiles(t, dir))
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(data))
		})
	}
}

// TestFileReadsForeign reads files laid out by hand as op-program writes them,
// plus tolerated variations.
func TestFileReadsForeign(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []byte
	}{
		{"canonical", "0001abff", []byte{0x00, 0x01, 0xab, 0xff}},
		{"empty", "", []byte{}},
		{"uppercase", "0001ABFF", []byte{0x00, 0x01, 0xab, 0xff}},
		{"trailing newline", "0001abff\n", []byte{0x00, 0x01, 0xab, 0xff}},
		{"0x prefix", "0x0001abff", []byte{0x00, 0x01, 0xab, 0xff}},
		{"0x prefix empty", "0x", []byte{}},
		{"whitespace", " \t0001abff \r\n", []byte{0x00, 0x01, 0xab, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "0x02c0ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef.txt")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			kv, err := NewFile(dir)
			require.NoError(t, err)
			got, err := kv.Get(goldenKey)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// hexStore is a file-backed store together with where it keeps a key.
type hexStore struct {
	name string
	open func(dir string) (KV, error)
	path func(dir string, key common.Hash) string
}

var hexStores = []hexStore{
	{
		name: "file",
		open: func(dir string) (KV, error) { return NewFile(dir) },
		path: func(dir string, key common.Hash) string {
			return filepath.Join(dir, key.Hex()+".txt")
		},
	},
	{
		name: "directory",
		open: func(dir string) (KV, error) { return NewDirectory(dir) },
		path: func(dir string, key common.Hash) string {
			h := key.Hex()[2:]
			return filepath.Join(dir, h[:4], h[4:]+".txt")
		},
	},
}

// valueName matches the final names of both layouts, and nothing else.
var valueName = regexp.MustCompile(`^(0x[0-9a-f]{64}\.txt|[0-9a-f]{4}/[0-9a-f]{60}\.txt)$`)

func TestHexNoTempFilesLeft(t *testing.T) {
	for _, s := range hexStores {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			kv, err := s.open(dir)
			require.NoError(t, err)
			for i := range 50 {
				require.NoError(t, kv.Put(testKey(i), testValue(i, i)))
				require.NoError(t, kv.Put(testKey(i), testValue(i, i))) // overwrite too
			}
			files := listFiles(t, dir)
			require.Len(t, files, 50)
			for _, f := range files {
				require.Regexp(t, valueName, f)
			}
		})
	}
}

func TestHexLeftoverTempFile(t *testing.T) {
	for _, s := range hexStores {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			kv, err := s.open(dir)
			require.NoError(t, err)
			// A crash mid-write leaves a partial temp file next to the final name.
			final := s.path(dir, goldenKey)
			tmp := final + ".tmp-123456"
			require.NoError(t, os.MkdirAll(filepath.Dir(tmp), 0o755))
			require.NoError(t, os.WriteFile(tmp, []byte("00a"), 0o600))

			_, err = kv.Get(goldenKey)
			require.ErrorIs(t, err, ErrNotFound)

			require.NoError(t, kv.Put(goldenKey, []byte{1, 2}))
			got, err := kv.Get(goldenKey)
			require.NoError(t, err)
			require.Equal(t, []byte{1, 2}, got)
			data, err := os.ReadFile(final)
			require.NoError(t, err)
			require.Equal(t, "0102", string(data))
		})
	}
}

func TestHexDatadirRemoved(t *testing.T) {
	for _, s := range hexStores {
		t.Run(s.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			kv, err := s.open(dir)
			require.NoError(t, err)
			require.NoError(t, kv.Put(testKey(1), []byte{1}))
			require.NoError(t, os.RemoveAll(dir))

			_, err = kv.Get(testKey(1))
			require.ErrorIs(t, err, ErrNotFound)
			require.NoError(t, kv.Put(testKey(2), []byte{2}))
			got, err := kv.Get(testKey(2))
			require.NoError(t, err)
			require.Equal(t, []byte{2}, got)
		})
	}
}

func TestHexInvalidContent(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"non-hex", "zz"},
		{"odd length", "abc"},
		{"inner space", "ab cd"},
		{"bare 0x twice", "0x0x"},
	}
	for _, s := range hexStores {
		for _, tt := range tests {
			t.Run(s.name+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				kv, err := s.open(dir)
				require.NoError(t, err)
				path := s.path(dir, goldenKey)
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))

				_, err = kv.Get(goldenKey)
				require.Error(t, err)
				require.NotErrorIs(t, err, ErrNotFound)
				require.ErrorIs(t, err, ErrCorrupt)
				require.ErrorContains(t, err, path)
			})
		}
	}
}

func TestDatadirIsFile(t *testing.T) {
	opens := []struct {
		name string
		open func(dir string) error
	}{
		{"file", func(dir string) error { _, err := NewFile(dir); return err }},
		{"directory", func(dir string) error { _, err := NewDirectory(dir); return err }},
		{"pebble", func(dir string) error { _, err := NewPebble(dir); return err }},
		{"open", func(dir string) error { _, _, err := Open(dir, FormatDirectory); return err }},
	}
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "datadir")
			require.NoError(t, os.WriteFile(path, nil, 0o644))
			err := o.open(path)
			require.Error(t, err)
			require.ErrorContains(t, err, path)
			require.True(t, strings.Contains(err.Error(), "not a directory"), err.Error())
		})
	}
}
