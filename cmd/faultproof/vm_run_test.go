package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunInterruptibly: a run that ends, one that ends once interrupted, and one that an interrupt cannot
// end (its request blocked on a server that holds on), which is given up after the grace period.
func TestRunInterruptibly(t *testing.T) {
	defer func(a, b time.Duration) { hostInterruptTimeout, hostExitGrace = a, b }(hostInterruptTimeout, hostExitGrace)
	hostInterruptTimeout, hostExitGrace = 100*time.Millisecond, 50*time.Millisecond
	boom := errors.New("boom")

	finished, err := runInterruptibly(context.Background(), func(context.Context) error { return boom })
	require.True(t, finished)
	require.ErrorIs(t, err, boom)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	finished, err = runInterruptibly(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	require.True(t, finished)
	require.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	blocked := make(chan struct{})
	defer close(blocked)
	start := time.Now()
	finished, err = runInterruptibly(ctx, func(context.Context) error { <-blocked; return nil })
	require.False(t, finished)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}
