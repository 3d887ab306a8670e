package host

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// Prefetcher answers global keys. It is told every hint the program sends and may use them to fetch what
// the next keys need. The online prefetcher (RPC) implements it; so does OfflineSource.
type Prefetcher interface {
	Hint(hint string) error
	GetPreimage(ctx context.Context, key [32]byte) ([]byte, error)
}

// ErrMissingPreimage is returned offline for a key the datadir does not hold.
var ErrMissingPreimage = errors.New("missing preimage")

// ErrCorruptPreimage is returned offline for a key whose stored value fails its check (see
// kvstore.CheckValue), e.g. a file torn by a crash during an earlier online run.
var ErrCorruptPreimage = errors.New("corrupt preimage")

// OfflineSource serves global keys from a store and fetches nothing. It keeps the last hint to say, when a
// key is missing, what the program was looking for.
type OfflineSource struct {
	kv       kvstore.KV
	mu       sync.Mutex
	lastHint string
}

// NewOfflineSource serves from kv.
func NewOfflineSource(kv kvstore.KV) *OfflineSource {
	return &OfflineSource{kv: kv}
}

// Hint records the hint; offline there is nothing to fetch.
func (s *OfflineSource) Hint(hint string) error {
	s.mu.Lock()
	s.lastHint = hint
	s.mu.Unlock()
	return nil
}

// GetPreimage reads the key from the store and checks the value against it as far as the key allows.
func (s *OfflineSource) GetPreimage(_ context.Context, key [32]byte) ([]byte, error) {
	v, err := s.kv.Get(common.Hash(key))
	if err == nil {
		err = kvstore.CheckValue(key, v)
	}
	if errors.Is(err, kvstore.ErrCorrupt) {
		return nil, fmt.Errorf("%w: the value stored for %s key %s in the datadir is corrupt (%w); delete it, or run "+
			"online (--l1, --l2, --l1.beacon) with this datadir, which fetches it again and replaces it",
			ErrCorruptPreimage, preimage.KeyType(key[0]), common.Hash(key), err)
	}
	if errors.Is(err, kvstore.ErrNotFound) {
		s.mu.Lock()
		hint := s.lastHint
		s.mu.Unlock()
		if hint == "" {
			hint = "none"
		}
		return nil, fmt.Errorf("%w: %s key %s is not in the datadir and fetching is disabled (no --l1/--l2/--l1.beacon); last hint: %s",
			ErrMissingPreimage, preimage.KeyType(key[0]), common.Hash(key), truncateHint(hint))
	}
	return v, err
}

func truncateHint(h string) string {
	const max = 200
	if len(h) > max {
		return h[:max] + "..."
	}
	return h
}
