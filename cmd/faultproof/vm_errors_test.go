package main

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// dyingHostEnv makes the test binary a pre-image server that answers the given number of pre-image
// requests (with 32 bytes of 0x11, which the local keys the bootinfo guest asks for first accept) and
// then exits with code 7, as a host that crashes in the middle of a run.
const dyingHostEnv = "FAULTPROOF_TEST_DYING_HOST"

func init() {
	if n := os.Getenv(dyingHostEnv); n != "" {
		os.Exit(runDyingHost(n))
	}
}

func runDyingHost(requests string) int {
	n, err := strconv.Atoi(requests)
	if err != nil {
		return 3
	}
	hints := preimage.NewHintReader(preimage.ClientHinterChannel())
	oracle := preimage.NewOracleServer(preimage.ClientPreimageChannel())
	go func() {
		for hints.NextHint(func(string) error { return nil }) == nil {
		}
	}()
	for i := 0; i < n; i++ {
		if err := oracle.NextPreimageRequest(func([32]byte) ([]byte, error) { return bytes.Repeat([]byte{0x11}, 32), nil }); err != nil {
			return 4
		}
	}
	fmt.Fprintf(os.Stderr, "crashing after %d requests\n", n)
	return 7
}

// buildVMGuests builds guest programs of ../../vm/testdata/guest into dir.
func buildVMGuests(tb testing.TB, dir string, names ...string) string {
	tb.Helper()
	args := []string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..", "vm", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "building guests: %s", out)
	return dir
}

// elfHeader returns the ELF header of a MIPS executable with no segments, of the given class and byte
// order.
func elfHeader(t *testing.T, class elf.Class, order binary.ByteOrder) []byte {
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(class), byte(elf.ELFDATA2MSB), byte(elf.EV_CURRENT)}
	if order == binary.LittleEndian {
		ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	}
	var hdr any
	if class == elf.ELFCLASS32 {
		hdr = &elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_MIPS), Version: uint32(elf.EV_CURRENT),
			Entry: 0x10000, Ehsize: 52, Phentsize: 32, Shentsize: 40}
	} else {
		hdr = &elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_MIPS), Version: uint32(elf.EV_CURRENT),
			Entry: 0x10000, Ehsize: 64, Phentsize: 56, Shentsize: 64}
	}
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, order, hdr))
	return buf.Bytes()
}

// failingStep runs a guest with the vm package and returns the step it fails at and the error.
func failingStep(t *testing.T, elfPath string) (uint64, error) {
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	err = vm.NewVM(s, vm.NewMemoryOracle(), nil, nil).Run(0)
	require.Error(t, err)
	return s.Step - 1, err
}

// TestVMErrorPaths runs vm load-elf and vm run on broken input and on programs and servers that fail:
// each is a one-line error naming what failed, exit code 2 and no panic, and no output state is written.
// Like every failure of vm run, they all exit 2 (0 and 1 are claim verdicts elsewhere in faultproof, and
// vm run's exit code 0 means the run ended, whatever the program's own exit code); the message says
// which failure it was. The cases TestVMCommands already covers (a missing file, a shell script or an
// x86-64 binary as the ELF, a garbage state, a state that is not gzip, a server that fails at once or
// refuses or sends wrong data) are not repeated.
func TestVMErrorPaths(t *testing.T) {
	dir := t.TempDir()
	guests := buildVMGuests(t, filepath.Join(dir, "guests"), "hello", "bootinfo", "badsyscall", "badinsn", "exit3", "panic")
	hello, err := os.ReadFile(filepath.Join(guests, "hello"))
	require.NoError(t, err)
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}
	load := func(guest string) string {
		state := filepath.Join(dir, guest+".bin.gz")
		_, stderr, code := vmCLI(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", filepath.Join(guests, guest), "--out", state, "--meta", "")
		require.Equal(t, 0, code, stderr)
		return state
	}
	helloState, bootState, badSyscallState, badInsnState := load("hello"), load("bootinfo"), load("badsyscall"), load("badinsn")

	// ELF files.
	rng := rand.New(rand.NewPCG(7, 7))
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbageELF := write("garbage.elf", garbage)
	elfMagicGarbage := write("magic-garbage.elf", append([]byte{0x7f, 'E', 'L', 'F', 2, 2, 1}, garbage...))
	truncatedHeader := write("truncated-header.elf", hello[:40])
	truncatedELF := write("truncated.elf", hello[:len(hello)/2])
	mips32 := write("mips32.elf", elfHeader(t, elf.ELFCLASS32, binary.BigEndian))
	mips64le := write("mips64le.elf", elfHeader(t, elf.ELFCLASS64, binary.LittleEndian))
	// 120-byte ELFs: a header and one segment that claims what the file cannot back.
	oneSegment := func(p elf.Prog64) []byte {
		hdr := elfHeader(t, elf.ELFCLASS64, binary.BigEndian)
		binary.BigEndian.PutUint64(hdr[32:], 64) // e_phoff
		binary.BigEndian.PutUint16(hdr[56:], 1)  // e_phnum
		var buf bytes.Buffer
		require.NoError(t, binary.Write(&buf, binary.BigEndian, &p))
		return append(hdr, buf.Bytes()...)
	}
	hugeBSS := write("huge-bss.elf", oneSegment(elf.Prog64{Type: uint32(elf.PT_LOAD), Vaddr: 0x10000, Memsz: vm.HeapStart - 0x10000}))
	pastEOF := write("past-eof.elf", oneSegment(elf.Prog64{Type: uint32(elf.PT_LOAD), Vaddr: 0x10000, Filesz: 1 << 30, Memsz: 1 << 30}))

	// State files.
	plain, err := os.ReadFile(filepath.Join(dir, "hello.bin.gz"))
	require.NoError(t, err)
	raw := readMaybeGzip(t, helloState)
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, err := w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return buf.Bytes()
	}
	version := func(v byte) []byte { return append([]byte{v}, raw[1:]...) }
	truncatedGzip := write("truncated.bin.gz", plain[:len(plain)/3])
	truncatedGzipHeader := write("truncated-header.bin.gz", plain[:6])
	truncatedBin := write("truncated.bin", raw[:len(raw)/2])
	version5 := write("version5.bin", version(5)) // 32-bit multithreaded: never run by this VM
	version9 := write("version9.bin.gz", gz(version(9)))
	garbageJSON := write("garbage.json", []byte(`{"memory": [}`))
	// No pages and zero scalars, then a count that the input does not back.
	scalars := make([]byte, 1+8+32+8+8+1+8+8+1+1+8+8+1+8)
	scalars[0] = vm.StateVersion
	manyThreads := write("threads.bin", binary.BigEndian.AppendUint64(bytes.Clone(scalars), 1<<24))
	bigHint := write("hint.bin", append(append(bytes.Clone(scalars), make([]byte, 16)...), 0xff, 0xff, 0xff, 0xff))

	loadELF := func(path string) []string {
		return []string{"vm", "load-elf", "--type", "multithreaded64-5", "--path", path, "--out", filepath.Join(dir, "out", "state.bin.gz"), "--meta", ""}
	}
	run := func(input string, extra ...string) []string {
		return append([]string{"vm", "run", "--input", input, "--output", filepath.Join(dir, "out", "out.bin.gz"), "--meta", ""}, extra...)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	syscallStep, syscallErr := failingStep(t, filepath.Join(guests, "badsyscall"))
	require.ErrorIs(t, syscallErr, vm.ErrUnrecognizedSyscall)
	insnStep, insnErr := failingStep(t, filepath.Join(guests, "badinsn"))
	require.ErrorIs(t, insnErr, vm.ErrInvalidInstruction)

	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"garbage ELF", loadELF(garbageELF), []string{"garbage.elf", "failed to parse ELF", "bad magic number"}},
		{"ELF magic then garbage", loadELF(elfMagicGarbage), []string{"failed to parse ELF"}},
		{"truncated ELF header", loadELF(truncatedHeader), []string{"truncated-header.elf", "failed to parse ELF"}},
		{"truncated ELF", loadELF(truncatedELF), []string{"truncated.elf", "failed to parse ELF"}},
		{"32-bit MIPS ELF", loadELF(mips32), []string{"ELF is not 64-bit big-endian", "ELFCLASS32"}},
		{"little-endian MIPS64 ELF", loadELF(mips64le), []string{"ELF is not 64-bit big-endian", "ELFDATA2LSB"}},
		{"16 TiB of bss in 120 bytes", loadELF(hugeBSS), []string{"huge-bss.elf", "invalid ELF program", "span more than 16 GiB"}},
		{"segment past the end of the file", loadELF(pastEOF), []string{"past-eof.elf", "invalid ELF program", "extends past the end of the file"}},
		{"truncated gzip state", run(truncatedGzip), []string{"failed to load state", "truncated.bin.gz", "state is truncated: input ends in the page"}},
		{"truncated gzip header", run(truncatedGzipHeader), []string{"failed to load state", "unexpected EOF"}},
		{"truncated state", run(truncatedBin), []string{"failed to load state", "truncated.bin", "state is truncated: input ends in the page"}},
		{"state claiming 2^24 threads", run(manyThreads), []string{"failed to load state", "threads.bin", "input ends in the thread 0 of 16777216 of the left thread stack"}},
		{"state claiming a 4 GiB hint", run(bigHint), []string{"failed to load state", "hint.bin", "input ends in the last hint (0 of 4294967295 bytes)"}},
		{"state version 5", run(version5), []string{"failed to load state", "unsupported state version 5 (supported: 6 (multithreaded64-3), 7 (multithreaded64-4), 8 (multithreaded64-5))"}},
		{"state version 9, gzipped", run(version9), []string{"failed to load state", "unsupported state version 9"}},
		{"garbage JSON state", run(garbageJSON), []string{"failed to load state", "garbage.json"}},
		{"witness of a truncated state", []string{"vm", "witness", "--input", truncatedGzip}, []string{"failed to load state", "state is truncated"}},
		{"unknown syscall", run(badSyscallState),
			[]string{fmt.Sprintf("failed at step %d (PC: ", syscallStep), "unrecognized syscall: 5108"}},
		{"invalid instruction", run(badInsnState),
			[]string{fmt.Sprintf("failed at step %d (PC: ", insnStep), "invalid instruction: 0x0000000d"}},
		{"server dies mid-run", run(bootState, "--", "env", dyingHostEnv+"=3", exe),
			[]string{"failed at step", "pre-image server env exited with code 7", `"crashing after 3 requests"`}},
	}
	messages := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := faultproofCmd(t, tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := waitTimeout(startOrFail(t, cmd), time.Minute)
			require.Equal(t, 2, exitCode(err), "stderr:\n%s", stderr.String())
			require.NotContains(t, stderr.String(), "panic")
			last := lastLine(stderr.String())
			t.Log(last)
			require.True(t, strings.HasPrefix(last, "faultproof: "), last)
			for _, w := range tt.wants {
				require.Contains(t, last, w)
			}
			_, statErr := os.Stat(filepath.Join(dir, "out"))
			require.True(t, errors.Is(statErr, os.ErrNotExist), "a failed command wrote output")
			messages[tt.name] = last
		})
	}

	// The runs that fail mid-way say which failure it was, and the program's output up to it is logged.
	for _, a := range []string{"unknown syscall", "invalid instruction", "server dies mid-run"} {
		for _, b := range []string{"unknown syscall", "invalid instruction", "server dies mid-run"} {
			if a != b {
				require.NotEqual(t, messages[a], messages[b])
			}
		}
	}
	_, stderr, code := vmCLI(t, run(badSyscallState)...)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `text="calling getppid"`)
	require.NotContains(t, stderr, "getppid returned")

	// A program that exits with a non-zero code, or panics, is not a failure of the run: the run exits 0
	// and the program's exit code is in the final state (and the log).
	for _, c := range []struct {
		guest  string
		code   uint8
		output string
	}{{"exit3", 3, `text="exiting with code 3"`}, {"panic", 2, `text="panic: boom from the guest"`}} {
		out := filepath.Join(dir, c.guest+"-out.bin.gz")
		_, stderr, code := vmCLI(t, "vm", "run", "--input", load(c.guest), "--output", out, "--meta", "")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stderr, fmt.Sprintf("exited, exit code %d", c.code))
		require.Contains(t, stderr, c.output)
		final, err := vm.LoadStateFile(out)
		require.NoError(t, err)
		require.True(t, final.Exited)
		require.Equal(t, c.code, final.ExitCode)
	}
}
