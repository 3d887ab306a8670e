package kvstore

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

// BenchmarkPutSync measures 10,000 small writes (a 100-byte value each, like a trie node) into a new
// directory or file store, with and without an fsync of each file and its directory before and after the
// rename. ns/op is per batch of 10,000.
func BenchmarkPutSync(b *testing.B) {
	const writes = 10_000
	value := make([]byte, 100)
	for _, format := range []Format{FormatDirectory, FormatFile} {
		for _, durable := range []bool{false, true} {
			name := string(format) + "/nosync"
			if durable {
				name = string(format) + "/fsync"
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dir := b.TempDir()
					var put func(common.Hash, []byte) error
					if format == FormatFile {
						s, err := NewFile(dir)
						require.NoError(b, err)
						s.sync = durable
						put = s.Put
					} else {
						s, err := NewDirectory(dir)
						require.NoError(b, err)
						s.sync = durable
						put = s.Put
					}
					b.StartTimer()
					for n := 0; n < writes; n++ {
						key := common.Hash(sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(n))))
						require.NoError(b, put(key, value))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*writes), "µs/write")
			})
		}
	}
}
