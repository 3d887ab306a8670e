package vm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// This file holds a static check of the syscalls a program can make: ScanSyscalls decodes the text of a
// MIPS64 ELF built by the Go toolchain and finds, for every syscall instruction, the syscall numbers
// that can be in $v0 when it executes; ProbeSyscall tells what the VM does with a number.
//
// How the numbers are found. Each function (an STT_FUNC symbol of an executable section) is decoded and
// analysed on its own by a forward data-flow analysis over its instructions (branch delay slots and
// branch-likely annulment included). The abstract value of a register or a stack word is a small set of
// possible values, each a constant, "the function's incoming stack argument at entry SP + k" or "the
// stack address entry SP + k"; a set that grows past a bound, or any value an instruction computes that
// the analysis does not model, is "unknown". Stack words are tracked by their offset from the entry SP,
// so spills and reloads, the prologue's SP adjustment and the epilogue's are followed. Constants are
// followed through daddiu/addiu/ori/andi/xori/lui and register moves (or/addu/daddu with $zero), which
// is how the Go compiler and assembler load syscall numbers; sets are joined at control-flow merges, so
// a number chosen by a switch gives one entry per case.
//
// Go issues most syscalls through wrappers that receive the number as an argument
// (internal/runtime/syscall.Syscall6, syscall.Syscall, syscall.RawSyscall6, golang.org/x/sys/unix's
// Syscall, ...): when the value in $v0 is an incoming argument, the function is a wrapper for that
// argument slot, and every direct call (jal, bal) and tail jump (j) to it is analysed in its caller: the
// value of the argument word at the call (after the delay slot) is again a set of constants, an argument
// of the caller (which makes the caller a wrapper too, to any depth) or unknown.
//
// How conservative it is. Every linked function is analysed, reachable or not, and every syscall
// instruction reports the union of the values that reach it on any path the analysis sees, feasible or
// not (a number guarded by a GODEBUG setting or only used on a signal return path is reported): the
// check over-approximates what the program can issue. A number it cannot determine is reported as an
// unresolved site, never dropped, and so is a syscall instruction outside every function symbol or one
// the analysis does not reach from its function's entry. Where it relies on properties of Go's code
// rather than proving them:
//   - intra-function control flow uses direct branches only (the Go mips64 backend emits no jump
//     tables; indirect jumps are calls, returns or tail calls);
//   - calls clobber every register but $zero and $sp, and may write every word of the caller's frame
//     below its entry SP (its incoming arguments survive, unless the function takes the address of
//     its stack, in which case a call, or a store through a pointer the analysis cannot place, makes
//     every stack word unknown);
//   - a store through a register that is not a stack address cannot modify the function's frame when
//     the function never computes a stack address (Go code cannot otherwise point into it);
//   - the jump back to a function's entry after runtime.morestack keeps its arguments (stack growth
//     copies them), so that edge is not merged into the entry state;
//   - calls to a wrapper that are not direct cannot be followed: a wrapper whose address is taken
//     (a funcval "·f" symbol, a data word holding its entry, or a lui/daddiu pair computing it) is
//     reported as unresolved.
//
// The analysis does not look at what the kernel or a vDSO would do: only syscall instructions in the
// ELF count (a vDSO call goes through a pointer the VM never sets: the VM passes no AT_SYSINFO_EHDR).

// SyscallScan is the result of ScanSyscalls.
type SyscallScan struct {
	// Instructions is the number of syscall instructions in the text.
	Instructions int
	// Functions is the number of functions analysed: those with a syscall instruction or a call of a
	// wrapper.
	Functions int
	// Numbers maps each syscall number the program can issue to the places that set it.
	Numbers map[uint64][]SyscallPlace
	// Unresolved lists the places whose number the analysis could not determine.
	Unresolved []UnresolvedSyscall
	// Wrappers lists the functions that issue a syscall whose number is one of their arguments, as
	// "fn (argument at +k)".
	Wrappers []string

	prog    *scanProgram
	callers map[string][]string
}

// SyscallPlace is where a syscall number is set: a syscall instruction of Func, or (Wrapper set) a
// direct call or jump in Func to a wrapper that passes the number on.
type SyscallPlace struct {
	Func    string
	Offset  uint64 // of the instruction in Func
	Wrapper string
}

func (p SyscallPlace) String() string {
	if p.Wrapper != "" {
		return fmt.Sprintf("%s+0x%x -> %s", p.Func, p.Offset, p.Wrapper)
	}
	return fmt.Sprintf("%s+0x%x", p.Func, p.Offset)
}

// UnresolvedSyscall is a place whose syscall number the analysis could not determine, or a wrapper
// whose callers it cannot all see.
type UnresolvedSyscall struct {
	SyscallPlace
	Reason string
}

func (u UnresolvedSyscall) String() string { return u.SyscallPlace.String() + ": " + u.Reason }

// DirectCallers returns the functions that call or jump to the function named fn directly.
func (s *SyscallScan) DirectCallers(fn string) []string {
	if s.callers == nil {
		s.callers = map[string][]string{}
		for target, sites := range s.prog.callSites() {
			callee := s.prog.byStart[target]
			if callee == nil {
				continue
			}
			for _, c := range sites {
				if c.fn != callee && !slices.Contains(s.callers[callee.name], c.fn.name) {
					s.callers[callee.name] = append(s.callers[callee.name], c.fn.name)
				}
			}
		}
		for _, cs := range s.callers {
			slices.Sort(cs)
		}
	}
	return s.callers[fn]
}

// SortedNumbers returns the numbers of s.Numbers in increasing order.
func (s *SyscallScan) SortedNumbers() []uint64 {
	nums := make([]uint64, 0, len(s.Numbers))
	for n := range s.Numbers {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums
}

// ScanSyscalls finds the syscall numbers a MIPS64 (big-endian) ELF can issue; see the comment at the
// top of this file for how and how conservatively.
func ScanSyscalls(data []byte) (*SyscallScan, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Machine != elf.EM_MIPS || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2MSB {
		return nil, errors.New("not a 64-bit big-endian MIPS ELF")
	}
	p, err := newScanProgram(f)
	if err != nil {
		return nil, err
	}
	return p.scan(), nil
}

// scanFunc is one function of the text.
type scanFunc struct {
	name       string
	start, end uint64
	code       []uint32
	analysis   *funcAnalysis // computed on demand
}

func (fn *scanFunc) where(pc uint64) string { return fmt.Sprintf("%s+0x%x", fn.name, pc-fn.start) }

func (fn *scanFunc) place(idx int, wrapper string) SyscallPlace {
	return SyscallPlace{Func: fn.name, Offset: 4 * uint64(idx), Wrapper: wrapper}
}

type scanProgram struct {
	funcs   []*scanFunc // sorted by start
	byStart map[uint64]*scanFunc
	names   map[string]bool
	data    []*elf.Section // non-executable allocated sections with contents
	texts   []textSection
}

type textSection struct {
	addr uint64
	data []byte
}

func newScanProgram(f *elf.File) (*scanProgram, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("symbols: %w", err)
	}
	p := &scanProgram{byStart: map[uint64]*scanFunc{}, names: map[string]bool{}}
	texts := map[elf.SectionIndex][]byte{}
	for i, s := range f.Sections {
		switch {
		case s.Flags&elf.SHF_ALLOC == 0 || s.Type != elf.SHT_PROGBITS:
		case s.Flags&elf.SHF_EXECINSTR == 0:
			p.data = append(p.data, s)
		default:
			text, err := s.Data()
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", s.Name, err)
			}
			texts[elf.SectionIndex(i)] = text
			p.texts = append(p.texts, textSection{s.Addr, text})
		}
	}
	for _, s := range syms {
		p.names[s.Name] = true
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[s.Section]
		text, ok := texts[s.Section]
		if !ok || s.Value&3 != 0 {
			continue
		}
		end := s.Value + s.Size
		if s.Value < sec.Addr || end > sec.Addr+uint64(len(text)) || s.Size == 0 {
			continue
		}
		if _, dup := p.byStart[s.Value]; dup {
			continue
		}
		fn := &scanFunc{name: s.Name, start: s.Value, end: end &^ 3}
		raw := text[s.Value-sec.Addr : fn.end-sec.Addr]
		fn.code = make([]uint32, len(raw)/4)
		for i := range fn.code {
			fn.code[i] = binary.BigEndian.Uint32(raw[4*i:])
		}
		p.funcs = append(p.funcs, fn)
		p.byStart[fn.start] = fn
	}
	if len(p.funcs) == 0 {
		return nil, errors.New("no function symbols in executable sections")
	}
	sort.Slice(p.funcs, func(i, j int) bool { return p.funcs[i].start < p.funcs[j].start })
	return p, nil
}

// funcAt returns the function whose code holds addr, or nil.
func (p *scanProgram) funcAt(addr uint64) *scanFunc {
	i := sort.Search(len(p.funcs), func(i int) bool { return p.funcs[i].end > addr })
	if i < len(p.funcs) && p.funcs[i].start <= addr {
		return p.funcs[i]
	}
	return nil
}

// wrapperKey is a function whose syscall number is its incoming argument at entry SP + off.
type wrapperKey struct {
	fn  *scanFunc
	off int64
}

func (p *scanProgram) scan() *SyscallScan {
	res := &SyscallScan{Numbers: map[uint64][]SyscallPlace{}, prog: p}
	addNum := func(n uint64, where SyscallPlace) {
		if !slices.Contains(res.Numbers[n], where) {
			res.Numbers[n] = append(res.Numbers[n], where)
		}
	}
	unresolved := func(where SyscallPlace, why string) {
		res.Unresolved = append(res.Unresolved, UnresolvedSyscall{where, why})
	}
	var queue []wrapperKey
	seen := map[wrapperKey]bool{}
	// collect handles the value set v found at a place of fn (a syscall instruction, or the call of a
	// wrapper).
	collect := func(fn *scanFunc, where SyscallPlace, v absVal) {
		if v.top {
			unresolved(where, v.why)
			return
		}
		if len(v.elems) == 0 {
			unresolved(where, "no value reaches it in the analysis")
			return
		}
		for _, e := range v.elems {
			switch e.kind {
			case elemConst:
				addNum(e.v, where)
			case elemArg:
				k := wrapperKey{fn, int64(e.v)}
				if !seen[k] {
					seen[k] = true
					queue = append(queue, k)
				}
			default:
				unresolved(where, "a stack address")
			}
		}
	}

	for _, fn := range p.funcs {
		for i, insn := range fn.code {
			if insn&0xFC00003F != 0x0000000C {
				continue
			}
			res.Instructions++
			a := p.analyse(fn)
			v := topVal("not reached from the function's entry in the analysis")
			if a.states[i] != nil {
				v = a.states[i].reg(regV0)
			}
			collect(fn, fn.place(i, ""), v)
		}
	}

	// Syscall instructions that no function symbol covers cannot be analysed: report them.
	for _, sec := range p.texts {
		for off := 0; off+4 <= len(sec.data); off += 4 {
			addr := sec.addr + uint64(off)
			if binary.BigEndian.Uint32(sec.data[off:])&0xFC00003F != 0x0000000C || p.funcAt(addr) != nil {
				continue
			}
			res.Instructions++
			unresolved(SyscallPlace{Func: "(no function)", Offset: addr}, "a syscall instruction outside every function symbol")
		}
	}

	var callers map[uint64][]callSite
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		res.Wrappers = append(res.Wrappers, fmt.Sprintf("%s (argument at +%d)", w.fn.name, w.off))
		if callers == nil {
			callers = p.callSites()
		}
		if why := p.addressTaken(w.fn); why != "" {
			unresolved(w.fn.place(0, ""), why+": indirect calls of this syscall wrapper are not followed")
		}
		for _, c := range callers[w.fn.start] {
			a := p.analyse(c.fn)
			collect(c.fn, c.fn.place(c.idx, w.fn.name), a.argAtCall(c.idx, w.off))
		}
	}
	for _, fn := range p.funcs {
		if fn.analysis != nil {
			res.Functions++
		}
	}
	sort.Slice(res.Unresolved, func(i, j int) bool { return res.Unresolved[i].String() < res.Unresolved[j].String() })
	sort.Strings(res.Wrappers)
	return res
}

// callSite is a direct call or jump (jal, bal, j, b) at instruction idx of fn.
type callSite struct {
	fn  *scanFunc
	idx int
}

// callSites indexes the direct calls and jumps of the program by target, for targets outside the
// calling function (and self-recursive calls).
func (p *scanProgram) callSites() map[uint64][]callSite {
	sites := map[uint64][]callSite{}
	for _, fn := range p.funcs {
		for i, insn := range fn.code {
			pc := fn.start + 4*uint64(i)
			b := decodeBranch(insn, pc)
			if b.kind == brNone || !b.hasTarget {
				continue
			}
			if b.kind == brCall || b.target < fn.start || b.target >= fn.end || b.target == fn.start {
				sites[b.target] = append(sites[b.target], callSite{fn, i})
			}
		}
	}
	return sites
}

// addressTaken tells why fn's address may be taken, or "" if it is only used by direct calls.
func (p *scanProgram) addressTaken(fn *scanFunc) string {
	if p.names[fn.name+"·f"] {
		return "its funcval " + fn.name + "·f exists"
	}
	var word [8]byte
	binary.BigEndian.PutUint64(word[:], fn.start)
	for _, s := range p.data {
		d, err := s.Data()
		if err != nil {
			return fmt.Sprintf("section %s unreadable: %v", s.Name, err)
		}
		for i := 0; i+8 <= len(d); i += 8 {
			if bytes.Equal(d[i:i+8], word[:]) {
				return fmt.Sprintf("section %s holds its address at 0x%x", s.Name, s.Addr+uint64(i))
			}
		}
	}
	// lui rX, %hi; then daddiu/addiu/ori rY, rX, %lo within a few instructions.
	for _, g := range p.funcs {
		for i, insn := range g.code {
			if insn>>26 != 0x0F {
				continue
			}
			rt := (insn >> 16) & 31
			hi := uint64(int64(int32(insn << 16)))
			for j := i + 1; j < len(g.code) && j <= i+8; j++ {
				n := g.code[j]
				op := n >> 26
				if (op == 0x19 || op == 0x09 || op == 0x0D) && (n>>21)&31 == rt {
					v := hi + uint64(int64(int16(n)))
					if op == 0x0D {
						v = hi | uint64(n&0xFFFF)
					}
					if v == fn.start {
						return "its address is computed at " + g.where(g.start+4*uint64(j))
					}
				}
			}
		}
	}
	return ""
}

// ---- Decoding ----

type branchKind uint8

const (
	brNone    branchKind = iota
	brCond               // conditional branch with a delay slot
	brLikely             // conditional branch-likely: the delay slot only runs when taken
	brUncond             // unconditional jump (j, b, jr)
	brCall               // jal, jalr, bal and the linking REGIMM branches
	brCallLik            // linking branch-likely
)

type jumpInfo struct {
	kind      branchKind
	hasTarget bool
	target    uint64
}

func decodeBranch(insn uint32, pc uint64) jumpInfo {
	op := insn >> 26
	rs, rt := (insn>>21)&31, (insn>>16)&31
	rel := pc + 4 + uint64(int64(int16(insn))<<2)
	abs := (pc+4)&^0x0FFFFFFF | uint64(insn&0x03FFFFFF)<<2
	switch op {
	case 0x00:
		switch insn & 0x3F {
		case 0x08:
			return jumpInfo{kind: brUncond}
		case 0x09:
			return jumpInfo{kind: brCall}
		}
	case 0x01:
		switch rt {
		case 0x00, 0x01:
			return jumpInfo{kind: brCond, hasTarget: true, target: rel}
		case 0x02, 0x03:
			return jumpInfo{kind: brLikely, hasTarget: true, target: rel}
		case 0x10, 0x11:
			return jumpInfo{kind: brCall, hasTarget: true, target: rel}
		case 0x12, 0x13:
			return jumpInfo{kind: brCallLik, hasTarget: true, target: rel}
		}
	case 0x02:
		return jumpInfo{kind: brUncond, hasTarget: true, target: abs}
	case 0x03:
		return jumpInfo{kind: brCall, hasTarget: true, target: abs}
	case 0x04:
		if rs == rt {
			return jumpInfo{kind: brUncond, hasTarget: true, target: rel}
		}
		return jumpInfo{kind: brCond, hasTarget: true, target: rel}
	case 0x05, 0x06, 0x07:
		return jumpInfo{kind: brCond, hasTarget: true, target: rel}
	case 0x14, 0x15, 0x16, 0x17:
		if op == 0x14 && rs == rt {
			return jumpInfo{kind: brUncond, hasTarget: true, target: rel}
		}
		return jumpInfo{kind: brLikely, hasTarget: true, target: rel}
	case 0x11, 0x12: // BC1x / BC2x
		if rs == 0x08 {
			if insn&(1<<17) != 0 {
				return jumpInfo{kind: brLikely, hasTarget: true, target: rel}
			}
			return jumpInfo{kind: brCond, hasTarget: true, target: rel}
		}
	}
	return jumpInfo{}
}

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

// ---- Per-function analysis ----

type funcAnalysis struct {
	fn          *scanFunc
	states      []*absState // before each instruction; nil if unreached
	delayOf     []int       // index of the branch whose delay slot the instruction is, or -1
	stackEscape bool        // the function computes a stack address or stores $sp
}

func (p *scanProgram) analyse(fn *scanFunc) *funcAnalysis {
	if fn.analysis != nil {
		return fn.analysis
	}
	n := len(fn.code)
	a := &funcAnalysis{fn: fn, states: make([]*absState, n), delayOf: make([]int, n)}
	fn.analysis = a
	for i := range a.delayOf {
		a.delayOf[i] = -1
	}
	for i, insn := range fn.code {
		if i+1 < n && decodeBranch(insn, fn.start+4*uint64(i)).kind != brNone {
			a.delayOf[i+1] = i
		}
		a.stackEscape = a.stackEscape || readsSPAsValue(insn)
	}
	entry := &absState{slots: map[int64]absVal{}}
	for r := range entry.regs {
		entry.regs[r] = topVal(fmt.Sprintf("register %d at function entry", r))
	}
	entry.regs[0] = constVal(0)
	entry.regs[29] = absVal{elems: []elem{{elemStack, 0}}}
	a.states[0] = entry
	work := []int{0}
	queued := make([]bool, n)
	queued[0] = true
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		queued[i] = false
		out := a.transfer(i, a.states[i])
		for _, e := range a.successors(i) {
			st := out
			if e.call {
				st = a.afterCall(out)
			}
			if joinInto(&a.states[e.to], st) && !queued[e.to] {
				queued[e.to] = true
				work = append(work, e.to)
			}
		}
	}
	return a
}

// argAtCall returns the value of the word at SP + off as the callee of the call or jump at instruction
// i sees it at its entry: after the delay slot.
func (a *funcAnalysis) argAtCall(i int, off int64) absVal {
	if a.states[i] == nil {
		return topVal("the call is not reached from the function's entry in the analysis")
	}
	s := a.transfer(i, a.states[i])
	if i+1 < len(a.fn.code) && a.delayOf[i+1] == i {
		s = a.transfer(i+1, s)
	}
	sp, ok := s.reg(29).single()
	if !ok || sp.kind != elemStack {
		return topVal("the stack pointer at the call is not known")
	}
	return s.slot(int64(sp.v) + off)
}

type flowEdge struct {
	to   int
	call bool // the edge returns from a call: apply its clobbers
}

func (a *funcAnalysis) successors(i int) []flowEdge {
	fn := a.fn
	n := len(fn.code)
	inFunc := func(t uint64) (int, bool) {
		if t < fn.start || t >= fn.end {
			return 0, false
		}
		return int((t - fn.start) / 4), true
	}
	var out []flowEdge
	add := func(j int, call bool) {
		if j >= 0 && j < n {
			out = append(out, flowEdge{j, call})
		}
	}
	if d := a.delayOf[i]; d >= 0 {
		// The delay slot of branch d: where control goes after it.
		b := decodeBranch(fn.code[d], fn.start+4*uint64(d))
		if t, ok := inFunc(b.target); b.hasTarget && ok && t != 0 {
			// A branch, or a call of a local subroutine. Not the jump back to the entry after
			// runtime.morestack: stack growth keeps the arguments, which the analysis of the
			// entry assumes.
			add(t, false)
		}
		switch b.kind {
		case brCond:
			add(d+2, false)
		case brCall, brCallLik:
			add(d+2, true)
		}
		return out
	}
	b := decodeBranch(fn.code[i], fn.start+4*uint64(i))
	switch b.kind {
	case brNone:
		add(i+1, false)
	case brLikely:
		add(i+1, false) // taken: the delay slot runs
		add(i+2, false) // not taken: it is annulled
	case brCallLik:
		add(i+1, false)
		add(i+2, true)
	default:
		if i+1 < n {
			add(i+1, false)
		}
	}
	return out
}

// afterCall is the state a call leaves: registers but $zero and $sp unknown, the frame below the entry SP
// unknown (all of the stack if the function's stack addresses escape).
func (a *funcAnalysis) afterCall(s *absState) *absState {
	c := s.clone()
	for r := 1; r < 32; r++ {
		if r != 29 {
			c.regs[r] = topVal("a register after a call")
		}
	}
	if a.stackEscape {
		c.clobbered = true
		c.slots = map[int64]absVal{}
		return c
	}
	for k := range c.slots {
		if k < 8 {
			c.setSlot(k, topVal("a stack word after a call"))
		}
	}
	return c
}

// readsSPAsValue reports whether insn uses $sp other than as the base of a load or store or in the
// SP adjustment daddiu sp, sp, imm: the function then computes stack addresses that may escape.
func readsSPAsValue(insn uint32) bool {
	op := insn >> 26
	rs, rt := (insn>>21)&31, (insn>>16)&31
	switch {
	case op == 0x19 && rs == 29 && rt == 29: // daddiu sp, sp, imm
		return false
	case op == 0x19 || op == 0x09 || op == 0x18 || op == 0x08 || op == 0x0D || op == 0x0C || op == 0x0E:
		return rs == 29 && rt != 29
	case op == 0x00:
		switch f := insn & 0x3F; {
		case f == 0x08 || f == 0x09 || f == 0x0C || f == 0x0D || f == 0x0F: // jr, jalr, syscall, break, sync
			return false
		case f == 0x2A || f == 0x2B || f >= 0x30 && f <= 0x36: // slt, sltu, traps: the stack bound check
			return false
		}
		return (rs == 29 || rt == 29) && (insn>>11)&31 != 29
	case isStore(op):
		return rt == 29
	case isLoad(op):
		return false
	}
	return false
}

func isLoad(op uint32) bool {
	return (op >= 0x20 && op <= 0x27) || op == 0x1A || op == 0x1B || op == 0x30 || op == 0x34 || op == 0x37 || op == 0x31 || op == 0x35 || op == 0x33
}

func isStore(op uint32) bool {
	return (op >= 0x28 && op <= 0x2F) || op == 0x38 || op == 0x3C || op == 0x3F || op == 0x39 || op == 0x3D
}

// transfer returns the state after instruction i runs from state s (s itself is not modified).
func (a *funcAnalysis) transfer(i int, s *absState) *absState {
	insn := a.fn.code[i]
	op := insn >> 26
	rs, rt, rd := (insn>>21)&31, (insn>>16)&31, (insn>>11)&31
	imm := uint64(int64(int16(insn)))
	uimm := uint64(insn & 0xFFFF)
	out := s.clone()
	unknown := func(r uint32) {
		out.setReg(r, topVal(fmt.Sprintf("computed by instruction 0x%08x at %s", insn, a.fn.where(a.fn.start+4*uint64(i)))))
	}
	switch {
	case op == 0x00:
		f := insn & 0x3F
		switch f {
		case 0x08, 0x0C, 0x0D, 0x0F, 0x11, 0x13:
		case 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F:
		case 0x30, 0x31, 0x32, 0x33, 0x34, 0x36:
		case 0x25, 0x2D, 0x21, 0x2F: // or, daddu, addu, dsubu
			x, y := s.reg(rs), s.reg(rt)
			var v absVal
			switch {
			case rt == 0 && (f == 0x25 || f == 0x2D || f == 0x2F):
				v = x
			case rs == 0 && (f == 0x25 || f == 0x2D):
				v = y
			default:
				v = combineVals(x, y, f)
			}
			out.setReg(rd, v)
		default: // jalr's link register included
			unknown(rd)
		}
	case op == 0x19 || op == 0x09 || op == 0x18 || op == 0x08: // daddiu, addiu, daddi, addi
		x := s.reg(rs)
		wide := op == 0x19 || op == 0x18
		if x.top {
			out.setReg(rt, x)
			break
		}
		es := make([]elem, len(x.elems))
		ok := true
		for j, e := range x.elems {
			switch {
			case e.kind == elemConst && wide:
				es[j] = elem{elemConst, e.v + imm}
			case e.kind == elemConst:
				es[j] = elem{elemConst, sext32(e.v + imm)}
			case e.kind == elemStack && wide:
				es[j] = elem{elemStack, e.v + imm}
			default:
				ok = false
			}
		}
		if ok {
			out.setReg(rt, makeVal(es))
		} else {
			unknown(rt)
		}
	case op == 0x0D: // ori
		out.setReg(rt, mapConst(s.reg(rs), "ori", func(v uint64) uint64 { return v | uimm }))
	case op == 0x0C: // andi
		out.setReg(rt, mapConst(s.reg(rs), "andi", func(v uint64) uint64 { return v & uimm }))
	case op == 0x0E: // xori
		out.setReg(rt, mapConst(s.reg(rs), "xori", func(v uint64) uint64 { return v ^ uimm }))
	case op == 0x0F: // lui
		out.setReg(rt, constVal(uint64(int64(int32(insn<<16)))))
	case op == 0x02 || op == 0x04 || op == 0x05 || op == 0x06 || op == 0x07 || (op >= 0x14 && op <= 0x17):
	case op == 0x03:
		unknown(31)
	case op == 0x01:
		if rt&0x10 != 0 {
			unknown(31)
		}
	case isLoad(op):
		if op != 0x31 && op != 0x35 && op != 0x33 {
			out.setReg(rt, a.load(s, op, rs, imm))
		}
	case isStore(op):
		a.store(s, out, op, rs, rt, imm)
		if op == 0x38 || op == 0x3C {
			unknown(rt)
		}
	case op == 0x11 || op == 0x10 || op == 0x12:
		if rs < 4 {
			unknown(rt)
		}
	default:
		unknown(rt)
		unknown(rd)
	}
	return out
}

// combineVals computes or/daddu/addu of two value sets of constants.
func combineVals(x, y absVal, f uint32) absVal {
	if x.top {
		return x
	}
	if y.top {
		return y
	}
	if len(x.elems)*len(y.elems) > maxElems {
		return topVal("too many combinations")
	}
	var es []elem
	for _, a := range x.elems {
		for _, b := range y.elems {
			switch {
			case a.kind == elemConst && b.kind == elemConst:
				switch f {
				case 0x25:
					es = append(es, elem{elemConst, a.v | b.v})
				case 0x2D:
					es = append(es, elem{elemConst, a.v + b.v})
				case 0x2F:
					es = append(es, elem{elemConst, a.v - b.v})
				default:
					es = append(es, elem{elemConst, sext32(a.v + b.v)})
				}
			case a.kind == elemStack && b.kind == elemConst && f == 0x2D: // a large frame: daddu sp, sp, rX
				es = append(es, elem{elemStack, a.v + b.v})
			case a.kind == elemStack && b.kind == elemConst && f == 0x2F:
				es = append(es, elem{elemStack, a.v - b.v})
			case a.kind == elemConst && b.kind == elemStack && f == 0x2D:
				es = append(es, elem{elemStack, a.v + b.v})
			default:
				return topVal("arithmetic on a non-constant")
			}
		}
	}
	return makeVal(es)
}

// stackAddrs returns the possible stack offsets of base + imm, or false if base is not a stack address.
func stackAddrs(base absVal, imm uint64) ([]int64, bool) {
	if base.top || len(base.elems) == 0 {
		return nil, false
	}
	offs := make([]int64, len(base.elems))
	for i, e := range base.elems {
		if e.kind != elemStack {
			return nil, false
		}
		offs[i] = int64(e.v + imm)
	}
	return offs, true
}

func (a *funcAnalysis) load(s *absState, op, rs uint32, imm uint64) absVal {
	offs, ok := stackAddrs(s.reg(rs), imm)
	if !ok {
		return topVal("a load from memory that is not the stack")
	}
	var v absVal
	for _, off := range offs {
		word := s.slot(off &^ 7)
		var x absVal
		switch {
		case op == 0x37 && off&7 == 0: // ld
			x = word
		case (op == 0x23 || op == 0x27) && off&3 == 0: // lw, lwu: big-endian halves
			shift := 32 * (1 - uint64(off&7)/4)
			x = mapConst(word, "lw", func(w uint64) uint64 {
				h := (w >> shift) & 0xFFFFFFFF
				if op == 0x23 {
					return sext32(h)
				}
				return h
			})
		default:
			x = topVal("a partial load of a stack word")
		}
		v = joinVals(v, x)
	}
	return v
}

func (a *funcAnalysis) store(s, out *absState, op, rs, rt uint32, imm uint64) {
	offs, ok := stackAddrs(s.reg(rs), imm)
	if !ok {
		if a.stackEscape {
			out.clobbered = true
			out.slots = map[int64]absVal{}
		}
		return
	}
	val := s.reg(rt)
	for _, off := range offs {
		w := off &^ 7
		var nv absVal
		switch {
		case op == 0x3F && off&7 == 0: // sd
			nv = val
		case op == 0x2B && off&3 == 0: // sw: replace one half
			shift := 32 * (1 - uint64(off&7)/4)
			old := s.slot(w)
			nv = combineHalf(old, val, shift)
		default:
			nv = topVal("a partial store to a stack word")
		}
		if len(offs) > 1 { // weak update: the store may go elsewhere
			nv = joinVals(nv, s.slot(w))
		}
		out.setSlot(w, nv)
		if end := off + storeSize(op); end > w+8 { // an unaligned store straddling two words
			out.setSlot(w+8, topVal("a partial store to a stack word"))
		}
	}
}

func storeSize(op uint32) int64 {
	switch op {
	case 0x28:
		return 1
	case 0x29:
		return 2
	case 0x2B, 0x38, 0x39, 0x2A, 0x2E:
		return 4
	}
	return 8
}

func combineHalf(old, val absVal, shift uint64) absVal {
	if old.top || val.top {
		return topVal("a 32-bit store into an unknown stack word")
	}
	if len(old.elems)*len(val.elems) > maxElems {
		return topVal("too many combinations")
	}
	var es []elem
	mask := uint64(0xFFFFFFFF) << shift
	for _, o := range old.elems {
		for _, v := range val.elems {
			if o.kind != elemConst || v.kind != elemConst {
				return topVal("a 32-bit store into a non-constant stack word")
			}
			es = append(es, elem{elemConst, o.v&^mask | (v.v<<shift)&mask})
		}
	}
	return makeVal(es)
}

// ---- What the VM does with a syscall number ----

// SyscallProbe is what the VM does when a thread makes a syscall with all arguments zero.
type SyscallProbe struct {
	// Recognized is false if the VM fails the step with ErrUnrecognizedSyscall.
	Recognized bool
	// V0 and A3 are the results (A3 = ^0: the syscall failed with errno V0).
	V0, A3 uint64
	// Yields is set if the thread was switched out (futex, sched_yield, nanosleep).
	Yields bool
	// Exited and ExitCode tell whether the program or the thread exited.
	Exited, ThreadExited bool
	ExitCode             uint8
	// Err is any other error of the step.
	Err error
}

// String describes the probe in a few words.
func (p SyscallProbe) String() string {
	switch {
	case !p.Recognized:
		return "unrecognized: the VM fails"
	case p.Err != nil:
		return "fails the step: " + p.Err.Error()
	case p.Exited:
		return fmt.Sprintf("exits the program (code %d with zero arguments)", p.ExitCode)
	case p.ThreadExited:
		return "exits the thread"
	case p.Yields:
		return "yields the thread"
	case p.A3 != 0:
		return fmt.Sprintf("handled: fails with errno %d with zero arguments", p.V0)
	}
	return fmt.Sprintf("handled: returns %#x with zero arguments", p.V0)
}

// ProbeSyscall runs one syscall step with number num and zero arguments on a scratch two-thread state
// and reports what the VM did: it is the VM's own dispatch (syscalls.go), not a copy of its list.
func ProbeSyscall(num uint64) SyscallProbe {
	const pc = 0x10000
	s := NewState(pc, HeapStart)
	s.Memory.SetWord(pc, 0x0000000C<<32) // syscall; nop
	s.NextThreadID = 2
	other := &Thread{ThreadID: 1, Cpu: Cpu{PC: pc + 4, NextPC: pc + 8}}
	s.LeftThreadStack = []*Thread{other, s.LeftThreadStack[0]}
	t := s.CurrentThread()
	t.Registers[regV0] = num
	t.Registers[regSP] = HighMemoryStart
	s.StepsSinceLastContextSwitch = 1
	m := NewVM(s, NewMemoryOracle(), nil, nil)
	var p SyscallProbe
	_, err := m.Step(false)
	switch {
	case errors.Is(err, ErrUnrecognizedSyscall):
		return p
	case err != nil:
		p.Recognized, p.Err = true, err
		return p
	}
	p.Recognized = true
	p.V0, p.A3 = t.Registers[regV0], t.Registers[regA3]
	p.Exited, p.ExitCode = s.Exited, s.ExitCode
	p.ThreadExited = t.Exited
	p.Yields = !s.Exited && !t.Exited && s.CurrentThread() != t
	return p
}

// SyscallName returns a name for a Linux mips64 n64 syscall number from a table of the form of Go's
// syscall/zsysnum_linux_mips64.go ("SYS_READ = 5000"), or "" if it is not there.
func SyscallName(table []byte, num uint64) string {
	want := fmt.Sprint(num)
	for _, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "=" && f[2] == want && strings.HasPrefix(f[0], "SYS_") {
			return strings.ToLower(strings.TrimPrefix(f[0], "SYS_"))
		}
	}
	return ""
}
