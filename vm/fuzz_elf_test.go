package vm

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoadELF feeds the ELF loader mutations of a real guest program (whole, and cut to its headers)
// and of small ELFs with bss in every arrangement. Whatever the input: no panic, memory in proportion to
// the file (zero-filled pages take none), the last segment's bytes where its header says, and a state
// that serializes and decodes to itself.
//
// Long run: go test ./vm -run XXX -fuzz '^FuzzLoadELF$' -fuzztime 30m -fuzzminimizetime 10x
func FuzzLoadELF(f *testing.F) {
	if !InFuzzWorker() {
		// The real program, shrunk to a few KB so that the fuzzer stays fast: its headers and the start
		// of each segment.
		hello := guestELF(f, "hello")
		f.Add(shrinkELF(f, hello, 2048))
		f.Add(shrinkELF(f, patchBSS(f, hello, 1<<30), 512))
		f.Add(hello[:4096])
	}
	load := uint32(elf.PT_LOAD)
	body := bytes.Repeat([]byte("segment data "), 100)
	const off = 64 + 56*3
	for _, progs := range [][]elf.Prog64{
		{
			{Type: load, Off: off, Vaddr: 0x10000 + 100, Filesz: 500, Memsz: 500 + 9*4096 + 123},
			{Type: uint32(elf.PT_NOTE), Off: off, Vaddr: 0x80000, Filesz: 40, Memsz: 40},
			{Type: load, Off: off, Vaddr: 0x90000, Filesz: 0, Memsz: 10},
		},
		{
			{Type: load, Off: off, Vaddr: 0x20000, Filesz: 1000, Memsz: 1000},
			{Type: load, Off: off, Vaddr: 0x1f000, Filesz: 100, Memsz: 3 * 4096},
			{Type: load, Off: off, Vaddr: 0x20010, Filesz: 8, Memsz: 8 + 2*4096},
		},
		{
			{Type: load, Off: off, Vaddr: 0x40000, Filesz: 1, Memsz: 64 * 4096},
			{Type: load, Off: off + 7, Vaddr: 0x40000 + 5*4096 + 3, Filesz: 900, Memsz: 900},
			{Type: load, Off: off, Vaddr: 0x40000 + 63*4096, Filesz: 1000, Memsz: 3 * 4096},
		},
		{{Type: load, Vaddr: 0x10000, Memsz: HeapStart - 0x10000}},
	} {
		f.Add(craftELF(progs, body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		var s *State
		n := allocated(func() { s, err = LoadELF(ef) })
		limit := 3*uint64(len(data)) + 16<<20
		require.LessOrEqual(t, n, limit, "loading a %d-byte ELF allocated %d bytes", len(data), n)
		MakeMetadata(ef) // must not panic either
		if err != nil {
			return
		}
		require.NoError(t, PatchStack(s))
		pages := s.Memory.PageCount()
		require.LessOrEqual(t, pages, MaxProgramMemory/PageSize+5, "%d pages", pages)
		// The last segment that loads is where its header says: file data, then zeroes.
		for i := len(ef.Progs) - 1; i >= 0; i-- {
			p := ef.Progs[i]
			if p.Type == elf.PT_MIPS_ABIFLAGS || p.Memsz == 0 {
				continue
			}
			if p.Filesz == 0 {
				// No file data: its offset is never read, and may lie anywhere.
			} else if got := s.Memory.ReadRange(p.Vaddr, p.Filesz); !bytes.Equal(got, data[p.Off:p.Off+p.Filesz]) {
				require.FailNow(t, fmt.Sprintf("segment %d: memory differs from its file data", i))
			}
			bss := min(p.Memsz-p.Filesz, 1<<20)
			require.Equal(t, make([]byte, bss), s.Memory.ReadRange(p.Vaddr+p.Filesz, bss), "segment %d: bss is not zero", i)
			break
		}
		if s.Memory.PageCount() > 1024 {
			return // the round trip writes every page, zero or not: keep the fuzzer fast
		}
		enc := stateBytes(t, s)
		dec, err := DeserializeState(bytes.NewReader(enc))
		require.NoError(t, err)
		require.Equal(t, s.Hash(), dec.Hash(), "state does not round-trip")
		require.Equal(t, enc, stateBytes(t, dec), "state does not round-trip")
	})
}

// shrinkELF returns a 64-bit big-endian ELF with the header and segments of data, each segment keeping
// at most max bytes of its file data (and its bss), packed after the program headers, without sections.
func shrinkELF(tb testing.TB, data []byte, max uint64) []byte {
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(tb, err)
	progs := make([]elf.Prog64, len(f.Progs))
	var body []byte
	off := uint64(64 + 56*len(progs))
	for i, p := range f.Progs {
		n := min(p.Filesz, max)
		progs[i] = elf.Prog64{Type: uint32(p.Type), Flags: uint32(p.Flags), Off: off + uint64(len(body)), Vaddr: p.Vaddr,
			Paddr: p.Paddr, Filesz: n, Memsz: p.Memsz - (p.Filesz - n), Align: p.Align}
		body = append(body, data[p.Off:p.Off+n]...)
	}
	out := craftELF(progs, body)
	binary.BigEndian.PutUint64(out[24:], f.Entry)
	return out
}
