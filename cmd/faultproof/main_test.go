package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// The test binary doubles as the faultproof binary: with runMainEnv set it runs main's logic on its
// arguments (and its name: under a symlink named cannon it answers as Cannon), so tests can start real
// processes without a separate build step.
const runMainEnv = "FAULTPROOF_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args))
	}
	os.Exit(m.Run())
}

func faultproofCmd(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

const (
	l1Head     = "0x1111111111111111111111111111111111111111111111111111111111111111"
	l2Head     = "0x2222222222222222222222222222222222222222222222222222222222222222"
	outputRoot = "0x3333333333333333333333333333333333333333333333333333333333333333"
	claim      = "0x4444444444444444444444444444444444444444444444444444444444444444"
)

func serverArgs(datadir string) []string {
	return []string{"host", "--server", "--network", "op-sepolia", "--datadir", datadir,
		"--l1.head", l1Head, "--l2.head", l2Head, "--l2.outputroot", outputRoot, "--l2.claim", claim, "--l2.blocknumber", "123456"}
}

// wireClient speaks the preimage protocol with nothing but byte slices, to prove that a program written
// against the specification alone can use our host.
type wireClient struct {
	t                    *testing.T
	hintR, hintW         *os.File
	preimageR, preimageW *os.File
}

// startServer runs `faultproof host --server` with the four pipe ends as its fds 3-6, as Cannon does.
func startServer(t *testing.T, args []string) (*wireClient, *exec.Cmd, *bytes.Buffer) {
	hostHintR, clientHintW, err := os.Pipe()
	require.NoError(t, err)
	clientHintR, hostHintW, err := os.Pipe()
	require.NoError(t, err)
	hostPreR, clientPreW, err := os.Pipe()
	require.NoError(t, err)
	clientPreR, hostPreW, err := os.Pipe()
	require.NoError(t, err)
	cmd := faultproofCmd(t, args...)
	cmd.ExtraFiles = []*os.File{hostHintR, hostHintW, hostPreR, hostPreW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	for _, f := range []*os.File{hostHintR, hostHintW, hostPreR, hostPreW} {
		f.Close()
	}
	c := &wireClient{t: t, hintR: clientHintR, hintW: clientHintW, preimageR: clientPreR, preimageW: clientPreW}
	t.Cleanup(func() { c.close(); _ = cmd.Process.Kill() })
	return c, cmd, &stderr
}

func (c *wireClient) close() {
	for _, f := range []*os.File{c.hintR, c.hintW, c.preimageR, c.preimageW} {
		f.Close()
	}
}

// get writes the 32-byte key and reads the 8-byte big-endian length and the data.
func (c *wireClient) get(key [32]byte) ([]byte, error) {
	if _, err := c.preimageW.Write(key[:]); err != nil {
		return nil, err
	}
	var n [8]byte
	if _, err := io.ReadFull(c.preimageR, n[:]); err != nil {
		return nil, err
	}
	data := make([]byte, binary.BigEndian.Uint64(n[:]))
	_, err := io.ReadFull(c.preimageR, data)
	return data, err
}

// hint writes a 4-byte big-endian length and the hint, and reads the one-byte acknowledgement.
func (c *wireClient) hint(h string) error {
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(h)))
	if _, err := c.hintW.Write(append(msg, h...)); err != nil {
		return err
	}
	var ack [1]byte
	_, err := io.ReadFull(c.hintR, ack[:])
	return err
}

func localKey(i uint64) (k [32]byte) {
	k[0] = 1
	binary.BigEndian.PutUint64(k[24:], i)
	return k
}

func keccakKey(data []byte) (k [32]byte) {
	copy(k[:], crypto.Keccak256(data))
	k[0] = 2
	return k
}

// writeDirectoryFormat lays out a datadir as op-program's host does in its "directory" format, by hand.
func writeDirectoryFormat(t *testing.T, dir string, values map[[32]byte][]byte) {
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kvformat"), []byte("directory"), 0o644))
	for k, v := range values {
		name := hex.EncodeToString(k[:])
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name[:4]), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name[:4], name[4:]+".txt"), []byte(hex.EncodeToString(v)), 0o644))
	}
}

func mustDecodeHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	require.NoError(t, err)
	return b
}

func TestServerModeWithWireOnlyClient(t *testing.T) {
	datadir := t.TempDir()
	header := bytes.Repeat([]byte{0xf9}, 600)
	node := []byte{0xc2, 0x80, 0x80}
	writeDirectoryFormat(t, datadir, map[[32]byte][]byte{keccakKey(header): header, keccakKey(node): node})

	c, cmd, stderr := startServer(t, serverArgs(datadir))
	want := map[uint64][]byte{
		1: mustDecodeHex(t, l1Head),
		2: mustDecodeHex(t, outputRoot),
		3: mustDecodeHex(t, claim),
		4: {0, 0, 0, 0, 0, 0x01, 0xe2, 0x40}, // 123456
		5: {0, 0, 0, 0, 0, 0xaa, 0x37, 0xdc}, // op-sepolia, 11155420
	}
	for i := uint64(1); i <= 5; i++ {
		got, err := c.get(localKey(i))
		require.NoError(t, err, "local key %d; host stderr:\n%s", i, stderr)
		require.Equal(t, want[i], got, "local key %d", i)
	}
	require.NoError(t, c.hint("l1-block-header 0x"+hex.EncodeToString(header[:4])))
	got, err := c.get(keccakKey(header))
	require.NoError(t, err)
	require.Equal(t, header, got)
	got, err = c.get(keccakKey(node))
	require.NoError(t, err)
	require.Equal(t, node, got)

	c.close()
	require.NoError(t, waitTimeout(cmd, 30*time.Second), "host exits 0 when the client closes the channels; stderr:\n%s", stderr)
}

func waitTimeout(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		return <-done
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestBadInput runs the binary on bad input: every case is a one-line error and exit code 2, never a
// panic.
func TestBadInput(t *testing.T) {
	datadir := t.TempDir()
	replace := func(args []string, flag, value string) []string {
		out := append([]string(nil), args...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
			}
		}
		return out
	}
	base := serverArgs(datadir)
	tests := []struct {
		name    string
		args    []string
		errText string
	}{
		{"zero l1 head", replace(base, "--l1.head", "0x"+strings.Repeat("0", 64)), "invalid l1 head"},
		{"garbage l1 head", replace(base, "--l1.head", "0xnothex"), "not a 32-byte hex hash"},
		{"short l2 head", replace(base, "--l2.head", "0x1234"), "not a 32-byte hex hash"},
		{"zero output root", replace(base, "--l2.outputroot", strings.Repeat("0", 64)), "invalid l2 output root"},
		{"garbage claim", replace(base, "--l2.claim", "claim"), "not a 32-byte hex hash"},
		{"claim block zero", replace(base, "--l2.blocknumber", "0"), "invalid l2 claim block number"},
		{"unknown network", replace(base, "--network", "no-such-chain"), "unknown network"},
		{"unknown chain id", replace(base, "--network", "424242"), "unknown network"},
		{"alt-DA registry chain", replace(base, "--network", "redstone"), "alt-DA (plasma) is not supported by fault proofs"},
		{"both --server and --exec", append(append([]string(nil), base...), "--exec", "/bin/true"), "exec command must not be set when in server mode"},
		{"missing datadir", replace(base, "--datadir", filepath.Join(datadir, "missing")), "does not exist"},
		{"no datadir offline", replace(base, "--datadir", ""), "datadir must be specified"},
		{"unknown data format", append(append([]string(nil), base...), "--data.format", "csv"), "unknown kv format"},
		{"network and rollup config", append(append([]string(nil), base...), "--rollup.config", "x.json"), "mutually exclusive"},
		{"unknown flag", append(append([]string(nil), base...), "--l2.nonsense", "1"), "flag provided but not defined"},
		{"bad log level", append(append([]string(nil), base...), "--log.level", "loud"), "invalid --log.level"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := faultproofCmd(t, tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := waitTimeout(startOrFail(t, cmd), 30*time.Second)
			require.Equal(t, 2, exitCode(err), "stderr:\n%s", stderr.String())
			out := stderr.String()
			require.NotContains(t, out, "panic")
			require.Contains(t, out, tt.errText)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(lastError(out)), "\n")+1, "one-line error:\n%s", out)
		})
	}
}

func startOrFail(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	require.NoError(t, cmd.Start())
	return cmd
}

// lastError is the final "faultproof: ..." line (usage errors may print help text before it).
func lastError(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// TestBadProtocolInput runs the server and sends what a broken program might: each stops the host with a
// one-line error and exit code 2.
func TestBadProtocolInput(t *testing.T) {
	tests := []struct {
		name    string
		send    func(c *wireClient)
		errText string
	}{
		{"hint without a space", func(c *wireClient) { _ = c.hint("l1-block-header0x00") }, "no space between type and data"},
		{"key of type 3", func(c *wireClient) { _, _ = c.get([32]byte{3}) }, "unsupported preimage key type 3"},
		{"key of type 7", func(c *wireClient) { _, _ = c.get([32]byte{7}) }, "unsupported preimage key type 7"},
		{"missing preimage", func(c *wireClient) { _, _ = c.get(keccakKey([]byte("absent"))) }, "missing preimage"},
		{"unknown local key", func(c *wireClient) { _, _ = c.get(localKey(42)) }, "unknown local key 42"},
		{"truncated key", func(c *wireClient) { _, _ = c.preimageW.Write([]byte{2, 2, 2}); c.close() }, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, cmd, stderr := startServer(t, serverArgs(t.TempDir()))
			tt.send(c)
			err := waitTimeout(cmd, 30*time.Second)
			require.Equal(t, 2, exitCode(err), "stderr:\n%s", stderr.String())
			require.NotContains(t, stderr.String(), "panic")
			require.Contains(t, lastError(stderr.String()), tt.errText)
		})
	}
}

// readBootKeys is shell that asks for local keys 1 (L1 head) and 3 (claim) over fds 5 and 6 and reads the
// answers (an 8-byte length and the 32-byte value each).
func readBootKeys() string {
	var sh strings.Builder
	for _, idx := range []uint64{1, 3} {
		sh.WriteString("printf '")
		for _, b := range localKey(idx) {
			fmt.Fprintf(&sh, "\\%03o", b)
		}
		sh.WriteString("' >&6\nhead -c 40 <&5 >/dev/null\n")
	}
	return sh.String()
}

// TestExecPropagatesExitCode: a program that read its verdict inputs exits with its verdict; one that did
// not (before: exit 0, "valid", for /bin/true) makes the host fail with exit code 2 and say why.
func TestExecPropagatesExitCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		program string // the script, or a path
		want    int
	}{
		{"valid", "#!/bin/sh\n" + readBootKeys() + "exit 0\n", 0},
		{"invalid", "#!/bin/sh\n" + readBootKeys() + "exit 1\n", 1},
		{"exit 0 without reading", "#!/bin/sh\nexit 0\n", 2},
		{"exit 1 without reading", "#!/bin/sh\nexit 1\n", 2},
		{"/bin/true", "/bin/true", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			program := tc.program
			if !strings.HasPrefix(program, "/") {
				program = filepath.Join(t.TempDir(), "program.sh")
				require.NoError(t, os.WriteFile(program, []byte(tc.program), 0o755))
			}
			args := append(serverArgs(t.TempDir())[2:], "--exec", program)
			cmd := faultproofCmd(t, append([]string{"host"}, args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := waitTimeout(startOrFail(t, cmd), 30*time.Second)
			require.Equal(t, tc.want, exitCode(err), "stderr:\n%s", stderr.String())
			if tc.want == 2 {
				require.Contains(t, lastError(stderr.String()), "without reading the L1 head and the claim")
			}
		})
	}
}

func TestConfigsListsRegistry(t *testing.T) {
	out, err := faultproofCmd(t, "configs").Output()
	require.NoError(t, err)
	list := string(out)
	require.True(t, strings.HasPrefix(list, "Chain registry: "+rollup.RegistryVersion+"\n"), list)
	require.Contains(t, list, "op-sepolia")
	require.Contains(t, list, "11155420")
	require.Regexp(t, `(?m)^redstone-mainnet +690 +1 .*unsupported: alt-DA \(plasma\) is not supported by fault proofs$`, list)
	require.Regexp(t, `(?m)^worldchain-mainnet +480 +1 +karst +permissioned`, list)
	out, err = faultproofCmd(t, "configs", "--network", "11155420").Output()
	require.NoError(t, err)
	require.Contains(t, string(out), `"batch_inbox_address": "0xff00000000000000000000000000000011155420"`)
}

// TestConfigsKeepKarstUpgradeGas: OP Mainnet's rollup config has the flag that op-geth's older registry
// lacked, and the registry version is printed beside it (on stderr, so stdout stays JSON).
func TestConfigsKeepKarstUpgradeGas(t *testing.T) {
	cmd := faultproofCmd(t, "configs", "--network", "10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(out, &cfg), "stdout is the rollup config as JSON")
	require.Equal(t, true, cfg["keep_karst_upgrade_gas"])
	require.Equal(t, float64(1783526401), cfg["karst_time"])
	require.Equal(t, "Chain registry: "+rollup.RegistryVersion+"\n", stderr.String())

	cmd = faultproofCmd(t, "configs", "--network", "redstone")
	stderr.Reset()
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	require.NoError(t, err, "an unsupported chain's configs can still be printed")
	require.NoError(t, json.Unmarshal(out, &cfg))
	require.Contains(t, stderr.String(), "Warning: fault proofs cannot run on redstone-mainnet: alt-DA (plasma) is not supported by fault proofs")
}
