// Package guestprof profiles a Go program running inside the VM: it samples the guest's call stacks every
// so many steps and writes them as a pprof profile whose unit is VM steps, with function names, files and
// lines read from the program's own ELF. `go tool pprof` reads the result, so a program author sees where
// the VM steps go as they would see CPU time in a native profile.
//
// It sits beside the VM (`faultproof vm run --pprof.guest`) and reads the VM's state between steps; it
// never changes it.
package guestprof

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Go's function flags (internal/abi.FuncFlag) that end an unwind.
const (
	funcFlagTopFrame = 1 << 0
	funcFlagSPWrite  = 1 << 1
)

// pcQuantum is the instruction size that scales pc deltas in mips64 pc-value tables.
const pcQuantum = 4

// Symbols is what the unwinder and the profile need from a Go mips64 ELF: its functions, each function's
// stack frame size at every pc (the pcsp table), and file:line positions.
type Symbols struct {
	funcs []funcInfo // sorted by entry
	pctab []byte
	lines *gosym.Table
	end   uint64 // end of the last function
}

type funcInfo struct {
	entry     uint64
	name      string
	pcsp      uint32
	flag      uint8
	startLine int32
}

// LoadSymbols reads the Go symbol table (.gopclntab, Go 1.20+ layout) of a big-endian 64-bit Go ELF.
func LoadSymbols(f *elf.File) (*Symbols, error) {
	text := f.Section(".text")
	tab := f.Section(".gopclntab")
	if text == nil || tab == nil {
		return nil, errors.New("not a Go ELF: no .text or .gopclntab section")
	}
	data, err := tab.Data()
	if err != nil {
		return nil, fmt.Errorf("read .gopclntab: %w", err)
	}
	if len(data) < 8+8*8 {
		return nil, errors.New(".gopclntab too short")
	}
	be := binary.BigEndian
	if magic := be.Uint32(data); magic != 0xfffffff1 || data[7] != 8 {
		return nil, fmt.Errorf(".gopclntab magic %#x pointer size %d: want a 64-bit Go 1.20+ table", magic, data[7])
	}
	word := func(i int) uint64 { return be.Uint64(data[8+8*i:]) }
	nfunc := int(word(0))
	funcnameOff, pctabOff, pclnOff := word(3), word(6), word(7)
	if pclnOff > uint64(len(data)) || pctabOff > uint64(len(data)) || funcnameOff > uint64(len(data)) {
		return nil, errors.New(".gopclntab offsets out of range")
	}
	funcnames, pcln := data[funcnameOff:], data[pclnOff:]
	s := &Symbols{pctab: data[pctabOff:]}
	if uint64(len(pcln)) < uint64(nfunc+1)*8 {
		return nil, errors.New(".gopclntab function table truncated")
	}
	for i := 0; i < nfunc; i++ {
		entryOff, funcOff := be.Uint32(pcln[8*i:]), be.Uint32(pcln[8*i+4:])
		if uint64(funcOff)+44 > uint64(len(pcln)) {
			return nil, errors.New(".gopclntab function record out of range")
		}
		rec := pcln[funcOff:]
		nameOff := be.Uint32(rec[4:])
		name := "?"
		if uint64(nameOff) < uint64(len(funcnames)) {
			n := funcnames[nameOff:]
			for j, c := range n {
				if c == 0 {
					name = string(n[:j])
					break
				}
			}
		}
		s.funcs = append(s.funcs, funcInfo{
			entry:     text.Addr + uint64(entryOff),
			name:      name,
			pcsp:      be.Uint32(rec[16:]),
			startLine: int32(be.Uint32(rec[36:])),
			flag:      rec[41],
		})
	}
	s.end = text.Addr + uint64(be.Uint32(pcln[8*nfunc:]))
	if !sort.SliceIsSorted(s.funcs, func(i, j int) bool { return s.funcs[i].entry < s.funcs[j].entry }) {
		return nil, errors.New(".gopclntab functions not sorted")
	}
	if s.lines, err = gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr)); err != nil {
		return nil, fmt.Errorf("read line table: %w", err)
	}
	return s, nil
}

// lookup returns the function holding pc, or nil.
func (s *Symbols) lookup(pc uint64) *funcInfo {
	if len(s.funcs) == 0 || pc < s.funcs[0].entry || pc >= s.end {
		return nil
	}
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].entry > pc }) - 1
	return &s.funcs[i]
}

// spDelta returns the size of f's frame at pc (how far SP is below the caller's SP), or -1 if the table
// has no value for pc.
func (s *Symbols) spDelta(f *funcInfo, pc uint64) int64 {
	if uint64(f.pcsp) >= uint64(len(s.pctab)) {
		return -1
	}
	p := s.pctab[f.pcsp:]
	val, at := int32(-1), f.entry
	for first := true; ; first = false {
		uv, n := binary.Uvarint(p)
		if n <= 0 || (uv == 0 && !first) {
			return -1
		}
		p = p[n:]
		val += int32(-(uint32(uv) & 1) ^ (uint32(uv) >> 1))
		pcd, n := binary.Uvarint(p)
		if n <= 0 {
			return -1
		}
		p = p[n:]
		at += pcd * pcQuantum
		if pc < at {
			return int64(val)
		}
	}
}

// position returns the file and line of pc.
func (s *Symbols) position(pc uint64) (string, int) {
	file, line, _ := s.lines.PCToLine(pc)
	return file, line
}

// entryOf returns the entry of the function named name, or 0.
func (s *Symbols) entryOf(name string) uint64 {
	for _, f := range s.funcs {
		if f.name == name {
			return f.entry
		}
	}
	return 0
}
