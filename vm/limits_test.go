package vm

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// allocated returns the bytes allocated on the heap while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// craftELF returns a 64-bit big-endian MIPS executable with the given program headers, followed by
// body. It has no sections: LoadELF does not need them.
func craftELF(progs []elf.Prog64, body []byte) []byte {
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2MSB), byte(elf.EV_CURRENT)}
	h := elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_MIPS), Version: uint32(elf.EV_CURRENT),
		Entry: 0x10000, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: uint16(len(progs)), Shentsize: 64}
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, &h)
	for _, p := range progs {
		binary.Write(&buf, binary.BigEndian, &p)
	}
	buf.Write(body)
	return buf.Bytes()
}

func loadELFBytes(data []byte) (*State, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return LoadELF(f)
}

// TestLoadELFRejectsBadSizes feeds the loader ELFs of 120 bytes whose segments claim terabytes: each is
// an ErrBadELF naming the problem, found before anything is allocated.
func TestLoadELFRejectsBadSizes(t *testing.T) {
	load := uint32(elf.PT_LOAD)
	tests := []struct {
		name string
		prog elf.Prog64
		want string
	}{
		{"16 TiB of bss below the heap", elf.Prog64{Type: load, Vaddr: 0x10000, Memsz: HeapStart - 0x10000}, "span more than 16 GiB"},
		{"file data of 1 TiB", elf.Prog64{Type: load, Vaddr: 0x10000, Filesz: 1 << 40, Memsz: 1 << 40}, "span more than 16 GiB"},
		{"file data past the end of the file", elf.Prog64{Type: load, Vaddr: 0x10000, Filesz: 1 << 20, Memsz: 1 << 20}, "extends past the end of the file"},
		{"file data one byte past the end", elf.Prog64{Type: load, Vaddr: 0x10000, Filesz: 121, Memsz: 4096}, "extends past the end of the file"},
		{"file data at an offset past the end", elf.Prog64{Type: load, Off: 1 << 62, Vaddr: 0x10000, Filesz: 8, Memsz: 8}, "extends past the end of the file"},
		{"a note past the end of the file", elf.Prog64{Type: uint32(elf.PT_NOTE), Vaddr: 0x10000, Filesz: 1 << 30, Memsz: 1 << 30}, "extends past the end of the file"},
		{"file size above memory size", elf.Prog64{Type: load, Vaddr: 0x10000, Filesz: 64, Memsz: 32}, "file size (64) > mem size (32)"},
		{"into the heap", elf.Prog64{Type: load, Vaddr: HeapStart - 4096, Memsz: 8192}, "overlaps with heap"},
		{"above 48 bits", elf.Prog64{Type: load, Vaddr: 1 << 48, Memsz: 8}, "out of memory range"},
		{"wrapping around", elf.Prog64{Type: load, Vaddr: ^uint64(0) - 8, Memsz: 4096}, "out of memory range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := craftELF([]elf.Prog64{tt.prog}, nil)
			require.Len(t, data, 120, "%d-byte ELF", len(data))
			var err error
			n := allocated(func() { _, err = loadELFBytes(data) })
			require.ErrorIs(t, err, ErrBadELF, "error %v, want an ErrBadELF saying %q", err, tt.want)
			require.Contains(t, err.Error(), tt.want, "error %v, want an ErrBadELF saying %q", err, tt.want)
			require.LessOrEqual(t, n, uint64(1<<20), "allocated %d bytes to reject it", n)
		})
	}

	// Segments that are each small enough but together too large.
	progs := make([]elf.Prog64, 5)
	for i := range progs {
		progs[i] = elf.Prog64{Type: load, Vaddr: uint64(i+1) << 40, Memsz: 4 << 30}
	}
	_, err := loadELFBytes(craftELF(progs, nil))
	require.ErrorIs(t, err, ErrBadELF, "20 GiB in five segments: %v", err)
	require.Contains(t, err.Error(), "segment 4", "20 GiB in five segments: %v", err)
	// Right at the bound is fine, and costs nothing.
	progs = progs[:4]
	var s *State
	n := allocated(func() { s, err = loadELFBytes(craftELF(progs, nil)) })
	require.NoError(t, err, "16 GiB of bss, %d bytes allocated", n)
	require.LessOrEqual(t, n, uint64(1<<20), "16 GiB of bss: %v, %d bytes allocated", err, n)
	require.Equal(t, MaxProgramMemory/PageSize, s.Memory.PageCount(), "16 GiB of bss: %d pages", s.Memory.PageCount())
	require.Equal(t, EmptyMemoryRoot, s.Memory.MerkleRoot(), "16 GiB of bss: %d pages", s.Memory.PageCount())
}

// patchBSS returns a copy of a 64-bit big-endian ELF whose last PT_LOAD segment has extra more bytes of
// memory (bss).
func patchBSS(t testing.TB, data []byte, extra uint64) []byte {
	out := bytes.Clone(data)
	phoff := binary.BigEndian.Uint64(out[32:])
	phnum := int(binary.BigEndian.Uint16(out[56:]))
	last := -1
	for i := range phnum {
		if off := int(phoff) + 56*i; binary.BigEndian.Uint32(out[off:]) == uint32(elf.PT_LOAD) {
			last = off
		}
	}
	require.GreaterOrEqual(t, last, 0, "no PT_LOAD segment")
	binary.BigEndian.PutUint64(out[last+40:], binary.BigEndian.Uint64(out[last+40:])+extra)
	return out
}

// countingWriter counts and hashes what is written to it.
type countingWriter struct {
	n int64
	h io.Writer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.h != nil {
		w.h.Write(p)
	}
	return len(p), nil
}

// TestLoadELFLazyBSS loads a guest program with 8 GiB more bss: it costs no more memory than the
// program itself, and the state is the program's with 2^21 more (zero) pages, which the state file
// lists as Cannon's does.
func TestLoadELFLazyBSS(t *testing.T) {
	hello := guestELF(t, "hello")
	plain, _, err := LoadProgram(hello)
	require.NoError(t, err)
	const extra = 8 << 30
	big := patchBSS(t, hello, extra)
	var s *State
	n := allocated(func() { s, _, err = LoadProgram(big) })
	require.NoError(t, err)
	limit := uint64(64 << 20)
	require.LessOrEqual(t, n, limit, "loading 8 GiB of bss allocated %d MiB", n>>20)
	t.Logf("8 GiB of bss: %d MiB allocated", n>>20)
	require.Equal(t, plain.Memory.PageCount()+extra/PageSize, s.Memory.PageCount(), "pages")
	// The memory is the program's with the patched program header (loaded with the first segments),
	// the bss hashing as the absent pages it equals.
	want := plain.Copy()
	f, err := elf.NewFile(bytes.NewReader(big))
	require.NoError(t, err)
	for _, p := range f.Progs {
		if p.Type != elf.PT_MIPS_ABIFLAGS {
			want.Memory.SetRange(p.Vaddr, big[p.Off:p.Off+p.Filesz])
		}
	}
	require.Equal(t, want.Hash(), s.Hash(), "zero pages changed the state hash")
	require.NotEqual(t, plain.Hash(), s.Hash(), "zero pages changed the state hash")
	// The state file streams the zero pages.
	w := &countingWriter{}
	n = allocated(func() { err = s.Serialize(w) })
	require.NoError(t, err)
	var ref countingWriter
	require.NoError(t, plain.Serialize(&ref))
	wantSize := ref.n + extra/PageSize*(8+PageSize)
	require.Equal(t, wantSize, w.n, "state file of %d bytes, want %d", w.n, wantSize)
	require.LessOrEqual(t, n, uint64(16<<20), "serializing allocated %d MiB", n>>20)
}

// eagerZero writes n zero bytes from addr as Cannon's loader does: every page in full.
func eagerZero(m *Memory, addr, n uint64) {
	zero := make([]byte, PageSize)
	for n > 0 {
		l := min(n, PageSize-addr&pageAddrMask)
		m.SetRange(addr, zero[:l])
		addr += l
		n -= l
	}
}

func stateBytes(t testing.TB, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Serialize(&buf))
	return buf.Bytes()
}

// TestZeroRangeMatchesEagerFill runs random writes, zero fills and copies on a memory with lazy zero
// pages and on one filled eagerly: page counts, pages, roots, proofs and state files stay identical.
func TestZeroRangeMatchesEagerFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	for round := range 40 {
		lazy, eager := NewState(0, HeapStart), NewState(0, HeapStart)
		base := uint64(rng.IntN(8)) << 40
		addr := func() uint64 { return base + uint64(rng.IntN(64*PageSize)) }
		for range 30 {
			switch rng.IntN(5) {
			case 0, 1:
				a, n := addr(), uint64(rng.IntN(20*PageSize))
				lazy.Memory.ZeroRange(a, n)
				eagerZero(eager.Memory, a, n)
			case 2:
				a, v := addr()&^7, rng.Uint64()
				lazy.Memory.SetWord(a, v)
				eager.Memory.SetWord(a, v)
			case 3:
				data := make([]byte, rng.IntN(3*PageSize))
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				a := addr()
				lazy.Memory.SetRange(a, data)
				eager.Memory.SetRange(a, data)
			case 4:
				lazy.Memory = lazy.Memory.Copy()
			}
			if rng.IntN(4) == 0 {
				lazy.Memory.MerkleRoot()
			}
		}
		require.Equal(t, eager.Memory.PageCount(), lazy.Memory.PageCount(), "round %d: %d pages, eager %d", round, lazy.Memory.PageCount(), eager.Memory.PageCount())
		require.Equal(t, eager.Memory.MerkleRoot(), lazy.Memory.MerkleRoot(), "round %d: roots differ", round)
		for range 20 {
			a := addr() &^ 7
			require.Equal(t, eager.Memory.MerkleProof(a), lazy.Memory.MerkleProof(a), "round %d: word or proof at %#x differs", round, a)
			require.Equal(t, eager.Memory.GetWord(a), lazy.Memory.GetWord(a), "round %d: word or proof at %#x differs", round, a)
		}
		lb, eb := stateBytes(t, lazy), stateBytes(t, eager)
		require.Equal(t, eb, lb, "round %d: state files differ", round)
		// Decoding turns the zero pages back into zero runs, and gives the same file again.
		dec, err := DeserializeState(bytes.NewReader(lb))
		require.NoError(t, err)
		require.Equal(t, lb, stateBytes(t, dec), "round %d: decoded state differs", round)
		require.Equal(t, eager.Memory.PageCount(), dec.Memory.PageCount(), "round %d: decoded state differs", round)
		js, err := lazy.MarshalJSON()
		require.NoError(t, err)
		ejs, err := eager.MarshalJSON()
		require.NoError(t, err, "round %d: JSON differs", round)
		require.Equal(t, ejs, js, "round %d: JSON differs", round)
	}
}

// stateStream generates a binary state with the given number of all-zero pages (every other index)
// without holding it in memory.
type stateStream struct {
	pages, next uint64
	buf         []byte
	tail        []byte
	page        [8 + PageSize]byte // index and zero contents of the next page
}

func newStateStream(pages uint64) *stateStream {
	head := []byte{StateVersion}
	head = binary.BigEndian.AppendUint64(head, pages)
	var tail bytes.Buffer
	empty := &State{Memory: NewMemory(), LeftThreadStack: []*Thread{{}}, RightThreadStack: []*Thread{}}
	if err := empty.Serialize(&tail); err != nil {
		panic(err)
	}
	return &stateStream{pages: pages, buf: head, tail: tail.Bytes()[9:]}
}

func (s *stateStream) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		switch {
		case s.next < s.pages:
			binary.BigEndian.PutUint64(s.page[:], 2*s.next)
			s.buf = s.page[:]
			s.next++
		case s.tail != nil:
			s.buf, s.tail = s.tail, nil
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// TestDeserializeBoundsAllocations decodes states whose counts promise more than they hold, and a
// state of 400 MB of zero pages: memory follows the data actually read, and a state that ends early
// is an ErrTruncatedState naming where.
func TestDeserializeBoundsAllocations(t *testing.T) {
	scalars := make([]byte, 32+8+8+1+8+8+1+1+8+8+1+8)
	state := func(parts ...[]byte) []byte {
		out := []byte{StateVersion}
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	thread := make([]byte, ThreadEncodingSize)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "input ends in the version byte"},
		{"2^60 pages", state(u64(1 << 60)), "input ends in the index of page 0 of 1152921504606846976"},
		{"a page cut short", state(u64(3), u64(5), make([]byte, 100)), "input ends in the page 0 of 3 (index 0x5)"},
		{"2^24 threads", state(u64(0), scalars, u64(1<<24)), "input ends in the thread 0 of 16777216 of the left thread stack"},
		{"2^64-1 threads", state(u64(0), scalars, u64(1), thread, u64(^uint64(0))), "thread 0 of 18446744073709551615 of the right thread stack"},
		{"a 4 GiB hint", state(u64(0), scalars, u64(1), thread, u64(0), u32(^uint32(0)), []byte("hint")), "input ends in the last hint (4 of 4294967295 bytes)"},
		{"no hint length", state(u64(0), scalars, u64(1), thread, u64(0)), "input ends in the last hint length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = DeserializeState(bytes.NewReader(tt.data)) })
			require.LessOrEqual(t, n, uint64(1<<20), "allocated %d bytes", n)
			require.ErrorIs(t, err, ErrTruncatedState, "error %v, want an ErrTruncatedState saying %q", err, tt.want)
			require.Contains(t, err.Error(), tt.want, "error %v, want an ErrTruncatedState saying %q", err, tt.want)
		})
	}

	// Every prefix of a real state is a truncated state.
	s := sampleState()
	full := stateBytes(t, s)
	for i := range len(full) {
		_, err := DeserializeState(bytes.NewReader(full[:i]))
		require.ErrorIs(t, err, ErrTruncatedState, "prefix of %d bytes: %v", i, err)
	}
	// Duplicate pages are refused, zero or not.
	dup := state(u64(2), u64(7), make([]byte, PageSize), u64(7), make([]byte, PageSize), scalars, u64(0), u64(0), u32(0))
	_, err := DeserializeState(bytes.NewReader(dup))
	require.Error(t, err, "duplicate zero page")
	require.Contains(t, err.Error(), "duplicate page 0x7", "duplicate zero page: %v", err)

	// Pages out of order are taken as they come, and written back in order.
	page := func(idx uint64, fill byte) []byte {
		return append(u64(idx), bytes.Repeat([]byte{fill}, PageSize)...)
	}
	tail := append(append(bytes.Clone(scalars), u64(1)...), append(thread, append(u64(0), u32(0)...)...)...)
	shuffled := state(u64(4), page(5, 0), page(3, 0), page(9, 1), page(4, 0), tail)
	got, err := DeserializeState(bytes.NewReader(shuffled))
	require.NoError(t, err)
	sorted := state(u64(4), page(3, 0), page(4, 0), page(5, 0), page(9, 1), tail)
	require.Equal(t, 4, got.Memory.PageCount(), "pages out of order")
	require.Equal(t, sorted, stateBytes(t, got), "pages out of order")
}

// TestDeserializeZeroPages decodes a state of 100k zero pages (400 MB): they take the memory of their
// run list, not of their pages, and the state file written back is the one read.
func TestDeserializeZeroPages(t *testing.T) {
	const pages = 100_000
	var got *State
	var err error
	n := allocated(func() { got, err = DeserializeState(newStateStream(pages)) })
	require.NoError(t, err)
	require.LessOrEqual(t, n, uint64(16<<20), "decoding %d zero pages allocated %d MiB", pages, n>>20)
	require.Equal(t, pages, got.Memory.PageCount(), "%d pages", got.Memory.PageCount())
	in, out := sha256.New(), sha256.New()
	io.Copy(in, newStateStream(pages))
	require.NoError(t, got.Serialize(out))
	require.Equal(t, out.Sum(nil), in.Sum(nil), "the state written back differs")
}
