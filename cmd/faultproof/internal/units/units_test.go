package units

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 4096: "4.0 KiB", 495 * 4096: "1.9 MiB", 3 << 30: "3.0 GiB"} {
		require.Equal(t, want, Bytes(n))
	}
}

func TestPerSecond(t *testing.T) {
	require.Equal(t, 2000.0, PerSecond(1000, 500*time.Millisecond))
	require.Zero(t, PerSecond(1000, 0))
}
