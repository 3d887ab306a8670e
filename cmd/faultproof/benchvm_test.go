package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchVMRow returns the fields of the row of vm in bench vm's table (the name is followed by the
// table's padding of at least two spaces).
func benchVMRow(t *testing.T, stdout, vm string) []string {
	t.Helper()
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, vm+"  ") {
			return strings.Fields(l)
		}
	}
	require.FailNow(t, fmt.Sprintf("no row %q in:\n%s", vm, stdout))
	return nil
}

func TestBenchVM(t *testing.T) {
	guests := vmGuests(t, t.TempDir())
	hello := filepath.Join(guests, "hello")
	final, _ := libState(t, hello, nil, 0)

	t.Run("to the end", func(t *testing.T) {
		stdout, stderr := vmCLIOK(t, "bench", "vm", "--elf", hello, "--rounds", "2")
		t.Log("\n" + stdout)
		ours := benchVMRow(t, stdout, "ours")
		require.Equal(t, fmt.Sprint(final.Step), ours[1], "steps")
		for _, f := range ours[2:7] { // seconds, min, max, steps/s, peak RSS
			v, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err)
			require.Positive(t, v)
		}
		require.Equal(t, "exit 0", strings.Join(ours[7:], " "))
		// The whole process: a vm run of its own, to the same step and state.
		whole := benchVMRow(t, stdout, "ours (whole process)")
		require.Equal(t, ours[1], whole[3], "steps")
		for _, f := range whole[4:10] { // seconds, min, max, steps/s, CPU seconds, peak RSS
			v, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err)
			require.Positive(t, v)
		}
		require.NotContains(t, stdout, "cannon")
		require.Equal(t, 4, strings.Count(stderr, "Ran the program"))
	})

	t.Run("stop at a step", func(t *testing.T) {
		stdout, _ := vmCLIOK(t, "bench", "vm", "--elf", hello, "--rounds", "1", "--steps", "12345")
		ours := benchVMRow(t, stdout, "ours")
		require.Equal(t, "12345", ours[1])
		require.Equal(t, "stopped", ours[7])
		whole := benchVMRow(t, stdout, "ours (whole process)")
		require.Equal(t, "12345", whole[3])
		require.Equal(t, "stopped", whole[10])
	})

	// The comparison with a "cannon" that is our own vm subcommand (they take Cannon's flags): the same
	// steps, the same final state. A wrapper that stops earlier than asked must make bench vm fail.
	exe, err := os.Executable()
	require.NoError(t, err)
	fake := func(extra string) string {
		path := filepath.Join(t.TempDir(), "cannon")
		script := fmt.Sprintf("#!/bin/sh\nexport %s=1\ncase \"$*\" in\n  run*\"=0 --info-at\"*) exec %q vm \"$@\" ;;\n  run*) exec %q vm \"$@\" %s ;;\nesac\nexec %q vm \"$@\"\n",
			runMainEnv, exe, exe, extra, exe)
		require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
		return path
	}

	t.Run("against a cannon", func(t *testing.T) {
		stdout, _ := vmCLIOK(t, "bench", "vm", "--elf", hello, "--rounds", "1", "--cannon", fake(""))
		t.Log("\n" + stdout)
		require.Equal(t, benchVMRow(t, stdout, "ours")[1], benchVMRow(t, stdout, "cannon")[1])
		require.Equal(t, benchVMRow(t, stdout, "ours")[1], benchVMRow(t, stdout, "cannon (whole process)")[3])
		require.Contains(t, stdout, "cannon process fixed cost")
		require.Contains(t, stdout, "ratio ours/cannon steps/s: ")
		require.Regexp(t, `ratio ours/cannon whole process: [0-9.]+ \(CPU time: [0-9.]+\)`, stdout)
	})

	t.Run("a cannon that disagrees", func(t *testing.T) {
		_, stderr, code := vmCLI(t, "bench", "vm", "--elf", hello, "--rounds", "1", "--cannon", fake("--stop-at =1000"))
		require.Equal(t, 2, code, stderr)
		require.Contains(t, lastLine(stderr), fmt.Sprintf("cannon and ours disagree: cannon ran 1000 steps (exited false, exit code 0), ours %d steps (exited true, exit code 0)", final.Step))
	})

	t.Run("with a pre-image server", func(t *testing.T) {
		b := newBootInfo(t)
		bootinfo := filepath.Join(guests, "bootinfo")
		want, _ := libState(t, bootinfo, b.oracle(t), 0)
		stdout, _ := vmCLIOK(t, append([]string{"bench", "vm", "--elf", bootinfo, "--rounds", "1"}, b.hostArgs(t)...)...)
		t.Log("\n" + stdout)
		require.Equal(t, fmt.Sprint(want.Step), benchVMRow(t, stdout, "ours")[1])
		require.Equal(t, fmt.Sprint(want.Step), benchVMRow(t, stdout, "ours (whole process)")[3])
		require.Equal(t, "exit 0", strings.Join(benchVMRow(t, stdout, "ours (whole process)")[10:], " "))
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			args    []string
			errText string
		}{
			{[]string{"bench", "vm"}, `Required flag "elf" not set`},
			{[]string{"bench", "vm", "--elf", hello, "--rounds", "0"}, "invalid --rounds 0"},
			{[]string{"bench", "vm", "--elf", filepath.Join(guests, "nope")}, "failed to open ELF file"},
			{[]string{"bench", "vm", "--elf", exe}, "ELF is not big-endian MIPS"},
			{[]string{"bench", "vm", "--elf", hello, "--cannon", filepath.Join(guests, "no-cannon")}, "invalid --cannon"},
			{[]string{"bench", "vm", "--elf", filepath.Join(guests, "oracle")}, "but no pre-image server was given"},
			{[]string{"bench", "vm", "--elf", hello, "extra"}, `invalid pre-image server command: exec: "extra": executable file not found`},
		} {
			_, stderr, code := vmCLI(t, tt.args...)
			require.Equal(t, 2, code, stderr)
			require.NotContains(t, stderr, "panic")
			require.True(t, strings.HasPrefix(lastLine(stderr), "faultproof: "), stderr)
			require.Contains(t, lastLine(stderr), tt.errText)
		}
	})
}

// TestBenchProgram reports steps per claim and per block inside the VM (about a minute): FAULTPROOF_E2E=full.
func TestBenchProgram(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to run the program benchmark inside the VM")
	}
	stdout, stderr, code := runCLI(t, "bench", "program", "--src", "../..")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `honest output root\s+6\s+\d+\s+\d+`, stdout)
	t.Log("\n" + stdout)
	// Step budgets, about 10% above what the program takes now (1.20 G, 421 M): a change that makes every
	// claim dearer must say so here.
	for _, b := range []struct {
		row    string
		budget uint64
	}{{"honest output root", 1_320_000_000}, {"batches posted in blobs", 465_000_000}} {
		m := regexp.MustCompile(regexp.QuoteMeta(b.row) + `[^\n]*?\s+\d+\s+(\d+)\s+`).FindStringSubmatch(stdout)
		require.NotNil(t, m, b.row)
		steps, err := strconv.ParseUint(m[1], 10, 64)
		require.NoError(t, err)
		require.LessOrEqual(t, steps, b.budget, "%s: %d steps", b.row, steps)
	}
}

// TestBenchOnline runs the online host benchmark once per mode, with the L1 head 100 blocks past the data:
// the witness fast path must bring one debug_executePayload per derived block and fewer L2 requests than
// fetching state node by node, and the walk back from the L1 head must take fewer L1 round trips than there
// are blocks to walk over.
func TestBenchOnline(t *testing.T) {
	stdout, stderr, code := runCLI(t, "bench", "online", "--rounds", "1", "--l1.past", "100")
	require.Equal(t, 0, code, stderr)
	row := regexp.MustCompile(`(?m)^honest output root\s+6\s+100\s+(no|yes)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+[\d.]+\s+(\d+)\s+(\d+)\s`)
	rows := row.FindAllStringSubmatch(stdout, -1)
	require.Len(t, rows, 2, stdout)
	num := func(s string) int {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		return n
	}
	slow, fast := rows[0], rows[1]
	require.Equal(t, []string{"no", "yes"}, []string{slow[1], fast[1]})
	require.Zero(t, num(slow[5]), "no payload executions without --l2.experimental")
	require.Equal(t, 6, num(fast[5]), "one payload execution per derived block")
	require.Less(t, num(fast[3]), num(slow[3]), "fewer L2 requests with the witness fast path")
	require.Less(t, num(fast[4]), num(slow[4]), "fewer debug_dbGet requests with the witness fast path")
	for _, r := range rows {
		require.Less(t, num(r[7]), 50, "L1 round trips: the walk back over 100 blocks and more is in batches")
		require.Less(t, num(r[6]), num(r[2]), "fewer round trips than requests")
	}
	require.Contains(t, stdout, "honest output root, L1 head 100 past: without/with: L2 requests")
	t.Log("\n" + stdout)
}

// TestBenchSummary: 'faultproof bench' with the native part only writes its rows as JSON with the run's
// facts, lists the parts skipped and why (a directory that is not a checkout, --skip), and refuses a part
// it does not know in one line with exit code 2.
func TestBenchSummary(t *testing.T) {
	stdout, stderr, code := runCLI(t, "bench", "--skip", "online", "--src", t.TempDir(), "--l2.blocks", "3", "--rounds", "1", "--json", "-")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "native: one-block claim", "progress on stderr")
	var report struct {
		GoVersion string `json:"go_version"`
		CPUs      int
		Rows      []struct {
			ID    string
			Value float64
		}
		Skipped []struct{ Part, Reason string }
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &report), stdout)
	require.NotEmpty(t, report.GoVersion)
	require.Positive(t, report.CPUs)
	ids := map[string]bool{}
	for _, r := range report.Rows {
		ids[r.ID] = true
		require.Positive(t, r.Value, r.ID)
	}
	require.Equal(t, map[string]bool{"native.claim.seconds": true, "native.claim.peak_rss": true, "native.block.ms": true, "native.block.peak_rss": true}, ids)
	require.Len(t, report.Skipped, 2, stdout)
	require.Equal(t, "program", report.Skipped[0].Part)
	require.Contains(t, report.Skipped[0].Reason, "is not a checkout")
	require.Equal(t, "online", report.Skipped[1].Part)

	stdout, stderr, code = runCLI(t, "bench", "--skip", "native,program,online")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "skipped: native: --skip native\nskipped: program: --skip program\nskipped: online: --skip online\n")

	_, stderr, code = runCLI(t, "bench", "--skip", "vm")
	require.Equal(t, 2, code)
	require.Equal(t, `faultproof: invalid --skip "vm": the parts are native, program, online`, lastLine(stderr))
}
