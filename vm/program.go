package vm

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// MaxProgramMemory bounds the memory the segments of an ELF program may span
// (whole pages, summed over segments). Cannon's load-elf accepts any segment
// below the heap and holds every page in memory (over 8 KiB per 4 KiB page),
// so programs above this bound, far beyond any real fault proof program,
// would need more than 34 GB to load there; refusing them keeps a crafted
// 120-byte ELF from producing a state file of terabytes.
const MaxProgramMemory = 16 << 30

// ErrBadELF is wrapped by the errors of LoadELF about a malformed program.
var ErrBadELF = errors.New("invalid ELF program")

// LoadELF creates the initial state for a big-endian MIPS64 ELF program:
// thread 0 starts at the entry point, the heap at HeapStart, and every
// program segment (except PT_MIPS_ABIFLAGS) is copied into memory, with
// PT_LOAD segments zero-filled up to their memory size. Like Cannon's
// load-elf it does not set up the stack: call PatchStack for that.
//
// Sizes are checked before anything is allocated: a segment must lie below
// the heap, its file data within the file, and all segments together within
// MaxProgramMemory. File data is copied a chunk at a time and zero-filled
// pages take no memory until written, so loading costs memory in proportion
// to the file, whatever the segments' memory sizes. For a well-formed ELF the
// state is Cannon's, page for page.
func LoadELF(f *elf.File) (*State, error) {
	if f.Machine != elf.EM_MIPS {
		return nil, fmt.Errorf("ELF is not big-endian MIPS R3000, but got %q", f.Machine.String())
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2MSB {
		return nil, fmt.Errorf("ELF is not 64-bit big-endian (class %v, data %v)", f.Class, f.Data)
	}
	s := NewState(f.Entry, HeapStart)
	var total uint64 // pages spanned by the segments so far
	for i, prog := range f.Progs {
		if prog.Type == elf.PT_MIPS_ABIFLAGS {
			continue
		}
		if prog.Filesz != prog.Memsz {
			if prog.Type != elf.PT_LOAD {
				return nil, fmt.Errorf("%w: program segment %d has different file size (%d) than mem size (%d): filling for non PT_LOAD segments is not supported", ErrBadELF, i, prog.Filesz, prog.Memsz)
			}
			if prog.Filesz > prog.Memsz {
				return nil, fmt.Errorf("%w: invalid PT_LOAD program segment %d, file size (%d) > mem size (%d)", ErrBadELF, i, prog.Filesz, prog.Memsz)
			}
		}
		if prog.Memsz == 0 {
			continue
		}
		last := prog.Vaddr + prog.Memsz - 1
		if last > lastLoadableAddr || last < prog.Vaddr {
			return nil, fmt.Errorf("%w: program %d out of memory range: %x - %x (size: %x)", ErrBadELF, i, prog.Vaddr, last, prog.Memsz)
		}
		if last >= HeapStart {
			return nil, fmt.Errorf("%w: program %d overlaps with heap: %x - %x (size: %x)", ErrBadELF, i, prog.Vaddr, last, prog.Memsz)
		}
		total += last>>PageAddrBits - prog.Vaddr>>PageAddrBits + 1
		if total > MaxProgramMemory/PageSize {
			return nil, fmt.Errorf("%w: program segments span more than %d GiB of memory (segment %d: %x - %x)", ErrBadELF, MaxProgramMemory>>30, i, prog.Vaddr, last)
		}
		if err := loadSegment(s.Memory, prog); err != nil {
			return nil, fmt.Errorf("%w: program segment %d: %w", ErrBadELF, i, err)
		}
	}
	return s, nil
}

// loadSegment copies a segment's file data into memory a chunk at a time and
// zero-fills the rest of its memory size.
func loadSegment(mem *Memory, prog *elf.Prog) error {
	if prog.Filesz > 0 {
		// The file must hold the segment's last byte: checked before
		// anything is copied.
		var b [1]byte
		if _, err := prog.ReadAt(b[:], int64(prog.Filesz-1)); err != nil {
			return fmt.Errorf("file data (%d bytes at offset %#x) extends past the end of the file", prog.Filesz, prog.Off)
		}
	}
	r := io.NewSectionReader(prog, 0, int64(prog.Filesz))
	buf := make([]byte, min(prog.Filesz, 1<<16))
	for addr, left := prog.Vaddr, prog.Filesz; left > 0; {
		n, err := io.ReadFull(r, buf[:min(left, uint64(len(buf)))])
		if err != nil {
			return fmt.Errorf("reading file data at offset %#x: %w", prog.Off+prog.Filesz-left, err)
		}
		mem.SetRange(addr, buf[:n])
		addr += uint64(n)
		left -= uint64(n)
	}
	mem.ZeroRange(prog.Vaddr+prog.Filesz, prog.Memsz-prog.Filesz)
	return nil
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
