// Package units formats the quantities the CLI's logs and tables report: memory as Cannon's logs write it,
// and VM steps per second.
package units

import (
	"fmt"
	"time"
)

// Bytes formats a byte count as Cannon's memory usage ("1.5 MiB").
func Bytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(1024), 0
	for m := n / 1024; m >= 1024; m /= 1024 {
		div *= 1024
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// PerSecond is the rate of n events (VM steps) in d; 0 if no time passed.
func PerSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
