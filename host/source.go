package host

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
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
// prefetch.StoredCheck), e.g. a file torn by a crash during an earlier online run, or a forged precompile
// answer or blob element.
var ErrCorruptPreimage = errors.New("corrupt preimage")

// ErrUncheckablePreimage is returned offline for a blob element or precompile answer that cannot be checked
// because what it is checked with (its key's preimage, the rest of its blob, or the program's last hint)
// is not there.
var ErrUncheckablePreimage = errors.New("preimage cannot be checked")

// OfflineSource serves global keys from a store and fetches nothing. It keeps the last hint to say, when a
// key is missing, what the program was looking for, to check blob elements and precompile answers, and to
// answer precompile keys the store lacks: a datadir written by op-program or kona has no answers for the
// precompile calls our program makes (op-program recovers transaction senders inside the VM, we ask the
// oracle's ecrecover), and the host computes them itself as it does online, without a network.
type OfflineSource struct {
	log      log.Logger
	kv       kvstore.KV
	check    *prefetch.StoredCheck
	mu       sync.Mutex
	lastHint string
	computed int // precompile answers computed so far
}

// NewOfflineSource serves from kv.
func NewOfflineSource(logger log.Logger, kv kvstore.KV) *OfflineSource {
	return &OfflineSource{log: logger, kv: kv, check: prefetch.NewStoredCheck(kv)}
}

// Hint records the hint; offline there is nothing to fetch.
func (s *OfflineSource) Hint(hint string) error {
	s.mu.Lock()
	s.lastHint = hint
	s.mu.Unlock()
	return nil
}

func (s *OfflineSource) hint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHint
}

// GetPreimage reads the key from the store and checks the value against it: by its hash, or for blob
// elements and precompile answers by what they answer (prefetch.StoredCheck).
func (s *OfflineSource) GetPreimage(_ context.Context, key [32]byte) ([]byte, error) {
	if v, ok := s.check.Cached(key); ok {
		return v, nil
	}
	hint := s.hint()
	v, err := s.kv.Get(common.Hash(key))
	if err == nil {
		err = s.check.Check(key, v, hint)
	}
	name := fmt.Sprintf("%s key %s", preimage.KeyType(key[0]), common.Hash(key))
	switch {
	case errors.Is(err, kvstore.ErrCorrupt):
		return nil, fmt.Errorf("%w: the value stored for %s in the datadir is corrupt (%w); delete it, or run "+
			"online (--l1, --l2, --l1.beacon) with this datadir, which fetches it again and replaces it",
			ErrCorruptPreimage, name, err)
	case errors.Is(err, prefetch.ErrUnverifiable):
		return nil, fmt.Errorf("%w: the value stored for %s in the datadir (%w); run online (--l1, --l2, --l1.beacon) "+
			"with this datadir, which fetches it again with what checks it", ErrUncheckablePreimage, name, err)
	case errors.Is(err, kvstore.ErrNotFound):
		if v, ok, err := s.precompile(key, hint); ok || err != nil {
			return v, err
		}
		if hint == "" {
			hint = "none"
		}
		return nil, fmt.Errorf("%w: %s is not in the datadir and fetching is disabled (no --l1/--l2/--l1.beacon); last hint: %s",
			ErrMissingPreimage, name, truncateHint(hint))
	case err != nil:
		return nil, err
	}
	return v, nil
}

// precompile answers a precompile key the store lacks when the last hint is the precompile call that
// the key names (ok), with the answer computed by the online route's code and stored. A call to a
// precompile the host does not run is an error.
func (s *OfflineSource) precompile(key [32]byte, hint string) (v []byte, ok bool, err error) {
	if preimage.KeyType(key[0]) != preimage.PrecompileKeyType {
		return nil, false, nil
	}
	typ, data, err := preimage.ParseHint(hint)
	if err != nil || (typ != preimage.HintL1Precompile && typ != preimage.HintL1PrecompileV2) {
		return nil, false, nil
	}
	res, err := prefetch.RunPrecompile(typ, data)
	if err != nil {
		return nil, false, fmt.Errorf("precompile key %s is not in the datadir, and its hint cannot be answered offline: %w", common.Hash(key), err)
	}
	if res.Key.PreimageKey() != key {
		return nil, false, nil // the hint announced another call: this key stays missing
	}
	if err := kvstore.CheckValue(key, res.Answer); err != nil {
		return nil, false, err
	}
	callKey := preimage.Keccak256Key(common.Hash(res.Key)).PreimageKey()
	if err := preimage.Verify(callKey, res.Call); err != nil {
		return nil, false, err
	}
	// Stored, so that the datadir is complete for the next replay or a bundle; a read-only datadir still
	// gets its answer.
	for _, kv := range []struct {
		key   [32]byte
		value []byte
	}{{callKey, res.Call}, {key, res.Answer}} {
		if err := s.kv.Put(common.Hash(kv.key), kv.value); err != nil {
			s.log.Warn("Cannot store a computed precompile answer", "key", common.Hash(kv.key), "err", err)
		}
	}
	s.mu.Lock()
	if s.computed == 0 {
		s.log.Info("Computing precompile answers the datadir lacks", "first", common.Hash(key), "hint", typ)
	}
	s.computed++
	s.mu.Unlock()
	s.log.Debug("Computed precompile answer", "key", common.Hash(key), "address", common.BytesToAddress(res.Call[:common.AddressLength]))
	return res.Answer, true, nil
}

func truncateHint(h string) string {
	const max = 200
	if len(h) > max {
		return h[:max] + "..."
	}
	return h
}
