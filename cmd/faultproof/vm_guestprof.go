package main

import (
	"debug/elf"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/guestprof"
)

// guestProfile is --pprof.guest: a sample of the guest's call stack every period steps.
type guestProfile struct {
	prof       *guestprof.Profiler
	path       string
	period     uint64
	last, next uint64 // the step of the last sample, and of the next one
}

func guestProfileFromCLI(ctx *cli.Context) (*guestProfile, error) {
	path := ctx.Path(vmRunPProfGuestFlag.Name)
	if path == "" {
		return nil, nil
	}
	elfPath := ctx.Path(vmRunPProfELFFlag.Name)
	if elfPath == "" {
		return nil, fmt.Errorf("--%s needs --%s, the ELF the state was loaded from", vmRunPProfGuestFlag.Name, vmRunPProfELFFlag.Name)
	}
	period := ctx.Uint64(vmRunPProfPeriodFlag.Name)
	if period == 0 {
		return nil, fmt.Errorf("invalid --%s 0: must be at least 1", vmRunPProfPeriodFlag.Name)
	}
	f, err := elf.Open(elfPath)
	if err != nil {
		return nil, fmt.Errorf("failed to open --%s: %w", vmRunPProfELFFlag.Name, err)
	}
	defer f.Close()
	syms, err := guestprof.LoadSymbols(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read the symbols of %s: %w", elfPath, err)
	}
	return &guestProfile{prof: guestprof.NewProfiler(syms), path: path, period: period}, nil
}

// start sets the first sample one period after step.
func (g *guestProfile) start(step uint64) { g.last, g.next = step, step+g.period }

// limit caps a run of n steps from step so that it stops at the next sample.
func (g *guestProfile) limit(step, n uint64) uint64 {
	if g == nil {
		return n
	}
	return max(1, min(n, g.next-step))
}

// sample takes a sample if the state has reached the next sample's step, or the program has exited.
func (g *guestProfile) sample(s *vm.State) {
	if g == nil || (s.Step < g.next && !(s.Exited && s.Step > g.last)) {
		return
	}
	g.prof.Sample(s, s.Step-g.last)
	g.start(s.Step)
}

func (g *guestProfile) write() error {
	samples, steps := g.prof.Samples()
	err := writeOutput(g.path, func(w io.Writer) error { return g.prof.Write(w, g.period) })
	if err != nil {
		return fmt.Errorf("failed to write the guest profile: %w", err)
	}
	log.Info("Wrote the guest profile", "file", g.path, "samples", samples, "steps", steps)
	return nil
}
