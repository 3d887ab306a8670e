package kvstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

func TestDirectoryGoldenLayout(t *testing.T) {
	const name = "02c0/ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef.txt"
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
			kv, err := NewDirectory(dir)
			require.NoError(t, err)
			require.NoError(t, kv.Put(goldenKey, tt.value))
			require.Equal(t, []string{name}, listFiles(t, dir))
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(data))
		})
	}
}

// TestDirectoryReadsForeign reads a datadir laid out by hand the way op-program
// and kona write it, marker included, through Open.
func TestDirectoryReadsForeign(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kvformat": "directory",
		"02c0/ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef.txt": "0001abff",
		"0100/" + strings.Repeat("0", 60) + ".txt":                              "",
		"ffff/" + strings.Repeat("f", 60) + ".txt":                              "c0ffee\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	kv, format, err := Open(dir, FormatPebble)
	require.NoError(t, err)
	defer kv.Close()
	require.Equal(t, FormatDirectory, format)

	tests := []struct {
		key  string
		want []byte
	}{
		{"0x02c0ffee0123456789abcdef0123456789abcdef0123456789abcdefdeadbeef", []byte{0x00, 0x01, 0xab, 0xff}},
		{"0x0100000000000000000000000000000000000000000000000000000000000000", []byte{}},
		{"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", []byte{0xc0, 0xff, 0xee}},
	}
	for _, tt := range tests {
		got, err := kv.Get(common.HexToHash(tt.key))
		require.NoError(t, err, tt.key)
		require.Equal(t, tt.want, got, tt.key)
	}
}
