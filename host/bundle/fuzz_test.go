package bundle

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// fuzzSeeds returns decompressed bundles of real preimages: the headers, transaction and state trie
// nodes and code of a devnet L2 chain of two blocks, with a sha256 preimage, a blob field element and a
// precompile answer, and the chain's run configuration; and the same bundle cut, without records, and
// without a run.
func fuzzSeeds(tb testing.TB) [][]byte {
	b, err := devnet.NewL2Builder()
	require.NoError(tb, err)
	require.NoError(tb, b.Build(2))
	values, err := b.Preimages()
	require.NoError(tb, err)
	keys := slices.SortedFunc(func(yield func([32]byte) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	var recs []record
	for _, k := range keys[:min(len(keys), 40)] {
		recs = append(recs, record{k, values[k]})
	}
	sha := []byte("a sha256 preimage")
	recs = append(recs,
		record{preimage.Sha256Key(sha256.Sum256(sha)).PreimageKey(), sha},
		record{typedKey(preimage.BlobKeyType, 9), bytes.Repeat([]byte{0x42}, 32)},
		record{typedKey(preimage.PrecompileKeyType, 10), append([]byte{1}, make([]byte, 32)...)},
	)
	l2, rcfg := devnet.DefaultConfigs()
	run := &Run{L1Head: common.Hash{1}, L2Head: common.Hash{2}, L2OutputRoot: common.Hash{3}, L2Claim: common.Hash{4}, L2ClaimBlockNumber: 2}
	run.Rollup, err = json.Marshal(rcfg)
	require.NoError(tb, err)
	run.L2ChainConfig, err = json.Marshal(l2)
	require.NoError(tb, err)
	manifest, err := json.Marshal(Manifest{Version: Version, Source: "devnet", Run: run})
	require.NoError(tb, err)
	raw := func(manifest []byte, recs ...record) []byte {
		var buf bytes.Buffer
		writeRaw(&buf, manifest, recs...)
		return buf.Bytes()
	}
	full := raw(manifest, recs...)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(full)
	w.Close()
	_, n, err := Read(&gz, kvstore.NewMem(), 0)
	require.NoError(tb, err, "the seed bundle of %d records: %d read", len(recs), n)
	require.Equal(tb, uint64(len(recs)), n, "the seed bundle of %d records: %d read, %v", len(recs), n, err)
	return [][]byte{full, full[:len(full)/2], raw(manifest), raw([]byte(`{"version":1}`), recs[:5]...)}
}

// FuzzRead reads mutated bundles (the fuzzer mutates the decompressed stream; each input is gzip'd
// before Read): no panic; a bundle is refused as corrupt or too large, or read whole, with every value
// stored passing the checks and the bundle written again from the store read back the same.
//
// Long run: go test ./host/bundle -run XXX -fuzz '^FuzzRead$' -fuzztime 30m -fuzzminimizetime 10x
func FuzzRead(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		w.Write(raw)
		w.Close()
		kv := &recordingKV{Mem: kvstore.NewMem()}
		m, n, err := Read(bytes.NewReader(gz.Bytes()), kv, 1<<20)
		if err != nil {
			require.False(t, !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedVersion), "error of no known kind: %v", err)
			return
		}
		require.Equal(t, uint64(len(kv.order)), n, "%d records read, %d stored", n, len(kv.order))
		require.NotNil(t, m, "%d records read, %d stored", n, len(kv.order))
		// Written again from the store (last value of each key, in first-seen order), the bundle reads
		// back to the same store.
		var again bytes.Buffer
		bw, err := NewWriter(&again, *m)
		require.NoError(t, err)
		seen := map[common.Hash]bool{}
		for _, k := range kv.order {
			if seen[k] {
				continue
			}
			seen[k] = true
			v, err := kv.Get(k)
			require.NoError(t, err)
			require.NoError(t, bw.Add(k, v), "a value Read accepted is refused by the writer")
		}
		require.NoError(t, bw.Close())
		kv2 := kvstore.NewMem()
		_, n2, err := Read(&again, kv2, 0)
		require.NoError(t, err, "re-read: %d records", n2)
		require.Equal(t, uint64(len(seen)), n2, "re-read: %d records, %v", n2, err)
		for k := range seen {
			v1, _ := kv.Get(k)
			v2, err := kv2.Get(k)
			require.NoError(t, err, "key %s differs after the round trip", k)
			require.Equal(t, v2, v1, "key %s differs after the round trip", k)
		}
	})
}

// recordingKV remembers the order of the keys put.
type recordingKV struct {
	*kvstore.Mem
	order []common.Hash
}

func (r *recordingKV) Put(k common.Hash, v []byte) error {
	r.order = append(r.order, k)
	return r.Mem.Put(k, v)
}
