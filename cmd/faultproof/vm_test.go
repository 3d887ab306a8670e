package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// fakeHostEnv makes the test binary a pre-image server that answers every request with wrong data, to
// test that vm run verifies what a server sends. It is checked in init, before TestMain.
const fakeHostEnv = "FAULTPROOF_TEST_FAKE_HOST"

func init() {
	if os.Getenv(fakeHostEnv) == "wrong-answers" {
		os.Exit(runWrongAnswerHost())
	}
}

func runWrongAnswerHost() int {
	hints := preimage.NewHintReader(preimage.ClientHinterChannel())
	oracle := preimage.NewOracleServer(preimage.ClientPreimageChannel())
	go func() {
		for hints.NextHint(func(string) error { return nil }) == nil {
		}
	}()
	for {
		err := oracle.NextPreimageRequest(func([32]byte) ([]byte, error) { return []byte("not the pre-image"), nil })
		if err != nil {
			return 0
		}
	}
}

// vmGuests builds the VM test guest programs of ../../vm/testdata/guest (linux/mips64, soft float) into
// dir and returns dir.
func vmGuests(tb testing.TB, dir string) string {
	tb.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-o", dir+string(filepath.Separator), "./hello", "./threads", "./oracle", "./bootinfo")
	cmd.Dir = filepath.Join("..", "..", "vm", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "building guests: %s", out)
	return dir
}

// vmCLI runs the CLI to completion and returns its stdout, stderr and exit code.
func vmCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := faultproofCmd(t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := waitTimeout(startOrFail(t, cmd), 2*time.Minute)
	return out.String(), errOut.String(), exitCode(err)
}

// vmCLIOK runs the CLI and requires exit code 0.
func vmCLIOK(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := vmCLI(t, args...)
	require.Equal(t, 0, code, "faultproof %v\nstderr:\n%s", args, stderr)
	require.NotContains(t, stderr, "panic")
	return stdout, stderr
}

func readMaybeGzip(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if strings.HasSuffix(path, ".gz") {
		r, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		data, err = io.ReadAll(r)
		require.NoError(t, err)
	}
	return data
}

func serialized(t *testing.T, s *vm.State) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Serialize(&buf))
	return buf.Bytes()
}

// libState loads a guest with the vm package and runs it for steps steps (0: to the end).
func libState(t *testing.T, elfPath string, oracle vm.PreimageOracle, steps uint64) (*vm.State, *vm.VM) {
	t.Helper()
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	if oracle == nil {
		oracle = vm.NewMemoryOracle()
	}
	m := vm.NewVM(s, oracle, nil, nil)
	require.NoError(t, m.Run(steps))
	return s, m
}

func readProof(t *testing.T, path string) *stepProof {
	t.Helper()
	var p stepProof
	require.NoError(t, json.Unmarshal(readMaybeGzip(t, path), &p))
	return &p
}

// requireProofMatches checks a proof file against the library's witness for the step from s.
func requireProofMatches(t *testing.T, p *stepProof, s *vm.State, m *vm.VM) {
	t.Helper()
	step := s.Step
	wit, err := m.Step(true)
	require.NoError(t, err)
	require.Equal(t, step, p.Step)
	require.Equal(t, wit.StateHash, p.Pre)
	require.Equal(t, s.Hash(), p.Post)
	require.Equal(t, hexutil.Bytes(wit.State), p.StateData)
	require.Equal(t, hexutil.Bytes(wit.ProofData), p.ProofData)
	if wit.HasPreimage() {
		require.Equal(t, hexutil.Bytes(wit.PreimageKey[:]), p.OracleKey)
		require.Equal(t, hexutil.Bytes(wit.PreimageValue), p.OracleValue)
		require.Equal(t, wit.PreimageOffset, p.OracleOffset)
	} else {
		require.Nil(t, p.OracleKey)
		require.Nil(t, p.OracleValue)
	}
}

// bootInfo is what the bootinfo guest reads, served by our host from its flags and a datadir.
type bootInfo struct {
	header  []byte
	l1Head  common.Hash
	datadir string
}

func newBootInfo(t *testing.T) *bootInfo {
	b := &bootInfo{header: []byte("an L1 block header, as far as this test is concerned"), datadir: t.TempDir()}
	b.l1Head = crypto.Keccak256Hash(b.header)
	writeDirectoryFormat(t, b.datadir, map[[32]byte][]byte{keccakKey(b.header): b.header})
	return b
}

// hostArgs is the vm run server command: the test binary as `faultproof host --server`.
func (b *bootInfo) hostArgs(t *testing.T) []string {
	exe, err := os.Executable()
	require.NoError(t, err)
	args := serverArgs(b.datadir)
	for i := range args {
		if args[i] == "--l1.head" {
			args[i+1] = b.l1Head.Hex()
		}
	}
	return append([]string{"--", exe}, args...)
}

// oracle serves the same pre-images from memory, for the library run.
func (b *bootInfo) oracle(t *testing.T) *vm.MemoryOracle {
	o := vm.NewMemoryOracle()
	o.Set(localKey(1), b.l1Head[:])
	o.Set(localKey(2), mustDecodeHex(t, outputRoot))
	o.Set(localKey(3), mustDecodeHex(t, claim))
	o.Set(localKey(4), binary.BigEndian.AppendUint64(nil, 123456))
	o.Set(localKey(5), binary.BigEndian.AppendUint64(nil, 11155420))
	o.Set(keccakKey(b.header), b.header)
	return o
}

// TestVMCommands runs vm load-elf, run and witness through the binary and checks their files against the
// vm package.
func TestVMCommands(t *testing.T) {
	guests := vmGuests(t, t.TempDir())
	hello := filepath.Join(guests, "hello")

	t.Run("load-elf", func(t *testing.T) {
		dir := t.TempDir()
		state, meta := filepath.Join(dir, "state.bin.gz"), filepath.Join(dir, "meta.json")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", state, "--meta", meta)
		data, err := os.ReadFile(hello)
		require.NoError(t, err)
		want, wantMeta, err := vm.LoadProgram(data)
		require.NoError(t, err)
		require.Equal(t, serialized(t, want), readMaybeGzip(t, state))
		var m bytes.Buffer
		require.NoError(t, wantMeta.WriteJSON(&m))
		require.Equal(t, m.Bytes(), readMaybeGzip(t, meta))

		for _, name := range []string{"state.bin", "state.json", "state.json.gz"} {
			out := filepath.Join(dir, name)
			vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", out, "--meta", "")
			got, err := vm.LoadStateFile(out)
			require.NoError(t, err, name)
			require.Equal(t, want.Hash(), got.Hash(), name)
		}
		stdout, _ := vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", "-", "--meta", "")
		require.Equal(t, serialized(t, want), []byte(stdout))
	})

	t.Run("run hello with proofs and snapshots", func(t *testing.T) {
		dir := t.TempDir()
		state, meta := filepath.Join(dir, "state.bin.gz"), filepath.Join(dir, "meta.json")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", state, "--meta", meta)
		out := filepath.Join(dir, "out.bin.gz")
		const proofAt, snapAt = 123_457, 100_000
		_, stderr := vmCLIOK(t, "vm", "run", "--input", state, "--output", out, "--meta", meta,
			"--proof-at", fmt.Sprintf("=%d", proofAt), "--proof-fmt", filepath.Join(dir, "proofs", "%d.json.gz"),
			"--snapshot-at", fmt.Sprintf("%%%d", snapAt), "--snapshot-fmt", filepath.Join(dir, "snapshots", "%d.bin.gz"),
			"--info-at", "%200000", "--log.level", "debug")

		final, _ := libState(t, hello, nil, 0)
		got, err := vm.LoadStateFile(out)
		require.NoError(t, err)
		require.Equal(t, final.Hash(), got.Hash())
		require.Equal(t, serialized(t, final), readMaybeGzip(t, out))
		require.True(t, got.Exited)
		require.Equal(t, uint8(0), got.ExitCode)
		require.Contains(t, stderr, `text="hello from the guest"`)
		require.Contains(t, stderr, `text="args=1"`)
		require.Contains(t, stderr, "exited, exit code 0")
		require.Contains(t, stderr, "state="+final.Hash().Hex())
		require.Contains(t, stderr, "processing")
		require.Contains(t, stderr, "name=")
		at200k, _ := libState(t, hello, nil, 200_000)
		info := lineWith(t, stderr, "step=200,000")
		require.Contains(t, info, "processing")
		require.Contains(t, info, "state="+at200k.Hash().Hex(), "the debug info line has the pre-state hash")

		s, m := libState(t, hello, nil, proofAt)
		requireProofMatches(t, readProof(t, filepath.Join(dir, "proofs", fmt.Sprint(proofAt)+".json.gz")), s, m)
		proofs, _ := os.ReadDir(filepath.Join(dir, "proofs"))
		require.Len(t, proofs, 1)

		snaps, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
		require.Len(t, snaps, int(final.Step/snapAt)+1) // steps 0, 100000, ..., 400000
		snap, _ := libState(t, hello, nil, 2*snapAt)
		require.Equal(t, serialized(t, snap), readMaybeGzip(t, filepath.Join(dir, "snapshots", fmt.Sprint(2*snapAt)+".bin.gz")))

		// witness of the final state
		wfile := filepath.Join(dir, "witness.bin")
		stdout, _ := vmCLIOK(t, "vm", "witness", "--input", out, "--output", wfile)
		var resp struct {
			StateVersion uint8         `json:"stateVersion"`
			WitnessHash  common.Hash   `json:"witnessHash"`
			Witness      hexutil.Bytes `json:"witness"`
			Step         uint64        `json:"step"`
			Exited       bool          `json:"exited"`
			ExitCode     uint8         `json:"exitCode"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &resp))
		enc, hash := final.EncodeWitness()
		require.Equal(t, vm.StateVersion, resp.StateVersion)
		require.Equal(t, hash, resp.WitnessHash)
		require.Equal(t, hexutil.Bytes(enc), resp.Witness)
		require.Equal(t, final.Step, resp.Step)
		require.True(t, resp.Exited)
		require.Equal(t, uint8(0), resp.ExitCode)
		raw, err := os.ReadFile(wfile)
		require.NoError(t, err)
		require.Equal(t, enc, raw)
		require.True(t, strings.HasSuffix(stdout, "}\n\n"), "Cannon's JSON layout")
	})

	t.Run("stop-at and proof to stdout", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.bin")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", state, "--meta", "")
		out := filepath.Join(dir, "out.json")
		const n = 0x1234
		stdout, stderr := vmCLIOK(t, "vm", "run", "--input", state, "--output", out, "--meta", "",
			"--proof-at", "=0x1233", "--proof-fmt", "-", "--stop-at", "=0x1234")
		require.Contains(t, stderr, "Execution stopped: not exited")
		want, _ := libState(t, hello, nil, n)
		got, err := vm.LoadStateFile(out)
		require.NoError(t, err)
		require.Equal(t, uint64(n), got.Step)
		require.Equal(t, want.Hash(), got.Hash())
		var p stepProof
		require.NoError(t, json.Unmarshal([]byte(stdout), &p))
		s, m := libState(t, hello, nil, n-1)
		requireProofMatches(t, &p, s, m)

		// Resume from the stopped state to the end.
		out2 := filepath.Join(dir, "out2.bin.gz")
		vmCLIOK(t, "vm", "run", "--input", out, "--output", out2, "--meta", "")
		final, _ := libState(t, hello, nil, 0)
		require.Equal(t, serialized(t, final), readMaybeGzip(t, out2))
	})

	t.Run("guest profile", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.bin")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", state, "--meta", "")
		out, prof := filepath.Join(dir, "out.bin"), filepath.Join(dir, "guest.pprof")
		_, stderr := vmCLIOK(t, "vm", "run", "--input", state, "--output", out, "--meta", "",
			"--pprof.guest", prof, "--pprof.elf", hello, "--pprof.period", "101")
		require.Contains(t, stderr, "Wrote the guest profile")
		// Sampling runs the VM in short stretches: the final state must not change.
		final, _ := libState(t, hello, nil, 0)
		require.Equal(t, serialized(t, final), readMaybeGzip(t, out))
		f, err := os.Open(prof)
		require.NoError(t, err)
		defer f.Close()
		p, err := profile.Parse(f)
		require.NoError(t, err)
		var steps int64
		names := make(map[string]bool)
		for _, smp := range p.Sample {
			steps += smp.Value[1]
			for _, loc := range smp.Location {
				names[loc.Line[0].Function.Name] = true
			}
		}
		require.Equal(t, int64(final.Step), steps, "the profile accounts for every step")
		require.True(t, names["main.main"] && names["runtime.main"], "guest functions are named")
	})

	t.Run("program exit code is not the run's", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.bin.gz")
		threads := filepath.Join(guests, "threads")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", threads, "--out", state, "--meta", "")
		out := filepath.Join(dir, "out.bin.gz")
		_, stderr := vmCLIOK(t, "vm", "run", "--input", state, "--output", out, "--meta", "")
		require.Contains(t, stderr, "exited, exit code 1")
		final, _ := libState(t, threads, nil, 0)
		got, err := vm.LoadStateFile(out)
		require.NoError(t, err)
		require.Equal(t, final.Hash(), got.Hash())
		require.Equal(t, uint8(1), got.ExitCode)
		t.Log(lastLine(stderr))
	})

	t.Run("bootinfo under our host", func(t *testing.T) {
		dir := t.TempDir()
		bootinfo := filepath.Join(guests, "bootinfo")
		b := newBootInfo(t)
		state := filepath.Join(dir, "state.bin.gz")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", bootinfo, "--out", state, "--meta", "")

		// Find the steps of the library run that read the keccak pre-image, and a local key.
		s, m := libState(t, bootinfo, b.oracle(t), 1)
		var firstKeccakRead, keccakRead, localRead uint64
		for !s.Exited && keccakRead == 0 {
			step := s.Step
			require.NoError(t, m.Run(1))
			if key, _, off := m.LastPreimage(); off != ^uint64(0) {
				switch {
				case key[0] == 2 && firstKeccakRead == 0:
					firstKeccakRead = step
				case key[0] == 2 && off >= 8:
					keccakRead = step // reads pre-image data, not its length
				case key[0] == 1 && localRead == 0:
					localRead = step
				}
			}
		}
		require.NotZero(t, keccakRead)
		require.NotZero(t, localRead)

		out := filepath.Join(dir, "out.bin.gz")
		for _, at := range []uint64{localRead, keccakRead} {
			args := append([]string{"vm", "run", "--input", state, "--output", out, "--meta", "",
				"--proof-at", fmt.Sprintf("=%d", at), "--proof-fmt", filepath.Join(dir, "%d.json"),
				"--stop-at", fmt.Sprintf("=%d", at+1)}, b.hostArgs(t)...)
			_, stderr := vmCLIOK(t, args...)
			p := readProof(t, filepath.Join(dir, fmt.Sprintf("%d.json", at)))
			require.NotNil(t, p.OracleKey, "proof at %d has no pre-image; stderr:\n%s", at, stderr)
			s, m := libState(t, bootinfo, b.oracle(t), at)
			requireProofMatches(t, p, s, m)
		}

		_, stderr := vmCLIOK(t, append([]string{"vm", "run", "--input", state, "--output", out, "--meta", "", "--info-at", "%100000"}, b.hostArgs(t)...)...)
		final, _ := libState(t, bootinfo, b.oracle(t), 0)
		require.Equal(t, uint8(0), final.ExitCode)
		require.Equal(t, serialized(t, final), readMaybeGzip(t, out))
		require.Contains(t, stderr, fmt.Sprintf("text=%q", fmt.Sprintf("header=%q", b.header)))
		require.Contains(t, stderr, `text="block=123456"`)
		require.Contains(t, stderr, "module=host")             // the server's log lines
		require.Contains(t, stderr, "Preimage server stopped") // it exited when the channels closed
		require.Contains(t, stderr, "preimages=6")
		require.NotContains(t, lineWith(t, stderr, "step=500,000"), "state=", "no state hash at info level")
		require.Contains(t, stderr, "exited, exit code 0")

		// Stop at the first keccak pre-image read.
		_, stderr = vmCLIOK(t, append([]string{"vm", "run", "--input", state, "--output", out, "--meta", "", "--stop-at-preimage-type", "keccak"}, b.hostArgs(t)...)...)
		require.Contains(t, stderr, "Stopping at pre-image read")
		got, err := vm.LoadStateFile(out)
		require.NoError(t, err)
		want, _ := libState(t, bootinfo, b.oracle(t), firstKeccakRead+1)
		require.Equal(t, want.Hash(), got.Hash())
		require.Equal(t, byte(2), got.PreimageKey[0])
	})

	t.Run("server failures", func(t *testing.T) {
		dir := t.TempDir()
		b := newBootInfo(t)
		load := func(guest string) string {
			state := filepath.Join(dir, guest+".bin.gz")
			vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", filepath.Join(guests, guest), "--out", state, "--meta", "")
			return state
		}
		oracleState, bootState, helloState := load("oracle"), load("bootinfo"), load("hello")
		exe, err := os.Executable()
		require.NoError(t, err)
		// The oracle guest asks for a keccak256 key that is not the hash of anything: our host refuses to
		// serve the datadir's value for it.
		oracleKey := [32]byte{2}
		for i := 1; i < 32; i++ {
			oracleKey[i] = byte(i)
		}
		writeDirectoryFormat(t, b.datadir, map[[32]byte][]byte{oracleKey: []byte("the pre-image served to the guest")})
		tests := []struct {
			name  string
			args  []string
			wants []string
		}{
			{"no server", []string{"--input", bootState},
				[]string{"no pre-image server was given", "failed at step"}},
			{"server refuses", append([]string{"--input", oracleState}, b.hostArgs(t)...),
				[]string{"pre-image server", "exited with code 2", "does not match its key"}},
			{"server sends wrong data", []string{"--input", oracleState, "--", "env", fakeHostEnv + "=wrong-answers", exe},
				[]string{"preimage does not match its key"}},
			{"server fails at the end", []string{"--input", helloState, "--", "sh", "-c", "echo boom >&2; exit 3"},
				[]string{"exited with code 3", `"boom"`}},
			{"server fails at once", []string{"--input", bootState, "--", "sh", "-c", "echo early >&2; exit 4"},
				[]string{"exited with code 4", `"early"`, "failed at step"}},
			{"server does not exist", []string{"--input", helloState, "--", filepath.Join(dir, "no-such-server")},
				[]string{"failed to start pre-image server", "no-such-server"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cmd := faultproofCmd(t, append([]string{"vm", "run", "--output", "", "--meta", ""}, tt.args...)...)
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
			})
		}
	})

	t.Run("interrupt while the server hangs", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.bin.gz")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", filepath.Join(guests, "bootinfo"), "--out", state, "--meta", "")
		// sleep never answers; the run blocks on the first pre-image request.
		cmd := faultproofCmd(t, "vm", "run", "--input", state, "--output", "", "--meta", "", "--", "sleep", "60")
		var stderr syncBuffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "Started pre-image server") }, 30*time.Second, 10*time.Millisecond)
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		err := waitTimeout(cmd, 20*time.Second)
		require.Equal(t, 2, exitCode(err), "stderr:\n%s", stderr.String())
		require.Less(t, time.Since(start), 10*time.Second)
		require.Contains(t, lastLine(stderr.String()), "interrupted at step")
	})

	t.Run("bad input", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.bin.gz")
		vmCLIOK(t, "vm", "load-elf", "--type", "multithreaded64-5", "--path", hello, "--out", state, "--meta", "")
		notELF := filepath.Join(dir, "not-elf")
		require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o644))
		notState := filepath.Join(dir, "garbage.bin")
		require.NoError(t, os.WriteFile(notState, []byte{8, 0, 0, 1}, 0o644))
		notGzip := filepath.Join(dir, "garbage.bin.gz")
		require.NoError(t, os.WriteFile(notGzip, []byte{8, 0, 0, 1}, 0o644))
		exe, err := os.Executable()
		require.NoError(t, err)
		run := func(extra ...string) []string {
			return append([]string{"vm", "run", "--input", state, "--output", "", "--meta", ""}, extra...)
		}
		tests := []struct {
			name    string
			args    []string
			errText string
		}{
			{"unknown type", []string{"vm", "load-elf", "--type", "multithreaded64-2", "--path", hello}, `invalid --type: unsupported state version "multithreaded64-2": want one of multithreaded64-3, multithreaded64-4, multithreaded64-5`},
			{"garbage type", []string{"vm", "load-elf", "--type", "mips", "--path", hello}, `unsupported state version "mips"`},
			{"missing type", []string{"vm", "load-elf", "--path", hello}, `Required flag "type" not set`},
			{"missing ELF", []string{"vm", "load-elf", "--type", "multithreaded64-5", "--path", filepath.Join(dir, "nope")}, "failed to open ELF file"},
			{"not an ELF", []string{"vm", "load-elf", "--type", "multithreaded64-5", "--path", notELF}, "failed to parse ELF"},
			{"not a MIPS ELF", []string{"vm", "load-elf", "--type", "multithreaded64-5", "--path", exe}, "ELF is not big-endian MIPS"},
			{"missing input", []string{"vm", "run", "--input", filepath.Join(dir, "nope.bin.gz")}, "failed to load state"},
			{"garbage input", []string{"vm", "run", "--input", notState, "--meta", ""}, "failed to load state"},
			{"gzip input that is not", []string{"vm", "run", "--input", notGzip}, "failed to load state"},
			{"malformed proof-at", run("--proof-at", "=12x"), `invalid --proof-at "=12x"`},
			{"unknown proof-at", run("--proof-at", "sometimes"), `invalid --proof-at "sometimes"`},
			{"zero interval", run("--info-at", "%0"), "the interval must be at least 1"},
			{"bad stop-at", run("--stop-at", "%F"), `invalid --stop-at "%F"`},
			{"bad snapshot-at", run("--snapshot-at", "=-1"), `invalid --snapshot-at`},
			{"proof-fmt without verb", run("--proof-fmt", "proof.json"), "invalid --proof-fmt"},
			{"snapshot-fmt with two verbs", run("--snapshot-fmt", "%d-%d.bin"), "invalid --snapshot-fmt"},
			{"bad preimage type", run("--stop-at-preimage-type", "md5"), "invalid --stop-at-preimage-type"},
			{"bad preimage stop", run("--stop-at-preimage", "0xzz@1"), "invalid --stop-at-preimage"},
			{"guest profile without ELF", run("--pprof.guest", filepath.Join(dir, "g.pprof")), "--pprof.guest needs --pprof.elf"},
			{"guest profile of a non-Go ELF", run("--pprof.guest", filepath.Join(dir, "g.pprof"), "--pprof.elf", notELF), "failed to open --pprof.elf"},
			{"zero profile period", run("--pprof.guest", filepath.Join(dir, "g.pprof"), "--pprof.elf", hello, "--pprof.period", "0"), "invalid --pprof.period 0"},
			{"missing metadata", []string{"vm", "run", "--input", state, "--meta", filepath.Join(dir, "meta.json")}, "failed to load metadata"},
			{"unwritable output", run("--output", filepath.Join(notELF, "out.bin")), "failed to write state output"},
			{"missing witness input", []string{"vm", "witness", "--input", filepath.Join(dir, "nope.bin")}, "failed to load state"},
			{"unknown subcommand flag", []string{"vm", "witness", "--input", state, "--nonsense"}, "flag provided but not defined"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, stderr, code := vmCLI(t, tt.args...)
				require.Equal(t, 2, code, "stderr:\n%s", stderr)
				require.NotContains(t, stderr, "panic")
				last := lastLine(stderr)
				t.Log(last)
				require.True(t, strings.HasPrefix(last, "faultproof: "), "last line: %s", last)
				require.Contains(t, last, tt.errText)
			})
		}
	})
}

// lineWith returns the line of s that contains sub.
func lineWith(t *testing.T, s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	require.FailNow(t, fmt.Sprintf("no line with %q in:\n%s", sub, s))
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// BenchmarkVMRun compares vm run's loop with vm.Run on the threads guest: the loop runs the stretches
// between the steps its patterns select with vm.Run, so it should be as fast.
func BenchmarkVMRun(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(vmGuests(b, b.TempDir()), "threads"))
	require.NoError(b, err)
	initial, _, err := vm.LoadProgram(data)
	require.NoError(b, err)
	quiet := log.NewLogger(log.DiscardHandler())
	bench := func(b *testing.B, run func(s *vm.State, m *vm.VM) error) {
		var steps uint64
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := initial.Copy()
			m := vm.NewVM(s, newHostOracle(nil), nil, nil)
			b.StartTimer()
			start := time.Now()
			require.NoError(b, run(s, m))
			elapsed += time.Since(start)
			steps += s.Step
		}
		b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
	}
	b.Run("vm.Run", func(b *testing.B) {
		bench(b, func(_ *vm.State, m *vm.VM) error { return m.Run(0) })
	})
	for _, infoAt := range []string{"never", "%1000000000", "%1000000"} {
		b.Run("runner/info-at="+infoAt, func(b *testing.B) {
			info, err := parseStepPattern("info-at", infoAt)
			require.NoError(b, err)
			cfg := &runConfig{infoAt: info, meta: &vm.Metadata{}}
			bench(b, func(s *vm.State, m *vm.VM) error {
				r := &runner{cfg: cfg, state: s, vm: m, oracle: newHostOracle(nil), log: quiet}
				return r.run(context.Background())
			})
		})
	}
}
