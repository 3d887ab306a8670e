// Package syscallcheck is a static check of the syscalls a program can make, a tool beside the VM for the
// tests that keep the fault proof program within what the VM supports: Scan decodes the text of a MIPS64
// ELF built by the Go toolchain and finds, for every syscall instruction, the syscall numbers that can be
// in $v0 when it executes. vm.ProbeSyscall tells what the VM does with each number.
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
package syscallcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/faultproof/faultproof/vm"
)

// Result is the result of Scan.
type Result struct {
	// Instructions is the number of syscall instructions in the text.
	Instructions int
	// Functions is the number of functions analysed: those with a syscall instruction or a call of a
	// wrapper.
	Functions int
	// Numbers maps each syscall number the program can issue to the places that set it.
	Numbers map[uint64][]Place
	// Unresolved lists the places whose number the analysis could not determine.
	Unresolved []Unresolved
	// Wrappers lists the functions that issue a syscall whose number is one of their arguments, as
	// "fn (argument at +k)".
	Wrappers []string

	prog    *scanProgram
	callers map[string][]string
}

// Place is where a syscall number is set: a syscall instruction of Func, or (Wrapper set) a
// direct call or jump in Func to a wrapper that passes the number on.
type Place struct {
	Func    string
	Offset  uint64 // of the instruction in Func
	Wrapper string
}

func (p Place) String() string {
	if p.Wrapper != "" {
		return fmt.Sprintf("%s+0x%x -> %s", p.Func, p.Offset, p.Wrapper)
	}
	return fmt.Sprintf("%s+0x%x", p.Func, p.Offset)
}

// Unresolved is a place whose syscall number the analysis could not determine, or a wrapper
// whose callers it cannot all see.
type Unresolved struct {
	Place
	Reason string
}

func (u Unresolved) String() string { return u.Place.String() + ": " + u.Reason }

// DirectCallers returns the functions that call or jump to the function named fn directly.
func (s *Result) DirectCallers(fn string) []string {
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
func (s *Result) SortedNumbers() []uint64 {
	nums := make([]uint64, 0, len(s.Numbers))
	for n := range s.Numbers {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums
}

// Scan finds the syscall numbers a MIPS64 (big-endian) ELF can issue; see the package comment for how
// and how conservatively.
func Scan(data []byte) (*Result, error) {
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

func (fn *scanFunc) place(idx int, wrapper string) Place {
	return Place{Func: fn.name, Offset: 4 * uint64(idx), Wrapper: wrapper}
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

func (p *scanProgram) scan() *Result {
	res := &Result{Numbers: map[uint64][]Place{}, prog: p}
	addNum := func(n uint64, where Place) {
		if !slices.Contains(res.Numbers[n], where) {
			res.Numbers[n] = append(res.Numbers[n], where)
		}
	}
	unresolved := func(where Place, why string) {
		res.Unresolved = append(res.Unresolved, Unresolved{where, why})
	}
	var queue []wrapperKey
	seen := map[wrapperKey]bool{}
	// collect handles the value set v found at a place of fn (a syscall instruction, or the call of a
	// wrapper).
	collect := func(fn *scanFunc, where Place, v absVal) {
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
			if !isSyscall(insn) {
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
			if !isSyscall(binary.BigEndian.Uint32(sec.data[off:])) || p.funcAt(addr) != nil {
				continue
			}
			res.Instructions++
			unresolved(Place{Func: "(no function)", Offset: addr}, "a syscall instruction outside every function symbol")
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

// NextSyscall returns the syscall number that s's next step makes, if that step executes a syscall
// instruction: what a run of a program is checked against its scan with.
func NextSyscall(s *vm.State) (uint64, bool) {
	t := s.CurrentThread()
	if t == nil || t.Exited || s.StepsSinceLastContextSwitch >= vm.SchedQuantum {
		return 0, false // the step switches threads instead
	}
	pc := t.Cpu.PC
	if !isSyscall(uint32(s.Memory.GetWord(pc&^7) >> (32 - (pc&4)*8))) {
		return 0, false
	}
	return t.Registers[regV0], true
}
