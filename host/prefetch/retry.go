package prefetch

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Clock waits between attempts; tests replace it to run retries instantly.
type Clock interface {
	// Sleep waits for d, or returns ctx's error if ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock sleeps on the system clock.
type RealClock struct{}

func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Retry defaults: eight attempts, 0.5s doubling up to 15s between them (about 45s of waiting in all).
const (
	DefaultMaxAttempts    = 8
	DefaultInitialBackoff = 500 * time.Millisecond
	DefaultMaxBackoff     = 15 * time.Second
)

// RetryPolicy retries a failing operation with exponential backoff, a bounded number of times.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included; zero means DefaultMaxAttempts.
	MaxAttempts int
	// InitialBackoff is the wait after the first failure; it doubles after each further failure up to
	// MaxBackoff. Zero means the defaults.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Clock waits between attempts; nil means RealClock.
	Clock Clock
}

func (r RetryPolicy) withDefaults() RetryPolicy {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.InitialBackoff <= 0 {
		r.InitialBackoff = DefaultInitialBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.MaxBackoff < r.InitialBackoff {
		r.MaxBackoff = r.InitialBackoff
	}
	if r.Clock == nil {
		r.Clock = RealClock{}
	}
	return r
}

// Backoff is the wait after the given failed attempt (1-based).
func (r RetryPolicy) Backoff(attempt int) time.Duration {
	r = r.withDefaults()
	d := r.InitialBackoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// ErrRetriesExhausted wraps the last error once every attempt failed.
var ErrRetriesExhausted = errors.New("retries exhausted")

// permanentError marks an error that another attempt cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a malformed hint, an unsupported request, a mismatch that
// the same inputs will always produce).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Do runs fn until it succeeds, fails permanently, ctx ends, or MaxAttempts attempts failed. onRetry, if
// set, is called before each wait with the failed attempt's number, its error and the wait.
func (r RetryPolicy) Do(ctx context.Context, onRetry func(attempt int, err error, wait time.Duration), fn func(ctx context.Context) error) error {
	r = r.withDefaults()
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if IsPermanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if attempt >= r.MaxAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, attempt, err)
		}
		wait := r.Backoff(attempt)
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
		if serr := r.Clock.Sleep(ctx, wait); serr != nil {
			return errors.Join(fmt.Errorf("attempt %d: %w", attempt, err), serr)
		}
	}
}
