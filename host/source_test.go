package host

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// TestOfflineCorruptPreimageNamesKey: offline, a value in the datadir that fails its check (a wrong value,
// a torn or empty file, a blob field element of the wrong size) stops the run with an error that names
// the key, says the stored value is corrupt and what to do, for file and directory datadirs.
func TestOfflineCorruptPreimageNamesKey(t *testing.T) {
	header := []byte("an L1 header")
	keccak := preimage.KeccakKeyOf(header).PreimageKey()
	blob := preimage.BlobKey(common.Hash{0xb1}).PreimageKey()
	for _, format := range []kvstore.Format{kvstore.FormatFile, kvstore.FormatDirectory} {
		for _, tc := range []struct {
			name string
			key  [32]byte
			file string // the stored file's content
		}{
			{"wrong value", keccak, hex.EncodeToString([]byte("another header"))},
			{"torn file", keccak, hex.EncodeToString(header)[:7]},
			{"empty file", keccak, ""},
			{"short field element", blob, hex.EncodeToString(make([]byte, 31))},
		} {
			t.Run(string(format)+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				kv, _, err := kvstore.Open(dir, format)
				require.NoError(t, err)
				defer kv.Close()
				// Where the store keeps the key: write it and overwrite the file.
				require.NoError(t, kv.Put(common.Hash(tc.key), []byte{1}))
				path := storeFile(t, dir, common.Hash(tc.key))
				require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o644))

				oracle, _, stop := serveInMemory(t, testConfig(t), kv)
				_, err = oracle.Get(preimage.RawKey(tc.key))
				require.Error(t, err, "the program gets no answer")
				err = stop()
				require.ErrorIs(t, err, ErrCorruptPreimage)
				require.ErrorIs(t, err, kvstore.ErrCorrupt)
				require.ErrorContains(t, err, common.Hash(tc.key).Hex())
				require.ErrorContains(t, err, "stored for")
				require.ErrorContains(t, err, "in the datadir is corrupt")
				require.ErrorContains(t, err, "delete it")

				// The source on its own says the same.
				_, err = NewOfflineSource(log.New(), kv).GetPreimage(context.Background(), tc.key)
				require.ErrorIs(t, err, ErrCorruptPreimage)
			})
		}
	}
}

// storeFile finds the one value file of a file or directory store holding a single key.
func storeFile(t *testing.T, dir string, key common.Hash) string {
	t.Helper()
	h := hex.EncodeToString(key[:])
	for _, p := range []string{filepath.Join(dir, "0x"+h+".txt"), filepath.Join(dir, h[:4], h[4:]+".txt")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	require.FailNow(t, fmt.Sprintf("no file for key %s in %s", key, dir))
	return ""
}
