package syscallcheck

// The registers the analysis names: the syscall number goes in $v0, and stack words are tracked by their
// offset from $sp.
const (
	regV0 = 2
	regSP = 29
)

// isSyscall reports whether insn is a syscall instruction (SPECIAL, function 0x0C, any code field).
func isSyscall(insn uint32) bool { return insn&0xFC00003F == 0x0000000C }

// Branch and jump decoding: what an instruction does to the control flow.

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
