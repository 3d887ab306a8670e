package prefetch_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// storePath is the file a file or directory store keeps key in.
func storePath(format kvstore.Format, dir string, key common.Hash) string {
	h := hex.EncodeToString(key[:])
	if format == kvstore.FormatFile {
		return filepath.Join(dir, "0x"+h+".txt")
	}
	return filepath.Join(dir, h[:4], h[4:]+".txt")
}

// TestCorruptStoredValueRefetched writes bad values into file and directory stores, as a crash during an
// earlier run may leave them (a wrong value, a torn hex file, an empty file, a precompile result without
// status byte; a short blob field element in a memory store, as a blob is 8193 files), or as a shared
// datadir may forge them (a precompile answer or a blob field element of the right shape), then asks for them
// through the hints: each is logged with its key, fetched again and served right, and the good value
// replaces the bad one in the store.
func TestCorruptStoredValueRefetched(t *testing.T) {
	for _, format := range []kvstore.Format{kvstore.FormatFile, kvstore.FormatDirectory, "memory"} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			var store kvstore.KV = kvstore.NewMem()
			if format != "memory" {
				var err error
				store, _, err = kvstore.Open(dir, format)
				require.NoError(t, err)
			}
			t.Cleanup(func() { store.Close() })
			logs := &syncBuffer{}
			e := newEnv(t, envOpts{store: store, logger: log.NewLogger(log.JSONHandler(logs))})

			blk := e.l1.Blocks[1]
			ref := e.l1.Blobs[0]
			fe0, _ := layout.FieldElementKey(&ref.Commitment, 0)
			call := cat(common.BytesToAddress([]byte{0x01}).Bytes(), u64(3000), make([]byte, 128)) // ecrecover of zeros
			blobHint := hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(e.l1.Blocks[ref.Block].Time())))
			type testCase struct {
				name  string
				hint  string
				key   preimage.Key
				write func(path string, key common.Hash) // the corruption
				want  []byte
			}
			cases := []testCase{
				{"wrong value", hint(preimage.HintL1BlockHeader, blk.Hash().Bytes()), preimage.Keccak256Key(blk.Hash()),
					func(_ string, k common.Hash) { must(t, store.Put(k, []byte("not the header"))) }, headerRLP(t, blk.Header())},
				{"torn hex file", hint(preimage.HintL1Transactions, blk.Hash().Bytes()), preimage.Keccak256Key(blk.TxHash()),
					func(p string, _ common.Hash) { writeFile(t, p, "f8b1a") }, nil},
				{"empty file", hint(preimage.HintL1Receipts, blk.Hash().Bytes()), preimage.Keccak256Key(blk.ReceiptHash()),
					func(p string, _ common.Hash) { writeFile(t, p, "") }, nil},
				{"precompile result without status", hint(preimage.HintL1PrecompileV2, call), preimage.PrecompileKey(crypto.Keccak256Hash(call)),
					func(_ string, k common.Hash) { must(t, store.Put(k, []byte{7})) }, []byte{1}},
			}
			// A forged answer of the right shape: ecrecover of zeros succeeds with no output, status 0 would
			// void a sender.
			cases = append(cases, testCase{"forged precompile answer", hint(preimage.HintL1PrecompileV2, call), preimage.PrecompileKey(crypto.Keccak256Hash(call)),
				func(_ string, k common.Hash) { must(t, store.Put(k, []byte{0})) }, []byte{1}})
			if format == "memory" { // a blob is 8193 preimages: too many files for a unit test
				// A blob stored whole, one element of it replaced by a canonical element of another blob: only
				// the whole blob's commitment tells.
				forged := e.l1.Blobs[1]
				fe5, _ := layout.FieldElementKey(&forged.Commitment, 5)
				storeWholeBlob := func(_ string, k common.Hash) {
					for i := range params.BlobTxFieldElementsPerBlob {
						key, in := layout.FieldElementKey(&forged.Commitment, i)
						must(t, store.Put(common.Hash(key.PreimageKey()), forged.Blob[i*32:i*32+32]))
						must(t, store.Put(common.Hash(preimage.KeccakKeyOf(in[:]).PreimageKey()), in[:]))
					}
					must(t, store.Put(k, ref.Blob[:32]))
				}
				cases = append(cases, testCase{"short blob field element", blobHint, fe0,
					func(_ string, k common.Hash) { must(t, store.Put(k, ref.Blob[:31])) }, ref.Blob[:32]},
					testCase{"forged blob field element", hint(preimage.HintL1Blob, cat(forged.VersionedHash[:], u64(e.l1.Blocks[forged.Block].Time()))),
						fe5, storeWholeBlob, forged.Blob[5*32 : 6*32]})
			}
			for _, tc := range cases {
				k := common.Hash(tc.key.PreimageKey())
				path := storePath(format, dir, k)
				if format == "memory" {
					if strings.Contains(tc.name, "file") {
						continue // no files
					}
				} else {
					must(t, os.MkdirAll(filepath.Dir(path), 0o755))
				}
				tc.write(path, k)
				corruptBefore := e.p.Stats().Snapshot().Corrupt
				require.NoError(t, e.p.Hint(tc.hint))
				v, err := e.p.GetPreimage(context.Background(), k)
				require.NoError(t, err, "%s", tc.name)
				require.NoError(t, kvstore.CheckValue(k, v), "%s: served", tc.name)
				require.False(t, tc.want != nil && !bytes.Equal(v, tc.want), "%s: served %x, want %x", tc.name, v, tc.want)
				stored, err := store.Get(k)
				require.NoError(t, err, "%s: the store holds %x, not the fetched value", tc.name, stored)
				require.Equal(t, v, stored, "%s: the store holds %x (%v), not the fetched value", tc.name, stored, err)
				require.Equal(t, corruptBefore+1, e.p.Stats().Snapshot().Corrupt, "%s: corruption counted %d times", tc.name, e.p.Stats().Snapshot().Corrupt-corruptBefore)
				require.Contains(t, logs.String(), k.Hex(), "%s: no warning naming key %s in the log:\n%s", tc.name, k, logs)
				require.Contains(t, logs.String(), "Stored preimage is corrupt", "%s: no warning naming key %s in the log:\n%s", tc.name, k, logs)
			}
			if format == "memory" {
				checkFieldElements(t, e, ref) // the whole blob was fetched again and is intact
			}
		})
	}
}

// TestCorruptStoredValueNotRefetchable: a corrupt value that the last hint does not provide is an error
// that says the stored value is corrupt.
func TestCorruptStoredValueNotRefetchable(t *testing.T) {
	e := newEnv(t, envOpts{})
	blk, other := e.l1.Blocks[1], e.l1.Blocks[2]
	k := common.Hash(preimage.Keccak256Key(other.Hash()).PreimageKey())
	must(t, e.kv.Put(k, []byte("torn")))
	_ = e.p.Hint(hint(preimage.HintL1BlockHeader, blk.Hash().Bytes()))
	_, err := e.p.GetPreimage(context.Background(), k)
	require.Error(t, err, "got")
	require.Contains(t, err.Error(), "corrupt", "got %v", err)
	require.Contains(t, err.Error(), k.Hex(), "got %v", err)
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(content), 0o644))
}
