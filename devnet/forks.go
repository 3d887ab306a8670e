package devnet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultproof/faultproof/rollup"
)

// Named fork schedules for ParseForks.
const (
	// ForksDefault is DevnetForkHeights: every fork at its own block.
	ForksDefault = "default"
	// ForksAllGenesis activates every fork at genesis.
	ForksAllGenesis = "all-genesis"
)

// AllForksAtGenesis activates every fork from Regolith to Karst at genesis.
func AllForksAtGenesis() ForkSchedule {
	var s ForkSchedule
	for _, f := range rollup.Forks {
		s = append(s, forkHeight(f, 0))
	}
	return s
}

// forkHeight is one row of a ForkSchedule.
func forkHeight(f rollup.Fork, height uint64) struct {
	Fork   rollup.Fork
	Height uint64
} {
	return struct {
		Fork   rollup.Fork
		Height uint64
	}{f, height}
}

// ParseForks reads a fork schedule: "default" (DevnetForkHeights), "all-genesis", or a list of
// <fork>@<block> activations, e.g. "holocene@20" or "ecotone@12,isthmus@30". In a list, a fork not named
// activates with the nearest named fork before it (at genesis if there is none), and the forks after the
// last named one never activate: "holocene@20" is Regolith to Granite at genesis, Holocene at block 20 and
// nothing after it; "ecotone@12,isthmus@30" activates Ecotone, Fjord and Granite at 12 and Holocene with
// Isthmus at 30.
func ParseForks(s string) (ForkSchedule, error) {
	switch s {
	case "", ForksDefault:
		return slices.Clone(DevnetForkHeights), nil
	case ForksAllGenesis:
		return AllForksAtGenesis(), nil
	}
	named := map[rollup.Fork]uint64{}
	last := -1
	for _, item := range strings.Split(s, ",") {
		name, at, ok := strings.Cut(strings.TrimSpace(item), "@")
		if !ok {
			return nil, fmt.Errorf("fork schedule %q: %q is not <fork>@<block> (or use %q, %q)", s, item, ForksDefault, ForksAllGenesis)
		}
		i := slices.Index(rollup.Forks, rollup.Fork(strings.ToLower(name)))
		if i < 0 {
			return nil, fmt.Errorf("fork schedule %q: unknown fork %q (known: %v)", s, name, rollup.Forks)
		}
		height, err := strconv.ParseUint(at, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("fork schedule %q: block of %s: %w", s, name, err)
		}
		if _, dup := named[rollup.Forks[i]]; dup {
			return nil, fmt.Errorf("fork schedule %q: %s named twice", s, name)
		}
		named[rollup.Forks[i]] = height
		last = max(last, i)
	}
	var out ForkSchedule
	height := uint64(0)
	for _, f := range rollup.Forks[:last+1] {
		if h, ok := named[f]; ok {
			if h < height {
				return nil, fmt.Errorf("fork schedule %q: %s at block %d is before an earlier fork (block %d)", s, f, h, height)
			}
			height = h
		}
		out = append(out, forkHeight(f, height))
	}
	return out, nil
}

// FormatForks writes a schedule in the list form ParseForks reads back.
func FormatForks(s ForkSchedule) string {
	parts := make([]string, len(s))
	for i, fh := range s {
		parts[i] = fmt.Sprintf("%s@%d", fh.Fork, fh.Height)
	}
	return strings.Join(parts, ",")
}

// checkForks requires a schedule to name known forks, each once, in order and without gaps (a fork
// scheduled only if every earlier one is), at non-decreasing heights.
func checkForks(s ForkSchedule) error {
	for i, fh := range s {
		if i >= len(rollup.Forks) || fh.Fork != rollup.Forks[i] {
			return fmt.Errorf("fork schedule %s: entry %d is %s, expected %s (forks in order, none skipped)", FormatForks(s), i, fh.Fork, nextFork(i))
		}
		if i > 0 && fh.Height < s[i-1].Height {
			return fmt.Errorf("fork schedule %s: %s at block %d is before %s at %d", FormatForks(s), fh.Fork, fh.Height, s[i-1].Fork, s[i-1].Height)
		}
		// op-node makes the L1 info deposit of a block that activates Isthmus in the Ecotone format, and
		// op-geth (v1.101702.3, types.CalcDAFootprint) knows the Jovian activation block only by an
		// Isthmus-format one: it cannot build a block that activates both.
		if fh.Fork == rollup.Jovian && fh.Height > 0 && fh.Height == s[i-1].Height {
			return fmt.Errorf("fork schedule %s: Isthmus and Jovian activate in the same block %d, which op-geth cannot build (its DA footprint needs an Isthmus L1 info deposit in the Jovian activation block)", FormatForks(s), fh.Height)
		}
	}
	return nil
}

func nextFork(i int) string {
	if i < len(rollup.Forks) {
		return string(rollup.Forks[i])
	}
	return "nothing more"
}
