package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// ErrBatchFailed is returned when a batch request got no answer as a whole: a transport or HTTP error, an
// answer that is not a list (as from nodes that do not take batches), or an error for every call. The
// same calls may still succeed one at a time.
var ErrBatchFailed = errors.New("batch request failed")

// HeaderAndAncestors asks, in one batch request, for the header of the block with the given hash and
// number and for the headers the node has at the count numbers below it. It returns the first, checked
// against hash, and the others highest first.
//
// The others are asked for by number: they are whatever the node holds at those numbers now, from another
// fork after a reorg, and are checked here only for decoding. The caller must check that each is the parent
// of the one before it (the first one of the header's) before it trusts them. The list ends before the first
// number the node did not answer: a block it does not have, a call that failed, or one past the node's
// limit on batch size.
func (s *ethSource) HeaderAndAncestors(ctx context.Context, hash common.Hash, number uint64, count int) (*types.Header, []*types.Header, error) {
	count = int(min(uint64(max(count, 0)), number))
	answers := make([]json.RawMessage, 1+count)
	elems := make([]rpc.BatchElem, 1+count)
	elems[0] = rpc.BatchElem{Method: "eth_getBlockByHash", Args: []any{hash, false}, Result: &answers[0]}
	for i := 1; i <= count; i++ {
		elems[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{hexutil.Uint64(number - uint64(i)), false}, Result: &answers[i]}
	}
	if err := s.rpc.batch(ctx, elems); err != nil {
		return nil, nil, fmt.Errorf("%s block %s and %d below: %w: %w", s.name, hash, count, ErrBatchFailed, err)
	}
	failed := 0
	for _, e := range elems {
		if e.Error != nil {
			failed++
		}
	}
	if failed == len(elems) {
		return nil, nil, fmt.Errorf("%s block %s and %d below: %w: every call: %w", s.name, hash, count, ErrBatchFailed, elems[0].Error)
	}
	if err := elems[0].Error; err != nil {
		return nil, nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
	}
	header, err := decodeHeader(answers[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
	}
	if got := header.Hash(); got != hash {
		return nil, nil, invalid("%s block %s: header hashes to %s", s.name, hash, got)
	}
	s.headers.Add(hash, header)
	var below []*types.Header
	for i := 1; i <= count && elems[i].Error == nil; i++ {
		h, err := decodeHeader(answers[i])
		if err != nil {
			break
		}
		below = append(below, h)
	}
	return types.CopyHeader(header), below, nil
}

// decodeHeader reads the header of a block answer; null is ErrNotFound.
func decodeHeader(raw json.RawMessage) (*types.Header, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, ErrNotFound
	}
	var h types.Header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, invalid("header: %v", err)
	}
	return &h, nil
}
