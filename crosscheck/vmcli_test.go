package crosscheck

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// vmCLIBinaries returns the cannon binary ($CANNON_BIN, or built from this module), the faultproof binary
// (built from the root module), both built once per test binary, and a directory of the test with the
// guest programs, bootinfo included.
func vmCLIBinaries(t *testing.T) (cannon, ours, guests string) {
	t.Helper()
	if os.Getenv("CANNON_BIN") == "" && testing.Short() {
		t.Skip("builds the cannon binary: set CANNON_BIN or run without -short")
	}
	cannon, ours = cannonBinary(t), faultproofBinary(t)
	guests = filepath.Join(t.TempDir(), "guests")
	cmd := exec.Command("go", "build", "-o", guests+string(filepath.Separator), "./hello", "./threads", "./bootinfo")
	cmd.Dir = filepath.Join("..", "vm", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local", "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the guests: %s", out)
	return cannon, ours, guests
}

// vmCLI runs a binary and returns its stdout; it fails the test if the binary fails.
func vmCLI(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		require.FailNow(t, fmt.Sprintf("%s %s: %v\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String()))
	}
	return stdout.Bytes()
}

// bootInfoSetup is the input of the bootinfo guest: the boot info as our host serves it from its flags,
// and the L1 head's pre-image in a directory-format datadir.
type bootInfoSetup struct {
	header  []byte
	l1Head  [32]byte
	datadir string
}

const (
	bootOutputRoot = "0x3333333333333333333333333333333333333333333333333333333333333333"
	bootClaim      = "0x4444444444444444444444444444444444444444444444444444444444444444"
)

func newBootInfoSetup(t *testing.T) *bootInfoSetup {
	b := &bootInfoSetup{header: []byte("an L1 header for the cross-check"), datadir: t.TempDir()}
	b.l1Head = crypto.Keccak256Hash(b.header)
	key := b.l1Head
	key[0] = 2
	name := hex.EncodeToString(key[:])
	require.NoError(t, os.WriteFile(filepath.Join(b.datadir, "kvformat"), []byte("directory"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(b.datadir, name[:4]), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(b.datadir, name[:4], name[4:]+".txt"), []byte(hex.EncodeToString(b.header)), 0o644))
	return b
}

// hostCommand is `-- faultproof host --server ...` serving the setup.
func (b *bootInfoSetup) hostCommand(ours string) []string {
	return []string{"--", ours, "host", "--server", "--network", "op-sepolia", "--datadir", b.datadir,
		"--l1.head", "0x" + hex.EncodeToString(b.l1Head[:]),
		"--l2.head", "0x2222222222222222222222222222222222222222222222222222222222222222",
		"--l2.outputroot", bootOutputRoot, "--l2.claim", bootClaim, "--l2.blocknumber", "123456"}
}

// oracle serves the same pre-images from memory, for finding interesting steps with the vm package.
func (b *bootInfoSetup) oracle() *vm.MemoryOracle {
	o := vm.NewMemoryOracle()
	local := func(i uint64) (k [32]byte) {
		k[0] = 1
		binary.BigEndian.PutUint64(k[24:], i)
		return k
	}
	hash := func(s string) []byte { b, _ := hex.DecodeString(s[2:]); return b }
	o.Set(local(1), b.l1Head[:])
	o.Set(local(2), hash(bootOutputRoot))
	o.Set(local(3), hash(bootClaim))
	o.Set(local(4), binary.BigEndian.AppendUint64(nil, 123456))
	o.Set(local(5), binary.BigEndian.AppendUint64(nil, 11155420))
	key := b.l1Head
	key[0] = 2
	o.Set(key, b.header)
	return o
}

// interestingSteps runs a guest with the vm package and returns named steps worth proving: the first
// steps, the first syscalls of some kinds and the pre-image reads of each key type.
func interestingSteps(t *testing.T, elfPath string, oracle vm.PreimageOracle) map[string]uint64 {
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	m := vm.NewVM(s, oracle, nil, nil)
	found := map[string]uint64{"first step": 0, "step 1000": 1000}
	first := func(name string, step uint64) {
		if _, ok := found[name]; !ok {
			found[name] = step
		}
	}
	for !s.Exited {
		step := s.Step
		num, isSyscall := nextSyscall(s)
		fd := s.CurrentThread().Registers[4]
		require.NoError(t, m.Run(1))
		if isSyscall {
			switch {
			case num == 5009:
				first("mmap syscall", step)
			case num == 5055:
				first("clone syscall", step)
			case num == 5001 && fd == 1:
				first("write to stdout", step)
			case num == 5001 && fd == 4:
				first("hint write", step)
			case num == 5001 && fd == 6:
				first("pre-image key write", step)
			case num == 5205:
				first("exit_group syscall", step)
			case num == 5222:
				first("clock_gettime syscall", step)
			}
		}
		if key, _, off := m.LastPreimage(); off != ^uint64(0) {
			switch {
			case key[0] == 1:
				first("local key read", step)
			case key[0] == 2 && off == 0:
				first("keccak length read", step)
			case key[0] == 2 && off >= 8:
				first("keccak data read", step)
			}
		}
	}
	return found
}

// TestVMCLIMatchesCannon runs the cannon binary and `faultproof vm` side by side: load-elf files, proofs
// at selected steps (syscalls and pre-image reads under our host included), snapshots, final states and
// witness outputs must be identical.
func TestVMCLIMatchesCannon(t *testing.T) {
	cannon, ours, guests := vmCLIBinaries(t)
	boot := newBootInfoSetup(t)
	for _, name := range []string{"hello", "bootinfo", "threads"} {
		t.Run(name, func(t *testing.T) {
			elfPath := filepath.Join(guests, name)
			dir := t.TempDir()
			var host []string
			var oracle vm.PreimageOracle = vm.NewMemoryOracle()
			if name == "bootinfo" {
				host = boot.hostCommand(ours)
				oracle = boot.oracle()
			}
			tools := map[string]string{"cannon": cannon, "ours": ours}
			prefix := map[string][]string{"cannon": nil, "ours": {"vm"}}
			path := func(tool, file string) string { return filepath.Join(dir, tool, file) }
			for tool := range tools {
				require.NoError(t, os.MkdirAll(filepath.Join(dir, tool), 0o755))
			}
			cli := func(tool string, args ...string) []byte {
				return vmCLI(t, tools[tool], append(append([]string{}, prefix[tool]...), args...)...)
			}
			sameFile := func(what, file string, compressed bool) {
				t.Helper()
				read := func(p string) []byte {
					if compressed {
						return gunzip(t, p)
					}
					b, err := os.ReadFile(p)
					require.NoError(t, err)
					return b
				}
				c, o := read(path("cannon", file)), read(path("ours", file))
				require.Equal(t, o, c, "%s: %s differs at byte %d (cannon %d bytes, ours %d bytes)", what, file, firstDiff(c, o), len(c), len(o))
			}

			// load-elf
			for tool := range tools {
				cli(tool, "load-elf", "--type", vm.StateVersionName, "--path", elfPath, "--out", path(tool, "state.bin.gz"), "--meta", path(tool, "meta.json"))
			}
			sameFile("load-elf state", "state.bin.gz", true)
			sameFile("load-elf metadata", "meta.json", false)

			// Proofs and snapshots at selected steps.
			steps := interestingSteps(t, elfPath, oracle)
			names := make([]string, 0, len(steps))
			for n := range steps {
				names = append(names, n)
			}
			sort.Slice(names, func(i, j int) bool { return steps[names[i]] < steps[names[j]] })
			withOracle := 0
			for _, what := range names {
				step := steps[what]
				for tool := range tools {
					args := []string{"run", "--input", path(tool, "state.bin.gz"), "--output", path(tool, fmt.Sprintf("stop-%d.bin.gz", step+1)),
						"--meta", "", "--proof-at", fmt.Sprintf("=%d", step), "--proof-fmt", path(tool, "proof-%d.json.gz"),
						"--snapshot-at", fmt.Sprintf("=%d", step), "--snapshot-fmt", path(tool, "snap-%d.bin.gz"),
						"--stop-at", fmt.Sprintf("=%d", step+1)}
					cli(tool, append(args, host...)...)
				}
				proofFile := fmt.Sprintf("proof-%d.json.gz", step)
				stale := compareProofs(t, what, what == "clock_gettime syscall", gunzip(t, path("cannon", proofFile)), gunzip(t, path("ours", proofFile)))
				if strings.Contains(string(gunzip(t, path("ours", proofFile))), "oracle-key") {
					withOracle++
				}
				sameFile(what+" snapshot", fmt.Sprintf("snap-%d.bin.gz", step), true)
				sameFile(what+" post-state", fmt.Sprintf("stop-%d.bin.gz", step+1), true)
				if stale {
					t.Logf("%s: step %d: proofs identical but for Cannon's stale unused second memory proof; snapshots and post-states identical", what, step)
				} else {
					t.Logf("%s: step %d: proofs, snapshots and post-states identical", what, step)
				}
			}
			require.False(t, name == "bootinfo" && withOracle < 3, "only %d proofs with pre-image data", withOracle)

			// Full run and witness.
			for tool := range tools {
				cli(tool, append([]string{"run", "--input", path(tool, "state.bin.gz"), "--output", path(tool, "out.bin.gz"), "--meta", ""}, host...)...)
			}
			sameFile("final state", "out.bin.gz", true)
			cw := cli("cannon", "witness", "--input", path("cannon", "out.bin.gz"), "--output", path("cannon", "witness.bin"))
			ow := cli("ours", "witness", "--input", path("ours", "out.bin.gz"), "--output", path("ours", "witness.bin"))
			require.Equal(t, ow, cw, "witness output differs:\ncannon: %s\nours:   %s", cw, ow)
			sameFile("witness", "witness.bin", false)
			t.Logf("final states and witnesses identical: %s", bytes.TrimSpace(ow[:bytes.Index(ow, []byte(`"witness":`))]))
		})
	}
}

// compareProofs requires two proof files to be identical, with one exception Cannon forces: Cannon
// computes the second memory proof (used only by clock_gettime, which writes two words) on every
// clock_gettime step, proof step or not, and never clears it, so a Cannon proof of a step that does not
// use that slot carries the proof of the last clock_gettime step that process executed. Our VM only
// computes memory proofs on proof steps (computing them on every clock_gettime halves its speed), so
// there the slot holds what the last proof step left (zeros in a fresh process). The contract ignores
// the slot for such steps. It reports whether the exception applied.
func compareProofs(t *testing.T, what string, usesMemProof2 bool, cannon, ours []byte) (staleSlot bool) {
	t.Helper()
	if bytes.Equal(cannon, ours) {
		return false
	}
	type proof struct {
		Step         uint64        `json:"step"`
		Pre          string        `json:"pre"`
		Post         string        `json:"post"`
		StateData    hexutil.Bytes `json:"state-data"`
		ProofData    hexutil.Bytes `json:"proof-data"`
		OracleKey    hexutil.Bytes `json:"oracle-key"`
		OracleValue  hexutil.Bytes `json:"oracle-value"`
		OracleOffset uint64        `json:"oracle-offset"`
	}
	var c, o proof
	require.NoError(t, json.Unmarshal(cannon, &c))
	require.NoError(t, json.Unmarshal(ours, &o))
	cf, of := reflect.ValueOf(c), reflect.ValueOf(o)
	for i := range cf.NumField() {
		name := reflect.TypeOf(c).Field(i).Tag.Get("json")
		if name == "proof-data" {
			continue
		}
		require.Equal(t, of.Field(i).Interface(), cf.Field(i).Interface(), "%s: proof field %q differs: cannon %v, ours %v", what, name, cf.Field(i).Interface(), of.Field(i).Interface())
	}
	slot := len(c.ProofData) - vm.MemProofSize
	switch {
	case len(c.ProofData) != len(o.ProofData) || len(c.ProofData) != vm.ProofDataSize:
		require.FailNow(t, fmt.Sprintf("%s: proof-data has %d bytes in cannon's proof, %d in ours", what, len(c.ProofData), len(o.ProofData)))
	case !bytes.Equal(c.ProofData[:slot], o.ProofData[:slot]):
		require.FailNow(t, fmt.Sprintf("%s: proof-data differs at byte %d", what, firstDiff(c.ProofData, o.ProofData)))
	case usesMemProof2:
		require.FailNow(t, fmt.Sprintf("%s: the second memory proof differs in a step that uses it", what))
	case !bytes.Equal(o.ProofData[slot:], make([]byte, vm.MemProofSize)):
		require.FailNow(t, fmt.Sprintf("%s: the unused second memory proof differs, and ours is not empty", what))
	default:
		staleSlot = true
	}
	require.Equal(t, ours, bytes.ReplaceAll(cannon, []byte(hexutil.Encode(c.ProofData)), []byte(hexutil.Encode(o.ProofData))), "%s: proof files differ in layout", what)
	return staleSlot
}
