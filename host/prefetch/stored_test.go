package prefetch_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// BenchmarkStoredCheckBlob measures what checking stored blob elements costs: the first element of a blob
// checks the whole blob (4096 reads and a KZG commitment), the others are served from the checked blob
// (as OfflineSource and Prefetcher do). "read only" is what serving a blob cost before it was checked.
func BenchmarkStoredCheckBlob(b *testing.B) {
	chain, err := devnettest.L1()
	require.NoError(b, err)
	ref := chain.Blobs[0]
	for _, format := range []kvstore.Format{"memory", kvstore.FormatDirectory, kvstore.FormatPebble} {
		var kv kvstore.KV = kvstore.NewMem()
		if format != "memory" {
			kv, _, err = kvstore.Open(b.TempDir(), format)
			require.NoError(b, err)
		}
		keys := make([][32]byte, params.BlobTxFieldElementsPerBlob)
		for i := range keys {
			key, in := layout.FieldElementKey(&ref.Commitment, i)
			keys[i] = key.PreimageKey()
			must(b, kv.Put(common.Hash(keys[i]), ref.Blob[i*32:i*32+32]))
			must(b, kv.Put(common.Hash(preimage.KeccakKeyOf(in[:]).PreimageKey()), in[:]))
		}
		b.Run(string(format)+"/first element", func(b *testing.B) {
			for b.Loop() {
				require.NoError(b, prefetch.NewStoredCheck(kv).Check(keys[0], ref.Blob[:32], ""))
			}
		})
		b.Run(string(format)+"/whole blob", func(b *testing.B) {
			for b.Loop() {
				c := prefetch.NewStoredCheck(kv)
				for i, k := range keys {
					if _, ok := c.Cached(k); ok {
						continue
					}
					v, err := kv.Get(common.Hash(k))
					require.NoError(b, err)
					require.NoError(b, c.Check(k, v, ""), "element %d", i)
				}
			}
		})
		b.Run(string(format)+"/read only", func(b *testing.B) {
			for b.Loop() {
				for _, k := range keys {
					_, err := kv.Get(common.Hash(k))
					require.NoError(b, err)
				}
			}
		})
		b.Run(string(format)+"/commitment only", func(b *testing.B) {
			for b.Loop() {
				_, err := kzg4844.BlobToCommitment(ref.Blob)
				require.NoError(b, err)
			}
		})
		kv.Close()
	}
}
