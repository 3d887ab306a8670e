package client

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
)

// recorder is a slog handler that keeps the numbers of the blocks the program reports it derived.
type recorder struct {
	mu      sync.Mutex
	derived []uint64
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "Derived block" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "number" {
			r.mu.Lock()
			r.derived = append(r.derived, a.Value.Uint64())
			r.mu.Unlock()
		}
		return true
	})
	return nil
}

// TestStopsAtTheClaimedBlock: the program derives exactly the blocks from the agreed one to the claimed
// one and never builds the next, although L1 holds its batch.
func TestStopsAtTheClaimedBlock(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 30})
	require.NoError(t, err)
	const agreed, claim = 20, 23
	values := d.Preimages()
	local, err := d.LocalPreimages(agreed, d.OutputRoot(claim), claim)
	require.NoError(t, err)
	for k, v := range local {
		values[k] = v
	}
	rec := &recorder{}
	o := &testOracle{values: values}
	require.NoError(t, Run(log.NewLogger(rec), o, o))
	require.Equal(t, []uint64{21, 22, 23}, rec.derived)
}
