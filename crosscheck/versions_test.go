package crosscheck

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// versionGuests are the guest programs run under every state version: the syscalls whose results differ
// between versions, threads, locks, timers, the GC, exit codes, a panic, an unknown syscall, an invalid
// instruction. Programs of today's Go create an
// eventfd, which multithreaded64-3 does not know: under it they fail at that syscall, in both VMs.
var versionGuests = []string{"versions", "hello", "threads", "mutex", "timers", "maps", "bigint", "hashes", "gcchurn", "exit1", "panic", "badsyscall", "badinsn"}

// cliRun is one run of a VM binary.
type cliRun struct {
	code           int
	stdout, stderr string
}

func runVMBinary(t *testing.T, bin string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		require.FailNow(t, fmt.Sprintf("%s: %v", bin, err))
	}
	return r
}

// unzip returns a file's contents, gunzipped if its name ends in .gz.
func unzip(t *testing.T, path string) []byte {
	t.Helper()
	data := readFile(t, path)
	if !strings.HasSuffix(path, ".gz") {
		return data
	}
	r, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err, "%s", path)
	out, err := io.ReadAll(r)
	require.NoError(t, err, "%s", path)
	return out
}

// witnessFields are the fields of `witness` that every Cannon release prints (stateVersion came later).
type witnessFields struct {
	WitnessHash string `json:"witnessHash"`
	Witness     string `json:"witness"`
	Step        uint64 `json:"step"`
	Exited      bool   `json:"exited"`
	ExitCode    uint8  `json:"exitCode"`
}

func witnessFieldsOf(t *testing.T, bin, state string) witnessFields {
	t.Helper()
	r := runVMBinary(t, bin, "witness", "--input", state)
	require.Equal(t, 0, r.code, "%s witness: exit %d: %s", filepath.Base(bin), r.code, r.stderr)
	var w witnessFields
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &w), "%s witness printed %q", filepath.Base(bin), r.stdout)
	return w
}

// ourFailingStep is the step our VM failed at, from its error line.
var ourFailingStep = regexp.MustCompile(`failed at step (\d+) \(PC`)

// TestStateVersionsMatchTheirCannon runs each state version's guests under the Cannon release that wrote
// that version (see cannonReleases) and under faultproof answering as cannon, through their CLIs: load-elf
// must give the same state file and meta.json, run the same final state file (or both fail at the same
// step, with the same state before it), witness the same witness, a proof at a step the same proof file,
// and --debug-info the same values for the fields that release counts.
func TestStateVersionsMatchTheirCannon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Cannon of three optimism releases (minutes the first time, cached after)")
	}
	ours := filepath.Join(t.TempDir(), "cannon")
	require.NoError(t, os.Symlink(faultproofBinary(t), ours))
	guests := buildGuests(t, versionGuests...)
	for _, rel := range cannonReleases {
		t.Run(rel.name, func(t *testing.T) {
			cannon := releaseCannon(t, rel)
			for _, g := range versionGuests {
				t.Run(g, func(t *testing.T) { compareVersionRun(t, rel, cannon, ours, filepath.Join(guests, g)) })
			}
		})
	}
}

func compareVersionRun(t *testing.T, rel cannonRelease, cannon, ours, elf string) {
	dir := t.TempDir()
	path := func(who, name string) string { return filepath.Join(dir, who+"-"+name) }
	both := func(args func(who string) []string) (c, o cliRun) {
		return runVMBinary(t, cannon, args("cannon")...), runVMBinary(t, ours, args("ours")...)
	}
	sameFile := func(what, name string) {
		t.Helper()
		require.Equal(t, unzip(t, path("ours", name)), unzip(t, path("cannon", name)), "%s: %s differs", what, name)
	}

	c, o := both(func(who string) []string {
		return []string{"load-elf", "--type", rel.name, "--path", elf, "--out", path(who, "pre.bin.gz"), "--meta", path(who, "meta.json")}
	})
	if c.code != 0 || o.code != 0 {
		require.FailNow(t, fmt.Sprintf("load-elf: cannon exit %d (%s), ours exit %d (%s)", c.code, c.stderr, o.code, o.stderr))
	}
	sameFile("load-elf", "pre.bin.gz")
	sameFile("load-elf", "meta.json")
	data := unzip(t, path("ours", "pre.bin.gz"))
	require.Equal(t, rel.version, data[0], "load-elf wrote version %d, want %d", data[0], rel.version)

	run := func(who string, extra ...string) []string {
		return append([]string{"run", "--input", path(who, "pre.bin.gz"), "--meta", "", "--info-at", "never"}, extra...)
	}
	c, o = both(func(who string) []string {
		return run(who, "--output", path(who, "final.bin.gz"), "--debug-info", path(who, "debug.json"))
	})
	if (c.code == 0) != (o.code == 0) {
		require.FailNow(t, fmt.Sprintf("run: cannon exit %d, ours exit %d\ncannon: %s\nours: %s", c.code, o.code, tail(c.stderr), tail(o.stderr)))
	}
	var last uint64 // the last step of the run: the final step, or the one both fail at
	if o.code != 0 {
		m := ourFailingStep.FindStringSubmatch(o.stderr)
		require.NotNil(t, m, "our run failed without naming the step: %s", tail(o.stderr))
		failed, _ := strconv.ParseUint(m[1], 10, 64)
		why := lastLine(o.stderr)
		stop := fmt.Sprintf("=%d", failed)
		c, o = both(func(who string) []string { return run(who, "--output", path(who, "final.bin.gz"), "--stop-at", stop) })
		if c.code != 0 || o.code != 0 {
			require.FailNow(t, fmt.Sprintf("run to the failing step %d: cannon exit %d (%s), ours exit %d (%s)", failed, c.code, tail(c.stderr), o.code, tail(o.stderr)))
		}
		sameFile(fmt.Sprintf("state before the failing step %d", failed), "final.bin.gz")
		// The failing step fails in Cannon too.
		c, _ = both(func(who string) []string { return run(who, "--output", "", "--stop-at", fmt.Sprintf("=%d", failed+1)) })
		require.NotEqual(t, 0, c.code, "cannon runs step %d, which fails in ours: %s", failed, tail(o.stderr))
		t.Logf("both fail at step %d: %s", failed, why)
		last = failed
	} else {
		sameFile("run", "final.bin.gz")
		cw, ow := witnessFieldsOf(t, cannon, path("cannon", "final.bin.gz")), witnessFieldsOf(t, ours, path("ours", "final.bin.gz"))
		require.Equal(t, ow, cw, "witness of the final state differs:\ncannon: %+v\nours:   %+v", cw, ow)
		var info map[string]any
		require.NoError(t, json.Unmarshal(readFile(t, path("cannon", "debug.json")), &info))
		var ourInfo map[string]any
		require.NoError(t, json.Unmarshal(readFile(t, path("ours", "debug.json")), &ourInfo))
		for k, v := range info {
			require.Equal(t, v, ourInfo[k], "debug info %s: cannon %v, ours %v", k, v, ourInfo[k])
		}
		t.Logf("exit code %d at step %d, final state %s; debug info: %d fields alike", ow.ExitCode, ow.Step, ow.WitnessHash, len(info))
		last = ow.Step
	}

	// A proof and a snapshot at a step in the middle, as op-challenger asks for them.
	step := last / 2
	c, o = both(func(who string) []string {
		return run(who, "--output", path(who, "stop.bin.gz"), "--proof-at", fmt.Sprintf("=%d", step), "--proof-fmt", path(who, "proof-%d.json.gz"),
			"--snapshot-at", fmt.Sprintf("=%d", step), "--snapshot-fmt", path(who, "snap-%d.bin.gz"), "--stop-at", fmt.Sprintf("=%d", step+1))
	})
	if c.code != 0 || o.code != 0 {
		require.FailNow(t, fmt.Sprintf("run with a proof at %d: cannon exit %d (%s), ours exit %d (%s)", step, c.code, tail(c.stderr), o.code, tail(o.stderr)))
	}
	// Identical but for Cannon's stale second memory proof in a step that reads no second word (see
	// compareProofs).
	proofFile := fmt.Sprintf("proof-%d.json.gz", step)
	compareProofs(t, "proof", false, unzip(t, path("cannon", proofFile)), unzip(t, path("ours", proofFile)))
	sameFile("snapshot", fmt.Sprintf("snap-%d.bin.gz", step))
	sameFile("state after the proof step", "stop.bin.gz")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
