package syscallcheck

import "fmt"

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
	entry.regs[regSP] = absVal{elems: []elem{{elemStack, 0}}}
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
	sp, ok := s.reg(regSP).single()
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
		if r != regSP {
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
	case op == 0x19 && rs == regSP && rt == regSP: // daddiu sp, sp, imm
		return false
	case op == 0x19 || op == 0x09 || op == 0x18 || op == 0x08 || op == 0x0D || op == 0x0C || op == 0x0E:
		return rs == regSP && rt != regSP
	case op == 0x00:
		switch f := insn & 0x3F; {
		case f == 0x08 || f == 0x09 || f == 0x0C || f == 0x0D || f == 0x0F: // jr, jalr, syscall, break, sync
			return false
		case f == 0x2A || f == 0x2B || f >= 0x30 && f <= 0x36: // slt, sltu, traps: the stack bound check
			return false
		}
		return (rs == regSP || rt == regSP) && (insn>>11)&31 != regSP
	case isStore(op):
		return rt == regSP
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
