package guestprof

import (
	"fmt"
	"io"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/faultproof/faultproof/vm"
)

// maxDepth bounds an unwind, against a corrupt or recursive stack.
const maxDepth = 256

// MIPS registers the unwinder reads.
const (
	regSP = 29
	regRA = 31
)

// Profiler accumulates samples of the guest's call stacks. Each sample weighs the steps run since the
// previous one, so the profile's total is the steps profiled.
type Profiler struct {
	syms    *Symbols
	stacks  map[string]*stackSample
	order   []*stackSample // first-seen order, for a deterministic profile
	pcs     []uint64
	samples uint64
	steps   uint64
}

type stackSample struct {
	pcs          []uint64 // innermost first; callers' pcs are their call instructions
	count, steps uint64
}

// NewProfiler returns a profiler for a program with the symbols syms.
func NewProfiler(syms *Symbols) *Profiler {
	return &Profiler{syms: syms, stacks: make(map[string]*stackSample)}
}

// Sample records the active thread's call stack in s as having taken steps steps.
func (p *Profiler) Sample(s *vm.State, steps uint64) {
	t := s.CurrentThread()
	if t == nil || steps == 0 {
		return
	}
	p.pcs = p.unwind(p.pcs[:0], t, s.Memory)
	var key strings.Builder
	for _, pc := range p.pcs {
		fmt.Fprintf(&key, "%x,", pc)
	}
	st := p.stacks[key.String()]
	if st == nil {
		st = &stackSample{pcs: append([]uint64(nil), p.pcs...)}
		p.stacks[key.String()] = st
		p.order = append(p.order, st)
	}
	st.count++
	st.steps += steps
	p.samples++
	p.steps += steps
}

// unwind appends t's call stack to pcs, as Go's own traceback walks a link-register architecture: a
// function's frame size at its pc comes from the pcsp table; the return address is in RA while the
// innermost function has no frame yet, else in the frame's first word.
func (p *Profiler) unwind(pcs []uint64, t *vm.Thread, mem *vm.Memory) []uint64 {
	pc, sp := t.Cpu.PC, t.Registers[regSP]
	pcs = append(pcs, pc)
	for innermost := true; len(pcs) < maxDepth; innermost = false {
		f := p.syms.lookup(pc)
		// A function that writes SP (a stack switch, morestack) has no frame size to unwind with.
		if f == nil || f.flag&(funcFlagTopFrame|funcFlagSPWrite) != 0 {
			break
		}
		at := pc
		if innermost && t.Cpu.NextPC != pc+4 && pc > f.entry {
			// A delay slot runs with the SP its branch left (an epilogue's slot runs after the frame is
			// popped), which the table, written for the code after the branch, does not say.
			at = pc - 4
		}
		delta := p.syms.spDelta(f, at)
		if delta < 0 {
			break
		}
		fp := sp + uint64(delta)
		var ret uint64
		if innermost && delta == 0 {
			ret = t.Registers[regRA]
		} else {
			if sp&7 != 0 {
				break
			}
			ret = mem.GetWord(sp)
		}
		if ret < 8 || ret&3 != 0 {
			break
		}
		// The return address is past the call's delay slot; the call is 8 bytes before it. A goroutine's
		// first function returns to goexit's second instruction, as if goexit had called it.
		pc, sp = ret-8, fp
		if next := p.syms.lookup(ret - 4); next != nil && next != p.syms.lookup(pc) {
			pc = ret - 4
		}
		pcs = append(pcs, pc)
	}
	return pcs
}

// Samples returns the number of samples taken and the steps they account for.
func (p *Profiler) Samples() (samples, steps uint64) { return p.samples, p.steps }

// Write writes the profile in pprof's format (gzipped protobuf). period is the sampling interval in steps.
func (p *Profiler) Write(w io.Writer, period uint64) error {
	prof := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "steps", Unit: "count"}},
		PeriodType: &profile.ValueType{Type: "steps", Unit: "count"},
		Period:     int64(period),
	}
	mapping := &profile.Mapping{ID: 1, Start: 0, Limit: ^uint64(0), File: "guest", HasFunctions: true,
		HasFilenames: true, HasLineNumbers: true}
	prof.Mapping = []*profile.Mapping{mapping}
	locs := make(map[uint64]*profile.Location)
	funcs := make(map[string]*profile.Function)
	location := func(pc uint64) *profile.Location {
		if l := locs[pc]; l != nil {
			return l
		}
		l := &profile.Location{ID: uint64(len(prof.Location) + 1), Mapping: mapping, Address: pc}
		name, start := fmt.Sprintf("0x%x", pc), int64(0)
		if f := p.syms.lookup(pc); f != nil {
			name, start = f.name, int64(f.startLine)
		}
		file, line := p.syms.position(pc)
		fn := funcs[name]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(prof.Function) + 1), Name: name, SystemName: name,
				Filename: file, StartLine: start}
			funcs[name] = fn
			prof.Function = append(prof.Function, fn)
		}
		l.Line = []profile.Line{{Function: fn, Line: int64(line)}}
		locs[pc] = l
		prof.Location = append(prof.Location, l)
		return l
	}
	for _, st := range p.order {
		smp := &profile.Sample{Value: []int64{int64(st.count), int64(st.steps)}}
		for _, pc := range st.pcs {
			smp.Location = append(smp.Location, location(pc))
		}
		prof.Sample = append(prof.Sample, smp)
	}
	if err := prof.CheckValid(); err != nil {
		return fmt.Errorf("invalid profile: %w", err)
	}
	return prof.Write(w)
}
