package prefetch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type recordingClock struct{ waits []time.Duration }

func (c *recordingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	return ctx.Err()
}

func TestRetryBackoff(t *testing.T) {
	clock := &recordingClock{}
	r := RetryPolicy{MaxAttempts: 6, InitialBackoff: time.Second, MaxBackoff: 5 * time.Second, Clock: clock}
	calls := 0
	err := r.Do(context.Background(), nil, func(context.Context) error {
		calls++
		return errors.New("transient")
	})
	require.ErrorIs(t, err, ErrRetriesExhausted, "err %v after %d calls", err, calls)
	require.Equal(t, 6, calls, "err %v after %d calls", err, calls)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	require.Len(t, clock.waits, len(want), "waits %v, want %v", clock.waits, want)
	for i := range want {
		require.Equal(t, want[i], clock.waits[i], "waits %v, want %v", clock.waits, want)
	}
}

func TestRetrySucceedsAndStops(t *testing.T) {
	clock := &recordingClock{}
	r := RetryPolicy{MaxAttempts: 5, Clock: clock}
	calls := 0
	var retried []int
	err := r.Do(context.Background(), func(attempt int, _ error, _ time.Duration) { retried = append(retried, attempt) }, func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	require.NoError(t, err, "err, calls %d, retried %v, waits %v", calls, retried, clock.waits)
	require.Equal(t, 3, calls, "err %v, calls %d, retried %v, waits %v", err, calls, retried, clock.waits)
	require.Len(t, retried, 2, "err %v, calls %d, retried %v, waits %v", err, calls, retried, clock.waits)
	require.Equal(t, DefaultInitialBackoff, clock.waits[0], "err %v, calls %d, retried %v, waits %v", err, calls, retried, clock.waits)

	calls = 0
	boom := errors.New("boom")
	err = r.Do(context.Background(), nil, func(context.Context) error { calls++; return Permanent(boom) })
	require.ErrorIs(t, err, boom, "permanent: %v after %d calls", err, calls)
	require.True(t, IsPermanent(err), "permanent: %v after %d calls", err, calls)
	require.Equal(t, 1, calls, "permanent: %v after %d calls", err, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = RetryPolicy{MaxAttempts: 5}.Do(ctx, nil, func(context.Context) error { calls++; return errors.New("transient") })
	require.ErrorIs(t, err, context.Canceled, "cancelled: %v after %d calls", err, calls)
	require.Equal(t, 1, calls, "cancelled: %v after %d calls", err, calls)
	require.NoError(t, Permanent(nil), "Permanent(nil) is not nil")
}
