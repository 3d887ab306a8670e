package l1

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// Cache capacities, in entries. Each fetch costs VM steps (a hint round trip, a keccak per preimage, and
// for blobs a KZG commitment), so derivation's re-reads of recent blocks should hit; the bounds keep
// the program's memory predictable. Blobs are 128 KiB each, hence their small cache.
const (
	headerCacheSize     = 2048
	txsCacheSize        = 512
	receiptsCacheSize   = 512
	blobCacheSize       = 32
	precompileCacheSize = 1024
)

// caches hold verified results by what they were asked for. The LRUs evict by recency only, so what the
// program does never depends on map order.
type caches struct {
	headers     lru.BasicLRU[common.Hash, *types.Header]
	txs         lru.BasicLRU[common.Hash, types.Transactions]
	receipts    lru.BasicLRU[common.Hash, types.Receipts]
	blobs       lru.BasicLRU[common.Hash, *kzg4844.Blob]
	precompiles lru.BasicLRU[common.Hash, precompileResult]
}

// precompileResult is one accelerated call's answer.
type precompileResult struct {
	ret []byte
	ok  bool
}

func newCaches() *caches {
	return &caches{
		headers:     lru.NewBasicLRU[common.Hash, *types.Header](headerCacheSize),
		txs:         lru.NewBasicLRU[common.Hash, types.Transactions](txsCacheSize),
		receipts:    lru.NewBasicLRU[common.Hash, types.Receipts](receiptsCacheSize),
		blobs:       lru.NewBasicLRU[common.Hash, *kzg4844.Blob](blobCacheSize),
		precompiles: lru.NewBasicLRU[common.Hash, precompileResult](precompileCacheSize),
	}
}
