package crosscheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ethereum-optimism/optimism/cannon/mipsevm/multithreaded"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/program"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/versions"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// craftELF returns a 64-bit big-endian MIPS executable with the given program headers followed by body
// (file offset 64+56*len(progs)), without sections.
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

// loadBoth loads an ELF (and patches the stack) with Cannon's loader and ours.
func loadBoth(t *testing.T, data []byte) (*versions.VersionedState, error, *vm.State, error) {
	t.Helper()
	cs, cerr := loadCannon(t, data)
	ours, oerr := loadOurs(t, data)
	return cs, cerr, ours, oerr
}

// loadCannon does what "cannon load-elf" does: its command checks the machine, program.LoadELF the rest.
func loadCannon(t *testing.T, data []byte) (*versions.VersionedState, error) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	if f.Machine != elf.EM_MIPS {
		return nil, fmt.Errorf("ELF is not big-endian MIPS R3000, but got %q", f.Machine.String())
	}
	st, err := program.LoadELF(f, multithreaded.CreateInitialState)
	if err != nil {
		return nil, err
	}
	require.NoError(t, program.PatchStack(st))
	cs, err := versions.NewFromState(versions.VersionMultiThreaded64_v5, st)
	require.NoError(t, err)
	return cs, nil
}

func loadOurs(t *testing.T, data []byte) (*vm.State, error) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	s, err := vm.LoadELF(f)
	if err != nil {
		return nil, err
	}
	require.NoError(t, vm.PatchStack(s))
	return s, nil
}

// requireSameLoad requires both loaders to accept the ELF and give the same state: hash, binary and
// JSON encodings.
func requireSameLoad(t *testing.T, data []byte) *vm.State {
	t.Helper()
	cs, cerr, ours, oerr := loadBoth(t, data)
	require.NoError(t, cerr, "cannon, ours: %v", oerr)
	require.NoError(t, oerr, "cannon: %v, ours", cerr)
	_, ch := cs.EncodeWitness()
	oh := ours.Hash()
	require.Equal(t, ch, oh, "state hash: cannon %s, ours %s", ch, oh)
	require.Equal(t, serializeOurs(t, ours), serializeCannon(t, cs), "binary state differs")
	cj, err := json.Marshal(cs.FPVMState)
	require.NoError(t, err)
	oj, err := json.Marshal(ours)
	require.NoError(t, err)
	require.Equal(t, oj, cj, "JSON state differs")
	return ours
}

// TestLoadELFZeroFillMatchesCannon loads ELFs whose segments have bss (kept as zero runs by our loader,
// allocated page by page by Cannon's) in every arrangement: mid-page starts and ends, bss over another
// segment's data and data over another segment's bss, and a guest program with 64 MiB more bss. The
// states must be Cannon's, page for page.
func TestLoadELFZeroFillMatchesCannon(t *testing.T) {
	load := uint32(elf.PT_LOAD)
	body := bytes.Repeat([]byte("faultproof segment data, not zero. "), 600) // 21000 bytes
	const off = 64 + 56*3                                                    // body offset with three segments
	cases := map[string][]elf.Prog64{
		"bss from mid-page to mid-page": {
			{Type: load, Off: off, Vaddr: 0x10000 + 100, Filesz: 5000, Memsz: 5000 + 9*4096 + 1234},
			{Type: uint32(elf.PT_NOTE), Off: off, Vaddr: 0x80000, Filesz: 40, Memsz: 40},
			{Type: load, Off: off, Vaddr: 0x90000, Filesz: 0, Memsz: 10},
		},
		"bss over earlier data": {
			{Type: load, Off: off, Vaddr: 0x20000, Filesz: 20000, Memsz: 20000},
			{Type: load, Off: off, Vaddr: 0x1f000, Filesz: 100, Memsz: 3 * 4096},
			{Type: load, Off: off, Vaddr: 0x22010, Filesz: 8, Memsz: 8 + 2*4096},
		},
		"data over earlier bss": {
			{Type: load, Off: off, Vaddr: 0x40000, Filesz: 1, Memsz: 64 * 4096},
			{Type: load, Off: off + 7, Vaddr: 0x40000 + 5*4096 + 3, Filesz: 9000, Memsz: 9000},
			{Type: load, Off: off, Vaddr: 0x40000 + 63*4096, Filesz: 4096, Memsz: 3 * 4096},
		},
	}
	for name, progs := range cases {
		t.Run(name, func(t *testing.T) { requireSameLoad(t, craftELF(progs, body)) })
	}

	t.Run("guest with 64 MiB more bss", func(t *testing.T) {
		data, err := os.ReadFile(guestPath(t, "hello"))
		require.NoError(t, err)
		phoff := binary.BigEndian.Uint64(data[32:])
		last := -1
		for i := range int(binary.BigEndian.Uint16(data[56:])) {
			if o := int(phoff) + 56*i; binary.BigEndian.Uint32(data[o:]) == load {
				last = o
			}
		}
		binary.BigEndian.PutUint64(data[last+40:], binary.BigEndian.Uint64(data[last+40:])+64<<20)
		s := requireSameLoad(t, data)
		t.Logf("%d pages", s.Memory.PageCount())
	})
}

// TestLoadELFRejectsTruncatedFiles pins where we refuse what Cannon takes. A segment whose file data
// extends past the end of the file: Cannon copies what the file has and goes on (with a bss, the zeroes
// then start where the file ended, so the segment's data is not where its header says); we refuse the
// ELF as broken. A MIPS ELF that is 32-bit or little-endian: Cannon's load-elf checks only the machine
// and loads it into the 64-bit big-endian VM; we refuse it. Both refuse the other malformed segments
// alike.
func TestLoadELFRejectsTruncatedFiles(t *testing.T) {
	load := uint32(elf.PT_LOAD)
	body := bytes.Repeat([]byte{0xab}, 1000)
	const off = 64 + 56
	truncated := craftELF([]elf.Prog64{{Type: load, Off: off, Vaddr: 0x10000, Filesz: 5000, Memsz: 8192}}, body)
	cs, cerr, _, oerr := loadBoth(t, truncated)
	require.NoError(t, cerr, "cannon now refuses a truncated segment: drop this divergence")
	require.ErrorIs(t, oerr, vm.ErrBadELF, "ours: %v", oerr)
	t.Logf("cannon loads it (state %s); ours: %v", must(cs.EncodeWitness()), oerr)

	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS32), byte(elf.ELFDATA2MSB), byte(elf.EV_CURRENT)}
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, &elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_MIPS),
		Version: uint32(elf.EV_CURRENT), Entry: 0x10000, Phoff: 52, Ehsize: 52, Phentsize: 32, Phnum: 1, Shentsize: 40})
	binary.Write(&buf, binary.BigEndian, &elf.Prog32{Type: load, Off: 84, Vaddr: 0x10000, Filesz: 16, Memsz: 4096})
	buf.Write(bytes.Repeat([]byte{0xcd}, 16))
	_, cerr, _, oerr = loadBoth(t, buf.Bytes())
	require.NoError(t, cerr, "32-bit MIPS ELF: cannon, ours %v", oerr)
	require.Error(t, oerr, "32-bit MIPS ELF: cannon %v, ours", cerr)
	require.Contains(t, oerr.Error(), "not 64-bit big-endian", "32-bit MIPS ELF: cannon %v, ours %v", cerr, oerr)

	for name, prog := range map[string]elf.Prog64{
		"file size above memory size": {Type: load, Off: off, Vaddr: 0x10000, Filesz: 64, Memsz: 32},
		"into the heap":               {Type: load, Off: off, Vaddr: vm.HeapStart - 4096, Memsz: 8192},
		"above 48 bits":               {Type: load, Off: off, Vaddr: 1 << 48, Memsz: 8},
		"non-load with bss":           {Type: uint32(elf.PT_NOTE), Off: off, Vaddr: 0x10000, Filesz: 8, Memsz: 16},
	} {
		_, cerr, _, oerr := loadBoth(t, craftELF([]elf.Prog64{prog}, body))
		require.Error(t, cerr, "%s: cannon, ours %v", name, oerr)
		require.Error(t, oerr, "%s: cannon %v, ours", name, cerr)
	}
}

func must[T any](_ []byte, v T) T { return v }

// FuzzLoadELFMatchesCannon loads mutated ELFs with Cannon's loader and ours: both accept or both refuse
// (except the pinned truncated-segment divergence), and accepted programs give identical states. ELFs
// whose segments span more than 64 MiB are skipped: Cannon would allocate all of it.
//
// Long run: cd crosscheck && go test -run XXX -fuzz '^FuzzLoadELFMatchesCannon$' -fuzztime 30m -fuzzminimizetime 10x
func FuzzLoadELFMatchesCannon(f *testing.F) {
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
	} {
		f.Add(craftELF(progs, body))
	}
	hello, err := os.ReadFile(guestPath(f, "hello"))
	require.NoError(f, err)
	f.Add(hello)
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		var span uint64
		for _, p := range ef.Progs {
			span += p.Memsz/4096 + 2
		}
		if span > 64<<20/4096 {
			return
		}
		var cs *versions.VersionedState
		var cerr error
		func() {
			defer func() {
				if r := recover(); r != nil {
					cerr = fmt.Errorf("cannon panics: %v", r)
				}
			}()
			cs, cerr = loadCannon(t, data)
		}()
		ours, oerr := loadOurs(t, data)
		if oerr != nil && (strings.Contains(oerr.Error(), "extends past the end of the file") || strings.Contains(oerr.Error(), "not 64-bit big-endian")) {
			return // the pinned divergences (TestLoadELFRejectsTruncatedFiles)
		}
		require.Equal(t, (oerr == nil), (cerr == nil), "cannon: %v, ours: %v", cerr, oerr)
		if cerr != nil {
			return
		}
		require.Equal(t, serializeOurs(t, ours), serializeCannon(t, cs), "states differ")
	})
}
