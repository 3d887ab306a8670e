package prefetch

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Stats counts what the prefetcher did. It is safe for concurrent use; pass CountRPC to the sources'
// request hook so their requests are counted too.
type Stats struct {
	mu       sync.Mutex
	rpcCalls map[string]uint64
	hints    map[string]uint64
	fetches  map[string]uint64

	retries   atomic.Uint64
	failures  atomic.Uint64
	misses    atomic.Uint64
	corrupt   atomic.Uint64
	preimages atomic.Uint64
	bytes     atomic.Uint64
}

// NewStats returns zeroed statistics.
func NewStats() *Stats {
	return &Stats{rpcCalls: map[string]uint64{}, hints: map[string]uint64{}, fetches: map[string]uint64{}}
}

// CountRPC counts one request of the given method.
func (s *Stats) CountRPC(method string) { s.inc(s.rpcCalls, method) }

func (s *Stats) inc(m map[string]uint64, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

// StatsSnapshot is a copy of the counters at one moment.
type StatsSnapshot struct {
	// RPCCalls counts requests sent, by JSON-RPC method or beacon endpoint.
	RPCCalls map[string]uint64
	// Hints counts hints received, by type.
	Hints map[string]uint64
	// Fetches counts fetches started for a hint, by hint type (retries not included).
	Fetches map[string]uint64
	// Retries counts attempts repeated after a failure.
	Retries uint64
	// Failures counts fetches that failed for good.
	Failures uint64
	// Misses counts preimage requests the store could not answer at first.
	Misses uint64
	// Corrupt counts reads of stored values that failed their check (and were fetched again).
	Corrupt uint64
	// Preimages and Bytes count what was written to the store.
	Preimages uint64
	Bytes     uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StatsSnapshot{
		RPCCalls: maps.Clone(s.rpcCalls), Hints: maps.Clone(s.hints), Fetches: maps.Clone(s.fetches),
		Retries: s.retries.Load(), Failures: s.failures.Load(), Misses: s.misses.Load(),
		Corrupt:   s.corrupt.Load(),
		Preimages: s.preimages.Load(), Bytes: s.bytes.Load(),
	}
}

// TotalRPCCalls sums RPCCalls.
func (s StatsSnapshot) TotalRPCCalls() uint64 {
	var n uint64
	for _, v := range s.RPCCalls {
		n += v
	}
	return n
}

// LogFields are key-value pairs for a log line; requests by method come as "rpc_<method>" keys, sorted.
func (s StatsSnapshot) LogFields() []any {
	fields := []any{"preimages", s.Preimages, "bytes", s.Bytes, "misses", s.Misses, "corrupt", s.Corrupt, "retries", s.Retries,
		"failures", s.Failures, "requests", s.TotalRPCCalls()}
	for _, m := range slices.Sorted(maps.Keys(s.RPCCalls)) {
		fields = append(fields, "rpc_"+m, s.RPCCalls[m])
	}
	return fields
}
