package vm

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// LoadELF creates the initial state for a big-endian MIPS64 ELF program:
// thread 0 starts at the entry point, the heap at HeapStart, and every
// program segment (except PT_MIPS_ABIFLAGS) is copied into memory, with
// PT_LOAD segments zero-filled up to their memory size. Like Cannon's
// load-elf it does not set up the stack: call PatchStack for that.
func LoadELF(f *elf.File) (*State, error) {
	if f.Machine != elf.EM_MIPS {
		return nil, fmt.Errorf("ELF is not big-endian MIPS R3000, but got %q", f.Machine.String())
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2MSB {
		return nil, fmt.Errorf("ELF is not 64-bit big-endian (class %v, data %v)", f.Class, f.Data)
	}
	s := NewState(f.Entry, HeapStart)
	for i, prog := range f.Progs {
		if prog.Type == elf.PT_MIPS_ABIFLAGS {
			continue
		}
		if prog.Filesz != prog.Memsz {
			if prog.Type != elf.PT_LOAD {
				return nil, fmt.Errorf("program segment %d has different file size (%d) than mem size (%d): filling for non PT_LOAD segments is not supported", i, prog.Filesz, prog.Memsz)
			}
			if prog.Filesz > prog.Memsz {
				return nil, fmt.Errorf("invalid PT_LOAD program segment %d, file size (%d) > mem size (%d)", i, prog.Filesz, prog.Memsz)
			}
		}
		if prog.Memsz == 0 {
			continue
		}
		last := prog.Vaddr + prog.Memsz - 1
		if last > lastLoadableAddr || last < prog.Vaddr {
			return nil, fmt.Errorf("program %d out of memory range: %x - %x (size: %x)", i, prog.Vaddr, last, prog.Memsz)
		}
		if last >= HeapStart {
			return nil, fmt.Errorf("program %d overlaps with heap: %x - %x (size: %x)", i, prog.Vaddr, last, prog.Memsz)
		}
		data := make([]byte, prog.Memsz)
		if _, err := io.ReadFull(prog.Open(), data[:prog.Filesz]); err != nil {
			return nil, fmt.Errorf("failed to read program segment %d: %w", i, err)
		}
		s.Memory.SetRange(prog.Vaddr, data)
	}
	return s, nil
}

// PatchStack sets up the initial stack the way Cannon's load-elf does for
// the multithreaded64 VM: the stack pointer at HighMemoryStart with four
// pages below it and one above allocated, and at the stack pointer argc=1,
// argv={"op-program"}, envp={"GODEBUG=memprofilerate=0"} and an auxiliary
// vector with AT_PAGESZ=4096 and AT_RANDOM pointing at 16 fixed bytes.
func PatchStack(s *State) error {
	t := s.CurrentThread()
	if t == nil {
		return ErrEmptyThreadStack
	}
	sp := HighMemoryStart
	s.Memory.SetRange(sp-4*PageSize, make([]byte, 5*PageSize))
	t.Registers[regSP] = sp

	// The strings follow the 10-word argument block, each padded to 8 bytes.
	random := padWord([]byte("4;byfairdiceroll"))
	envVar := padWord([]byte("GODEBUG=memprofilerate=0\x00"))
	progName := padWord([]byte("op-program\x00"))
	randomAddr := sp + 8*10
	envAddr := randomAddr + uint64(len(random))
	argvAddr := envAddr + uint64(len(envVar))
	s.Memory.SetRange(randomAddr, random)
	s.Memory.SetRange(envAddr, envVar)
	s.Memory.SetRange(argvAddr, progName)

	words := []uint64{
		1,        // argc
		argvAddr, // argv[0]
		0,        // end of argv
		envAddr,  // envp[0]
		0,        // end of envp
		6, 4096,  // AT_PAGESZ
		25,         // AT_RANDOM
		randomAddr, // 16 random bytes
		0,          // end of auxv
	}
	for i, w := range words {
		s.Memory.SetWord(sp+8*uint64(i), w)
	}
	return nil
}

func padWord(b []byte) []byte {
	if r := len(b) % 8; r != 0 {
		b = append(b, make([]byte, 8-r)...)
	}
	return b
}

// Symbol is an ELF symbol in program metadata.
type Symbol struct {
	Name  string `json:"name"`
	Start uint64 `json:"start"`
	Size  uint64 `json:"size"`
}

// Metadata is the program metadata Cannon's load-elf writes to meta.json:
// the ELF symbols sorted by address.
type Metadata struct {
	Symbols []Symbol `json:"symbols"`
}

// MakeMetadata reads the symbol table of f.
func MakeMetadata(f *elf.File) (*Metadata, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("failed to load symbols table: %w", err)
	}
	// Same (unstable) sort as Cannon, so symbols at equal addresses end up
	// in the same order.
	sort.Slice(syms, func(i, j int) bool { return syms[i].Value < syms[j].Value })
	out := &Metadata{Symbols: make([]Symbol, len(syms))}
	for i, sym := range syms {
		out.Symbols[i] = Symbol{Name: sym.Name, Start: sym.Value, Size: sym.Size}
	}
	return out, nil
}

// LookupSymbol returns the name of the symbol containing addr, or "!start",
// "!gap" or "!unknown" as Cannon does.
func (m *Metadata) LookupSymbol(addr uint64) string {
	if len(m.Symbols) == 0 {
		return "!unknown"
	}
	i := sort.Search(len(m.Symbols), func(i int) bool { return m.Symbols[i].Start > addr })
	if i == 0 {
		return "!start"
	}
	sym := &m.Symbols[i-1]
	if sym.Start+sym.Size < addr {
		return "!gap"
	}
	return sym.Name
}

// WriteJSON writes the metadata byte-for-byte as Cannon writes meta.json.
func (m *Metadata) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	_, err := w.Write([]byte{'\n'})
	return err
}

// LoadProgram does what Cannon's "load-elf --type multithreaded64-5" does:
// it loads the ELF in data, sets up the stack and reads the symbols.
func LoadProgram(data []byte) (*State, *Metadata, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse ELF: %w", err)
	}
	defer f.Close()
	s, err := LoadELF(f)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load ELF data into VM state: %w", err)
	}
	if err := PatchStack(s); err != nil {
		return nil, nil, fmt.Errorf("failed to patch state: %w", err)
	}
	meta, err := MakeMetadata(f)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to compute program metadata: %w", err)
	}
	return s, meta, nil
}
