package syscallcheck

import (
	"fmt"
	"slices"
)

// ---- Abstract values ----

type elemKind uint8

const (
	elemConst elemKind = iota // the value v
	elemArg                   // the incoming stack word at entry SP + int64(v)
	elemStack                 // the address entry SP + int64(v)
)

type elem struct {
	kind elemKind
	v    uint64
}

// absVal is a set of possible values, or unknown (top, with the reason).
type absVal struct {
	top   bool
	why   string
	elems []elem // sorted, no duplicates; never modified once built
}

const maxElems = 64

func topVal(why string) absVal        { return absVal{top: true, why: why} }
func constVal(v uint64) absVal        { return absVal{elems: []elem{{elemConst, v}}} }
func (a absVal) single() (elem, bool) { return elemOrZero(a), !a.top && len(a.elems) == 1 }

func elemOrZero(a absVal) elem {
	if len(a.elems) == 0 {
		return elem{}
	}
	return a.elems[0]
}

func cmpElem(x, y elem) int {
	if x.kind != y.kind {
		return int(x.kind) - int(y.kind)
	}
	switch {
	case x.v < y.v:
		return -1
	case x.v > y.v:
		return 1
	}
	return 0
}

func makeVal(es []elem) absVal {
	slices.SortFunc(es, cmpElem)
	es = slices.Compact(es)
	if len(es) > maxElems {
		return topVal(fmt.Sprintf("more than %d possible values", maxElems))
	}
	return absVal{elems: es}
}

func (a absVal) equal(b absVal) bool {
	if a.top || b.top {
		return a.top == b.top
	}
	return slices.Equal(a.elems, b.elems)
}

func joinVals(a, b absVal) absVal {
	switch {
	case a.top:
		return a
	case b.top:
		return b
	case len(a.elems) == 0:
		return b
	case len(b.elems) == 0:
		return a
	}
	return makeVal(append(slices.Clone(a.elems), b.elems...))
}

// mapConst applies f to every constant of a; any other element makes the result unknown.
func mapConst(a absVal, what string, f func(uint64) uint64) absVal {
	if a.top {
		return a
	}
	es := make([]elem, len(a.elems))
	for i, e := range a.elems {
		if e.kind != elemConst {
			return topVal(what + " of a non-constant")
		}
		es[i] = elem{elemConst, f(e.v)}
	}
	return makeVal(es)
}

func sext32(v uint64) uint64 { return uint64(int64(int32(uint32(v)))) }

// ---- Abstract states ----

// absState is the abstract machine state before an instruction.
type absState struct {
	regs      [32]absVal
	slots     map[int64]absVal // stack words by offset from the entry SP (8-aligned)
	clobbered bool             // every stack word not in slots is unknown, incoming arguments too
}

func (s *absState) reg(r uint32) absVal {
	if r == 0 {
		return constVal(0)
	}
	return s.regs[r]
}

func (s *absState) slotDefault(off int64) absVal {
	switch {
	case s.clobbered:
		return topVal("a stack word after a store the analysis cannot place")
	case off >= 8:
		return absVal{elems: []elem{{elemArg, uint64(off)}}}
	}
	return topVal(fmt.Sprintf("the stack word at entry SP%+d, not written in the function", off))
}

func (s *absState) slot(off int64) absVal {
	if v, ok := s.slots[off]; ok {
		return v
	}
	return s.slotDefault(off)
}

func (s *absState) clone() *absState {
	c := *s
	c.slots = make(map[int64]absVal, len(s.slots))
	for k, v := range s.slots {
		c.slots[k] = v
	}
	return &c
}

func (s *absState) setReg(r uint32, v absVal) {
	if r != 0 {
		s.regs[r] = v
	}
}

func (s *absState) setSlot(off int64, v absVal) {
	if v.equal(s.slotDefault(off)) {
		delete(s.slots, off)
	} else {
		s.slots[off] = v
	}
}

// joinInto joins b into a (nil a: b's copy) and reports whether a changed.
func joinInto(a **absState, b *absState) bool {
	if *a == nil {
		*a = b.clone()
		return true
	}
	s := *a
	changed := false
	for r := range s.regs {
		if j := joinVals(s.regs[r], b.regs[r]); !j.equal(s.regs[r]) {
			s.regs[r] = j
			changed = true
		}
	}
	keys := map[int64]bool{}
	for k := range s.slots {
		keys[k] = true
	}
	for k := range b.slots {
		keys[k] = true
	}
	old := make(map[int64]absVal, len(keys))
	for k := range keys {
		old[k] = s.slot(k)
	}
	if b.clobbered && !s.clobbered {
		s.clobbered = true
		changed = true
	}
	for k := range keys {
		j := joinVals(old[k], b.slot(k))
		if !j.equal(old[k]) {
			changed = true
		}
		s.setSlot(k, j)
	}
	return changed
}
