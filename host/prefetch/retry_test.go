package prefetch

import (
	"context"
	"errors"
	"testing"
	"time"
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
	if !errors.Is(err, ErrRetriesExhausted) || calls != 6 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if len(clock.waits) != len(want) {
		t.Fatalf("waits %v, want %v", clock.waits, want)
	}
	for i := range want {
		if clock.waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", clock.waits, want)
		}
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
	if err != nil || calls != 3 || len(retried) != 2 || clock.waits[0] != DefaultInitialBackoff {
		t.Fatalf("err %v, calls %d, retried %v, waits %v", err, calls, retried, clock.waits)
	}

	calls = 0
	boom := errors.New("boom")
	err = r.Do(context.Background(), nil, func(context.Context) error { calls++; return Permanent(boom) })
	if !errors.Is(err, boom) || !IsPermanent(err) || calls != 1 {
		t.Fatalf("permanent: %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = RetryPolicy{MaxAttempts: 5}.Do(ctx, nil, func(context.Context) error { calls++; return errors.New("transient") })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("cancelled: %v after %d calls", err, calls)
	}
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) is not nil")
	}
}
