package bundle

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

type record struct {
	key   common.Hash
	value []byte
}

// writeRaw writes the decompressed bundle format with the given manifest and records, without the
// checks of Writer, to w.
func writeRaw(w io.Writer, manifest []byte, recs ...record) {
	hdr := append([]byte(Magic), 0, 0, 0, byte(Version))
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(manifest)))
	w.Write(hdr)
	w.Write(manifest)
	for _, r := range recs {
		b := append([]byte{tagRecord}, r.key[:]...)
		w.Write(binary.BigEndian.AppendUint32(b, uint32(len(r.value))))
		w.Write(r.value)
	}
	w.Write(binary.BigEndian.AppendUint64([]byte{tagEnd}, uint64(len(recs))))
}

// rawBundle returns a gzip'd bundle written with writeRaw.
func rawBundle(t *testing.T, manifest []byte, recs ...record) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	writeRaw(gz, manifest, recs...)
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func typedKey(typ preimage.KeyType, seed byte) common.Hash {
	k := crypto.Keccak256Hash([]byte{seed})
	k[0] = byte(typ)
	return k
}

// TestReadChecksValueShape reads bundles with one record whose value cannot be its key's: each is refused
// with an error naming the key, and the writer refuses to write it.
func TestReadChecksValueShape(t *testing.T) {
	good := []byte("a keccak256 preimage")
	tests := []struct {
		name string
		rec  record
		want string
	}{
		{"keccak256 value of another key", record{preimage.Keccak256Key(crypto.Keccak256Hash([]byte("x"))).PreimageKey(), good}, "hashes to"},
		{"sha256 value of another key", record{typedKey(preimage.Sha256KeyType, 1), good}, "hashes to"},
		{"blob field element of 31 bytes", record{typedKey(preimage.BlobKeyType, 2), make([]byte, 31)}, "blob field element of 31 bytes"},
		{"blob field element of 33 bytes", record{typedKey(preimage.BlobKeyType, 2), make([]byte, 33)}, "blob field element of 33 bytes"},
		{"precompile answer with status 2", record{typedKey(preimage.PrecompileKeyType, 3), []byte{2, 0xaa}}, "status byte"},
		{"empty precompile answer", record{typedKey(preimage.PrecompileKeyType, 3), nil}, "status byte"},
		{"local key", record{preimage.LocalIndexKey(1).PreimageKey(), make([]byte, 32)}, "local keys come from the run's configuration"},
		{"unknown key type 3", record{typedKey(3, 4), good}, "unsupported"},
		{"zero key", record{common.Hash{}, good}, "unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, Manifest{})
			require.NoError(t, err)
			require.Error(t, w.Add(tt.rec.key, tt.rec.value))

			_, _, err = Read(bytes.NewReader(rawBundle(t, []byte(`{}`), tt.rec)), kvstore.NewMem(), 0)
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), tt.rec.key.Hex())
			require.Contains(t, err.Error(), tt.want)
		})
	}
	// The shapes that are right are read.
	recs := []record{
		{preimage.Keccak256Key(crypto.Keccak256Hash(good)).PreimageKey(), good},
		{typedKey(preimage.BlobKeyType, 5), make([]byte, 32)},
		{typedKey(preimage.PrecompileKeyType, 6), []byte{0}},
		{typedKey(preimage.PrecompileKeyType, 7), append([]byte{1}, make([]byte, 64)...)},
	}
	kv := kvstore.NewMem()
	_, n, err := Read(bytes.NewReader(rawBundle(t, []byte(`{}`), recs...)), kv, 0)
	require.NoError(t, err)
	require.EqualValues(t, len(recs), n)
}

// zeroBomb is a bundle of precompile answers of 1 MiB of zeros each (right in shape), totalling n MiB
// decompressed, written straight to a gzip stream.
func zeroBomb(t *testing.T, mib int) []byte {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	require.NoError(t, err)
	recs := make([]record, mib)
	value := make([]byte, 1<<20)
	for i := range recs {
		recs[i] = record{typedKey(preimage.PrecompileKeyType, byte(i)), value}
		binary.BigEndian.PutUint64(recs[i].key[24:], uint64(i))
	}
	writeRaw(gz, []byte(`{}`), recs...)
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func heapAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadSizeLimit reads a bundle of 256 MiB that compresses to a few hundred KB with a limit of
// 32 MiB: it stops at the limit, having allocated no more than the limit. A record whose size alone
// goes past the limit is refused before it is read; a bundle right at the limit is read.
func TestReadSizeLimit(t *testing.T) {
	bomb := zeroBomb(t, 256)
	t.Logf("bomb: %d KB compressed, 256 MiB decompressed", len(bomb)>>10)
	var err error
	var n uint64
	allocated := heapAllocated(func() { _, n, err = Read(bytes.NewReader(bomb), discardKV{}, 32<<20) })
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "limit of 33554432 bytes")
	require.Less(t, n, uint64(32))
	require.Less(t, allocated, uint64(48<<20), "allocated while reading")

	// The default limit holds the bomb.
	_, n, err = Read(bytes.NewReader(bomb), discardKV{}, 0)
	require.NoError(t, err)
	require.EqualValues(t, 256, n)

	// A record that claims more than what is left is refused at once.
	claim := rawBundle(t, []byte(`{}`), record{typedKey(preimage.PrecompileKeyType, 1), []byte{1}})
	raw := gunzip(t, claim)
	binary.BigEndian.PutUint32(raw[8+4+4+2+1+32:], 1<<20)
	_, _, err = Read(bytes.NewReader(regzip(raw[:len(raw)-9])), discardKV{}, 1<<16)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "record 0")

	// A value above MaxValueSize is refused before it is read.
	binary.BigEndian.PutUint32(raw[8+4+4+2+1+32:], MaxValueSize+1)
	_, _, err = Read(bytes.NewReader(regzip(raw)), discardKV{}, 0)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "more than the 64 MiB of any preimage")

	// Right at the limit.
	good := rawBundle(t, []byte(`{}`), record{typedKey(preimage.PrecompileKeyType, 1), []byte{1, 2, 3}})
	size := uint64(len(gunzip(t, good)))
	_, _, err = Read(bytes.NewReader(good), discardKV{}, size)
	require.NoError(t, err)
	_, _, err = Read(bytes.NewReader(good), discardKV{}, size-1)
	require.ErrorIs(t, err, ErrTooLarge)
}

// discardKV is a store that keeps nothing.
type discardKV struct{}

func (discardKV) Put(common.Hash, []byte) error   { return nil }
func (discardKV) Get(common.Hash) ([]byte, error) { return nil, kvstore.ErrNotFound }
func (discardKV) Close() error                    { return nil }

func importBundle(b []byte, dir string, format kvstore.Format, maxSize uint64) (*Manifest, uint64, error) {
	r, err := NewReader(bytes.NewReader(b), maxSize)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	n, err := r.Import(dir, format)
	return r.Manifest(), n, err
}

// TestImport unpacks bundles into new datadirs: a good bundle gives a complete datadir of the requested
// format; a bundle that turns out bad at its end leaves nothing behind; an existing directory is
// refused.
func TestImport(t *testing.T) {
	want := testPreimages()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Manifest{Run: testRun(t)})
	require.NoError(t, err)
	for k, v := range want {
		require.NoError(t, w.Add(k, v))
	}
	require.NoError(t, w.Close())
	good := buf.Bytes()

	for _, format := range kvstore.Formats {
		t.Run(string(format), func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "preimages")
			m, n, err := importBundle(good, dir, format, 0)
			require.NoError(t, err)
			require.EqualValues(t, len(want), n)
			require.EqualValues(t, 77, m.Run.L2ClaimBlockNumber)
			got, err := DataDirFormat(dir)
			require.NoError(t, err)
			require.Equal(t, format, got)
			kv, _, err := kvstore.Open(dir, format)
			require.NoError(t, err)
			for k, v := range want {
				got, err := kv.Get(k)
				require.NoError(t, err)
				require.Equal(t, v, got)
			}
			require.NoError(t, kv.Close())
			entries, err := os.ReadDir(parent)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the datadir is left")

			_, _, err = importBundle(good, dir, format, 0)
			require.ErrorContains(t, err, "already exists")
		})
	}

	// The last record is damaged: by then the others are written, but no datadir appears.
	raw := gunzip(t, good)
	raw[len(raw)-9-1] ^= 1
	for _, bad := range [][]byte{regzip(raw), good[:len(good)-20]} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "preimages")
		_, _, err = importBundle(bad, dir, kvstore.FormatDirectory, 0)
		require.ErrorIs(t, err, ErrCorrupt)
		entries, err := os.ReadDir(parent)
		require.NoError(t, err)
		require.Empty(t, entries, "a failed import left %v", entries)
	}
	// Over the limit: no datadir either.
	parent := t.TempDir()
	_, _, err = importBundle(zeroBomb(t, 8), filepath.Join(parent, "d"), kvstore.FormatDirectory, 4<<20)
	require.ErrorIs(t, err, ErrTooLarge)
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Empty(t, entries)
}
