package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

func TestParseStepPattern(t *testing.T) {
	valid := map[string]stepPattern{
		"":                      {kind: patternNever},
		"never":                 {kind: patternNever},
		"always":                {kind: patternAlways},
		"=0":                    {kind: patternAt, n: 0},
		"=123":                  {kind: patternAt, n: 123},
		"=0x10":                 {kind: patternAt, n: 16},
		"=1_000":                {kind: patternAt, n: 1000},
		"%1":                    {kind: patternEvery, n: 1},
		"%1000000000":           {kind: patternEvery, n: 1_000_000_000},
		"%0b101":                {kind: patternEvery, n: 5},
		"=18446744073709551615": {kind: patternAt, n: math.MaxUint64},
	}
	for s, want := range valid {
		got, err := parseStepPattern("proof-at", s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
	}
	for _, s := range []string{"%0", "=", "%", "=-1", "=1e6", "% 5", "Never", "at 5", "5", "=18446744073709551616", "%F"} {
		_, err := parseStepPattern("proof-at", s)
		require.Error(t, err, s)
		require.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("invalid --proof-at %q", s)), err.Error())
	}
}

func TestStepPatternNext(t *testing.T) {
	patterns := []stepPattern{
		{kind: patternNever}, {kind: patternAlways},
		{kind: patternAt, n: 0}, {kind: patternAt, n: 17}, {kind: patternAt, n: math.MaxUint64},
		{kind: patternEvery, n: 1}, {kind: patternEvery, n: 7}, {kind: patternEvery, n: 1 << 63},
	}
	starts := []uint64{0, 1, 6, 7, 8, 16, 17, 18, 1 << 63, math.MaxUint64 - 3, math.MaxUint64}
	for _, p := range patterns {
		for _, start := range starts {
			// Brute force over a window of steps.
			var want uint64
			found := false
			for s := start; s-start < 64; s++ {
				if p.matches(s) {
					want, found = s, true
					break
				}
				if s == math.MaxUint64 {
					break
				}
			}
			got, ok := p.next(start)
			if found {
				require.True(t, ok, "%+v from %d", p, start)
				require.Equal(t, want, got, "%+v from %d", p, start)
			} else if ok {
				require.Greater(t, got-start, uint64(63), "%+v from %d: next %d", p, start, got)
				require.True(t, p.matches(got))
			}
		}
	}
}

func TestPreimageStopMatches(t *testing.T) {
	key := [32]byte{2, 0xaa, 0xbb}
	value := make([]byte, 8+100)
	tests := []struct {
		name   string
		stop   preimageStop
		step   uint64
		offset uint64
		want   bool
	}{
		{"any", preimageStop{any: true}, 5, 40, true},
		{"type at offset 0", preimageStop{keyPrefix: []byte{2}}, 5, 0, true},
		{"type at other offset", preimageStop{keyPrefix: []byte{2}}, 5, 8, false},
		{"other type", preimageStop{keyPrefix: []byte{1}}, 5, 0, false},
		{"prefix, offset and step", preimageStop{keyPrefix: []byte{2, 0xaa}, offset: 8, minStep: 5}, 5, 8, true},
		{"before the step", preimageStop{keyPrefix: []byte{2, 0xaa}, offset: 8, minStep: 6}, 5, 8, false},
		{"larger", preimageStop{largerThan: 100}, 5, 16, true},
		{"not larger", preimageStop{largerThan: 108}, 5, 16, false},
		{"type and larger", preimageStop{keyPrefix: []byte{2}, largerThan: 100}, 5, 16, true},
		{"type but not larger", preimageStop{keyPrefix: []byte{2}, largerThan: 200}, 5, 0, false},
		{"larger but other type", preimageStop{keyPrefix: []byte{1}, largerThan: 100}, 5, 0, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.stop.matches(tt.step, key, value, tt.offset), tt.name)
	}
}

func TestLineLogger(t *testing.T) {
	var records []string
	h := log.NewTerminalHandler(writerFunc(func(p []byte) (int, error) {
		records = append(records, string(p))
		return len(p), nil
	}), false)
	w := newLineLogger(log.NewLogger(h), "out")
	for _, chunk := range []string{"hel", "lo\nwor", "ld\n\n", "\x00\x01\n", "tail"} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		require.Equal(t, len(chunk), n)
	}
	require.Len(t, records, 4)
	require.Contains(t, records[0], "text=hello")
	require.Contains(t, records[1], "text=world")
	require.Contains(t, records[3], "data=0x0001")
	require.Equal(t, "world", w.LastLine())
	w.Flush()
	require.Len(t, records, 5)
	require.Contains(t, records[4], "text=tail")
	require.Equal(t, "tail", w.LastLine())
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRunnerPatterns runs the hello guest in-process with several patterns at once and checks that every
// selected step, and no other, got its proof or snapshot, and where the run stopped.
func TestRunnerPatterns(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vmGuests(t, t.TempDir()), "hello"))
	require.NoError(t, err)
	initial, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	quiet := log.NewLogger(log.DiscardHandler())

	tests := []struct {
		proofAt, snapshotAt, stopAt string
		proofs, snapshots           []uint64
		stop                        uint64 // 0: runs to the exit
	}{
		{"always", "never", "=5", []uint64{0, 1, 2, 3, 4}, nil, 5},
		{"%50000", "=123456", "=200001", []uint64{0, 50000, 100000, 150000, 200000}, []uint64{123456}, 200001},
		{"=300000", "%100000", "=300000", nil, []uint64{0, 100000, 200000}, 300000},
		{"=452000", "never", "never", []uint64{452000}, nil, 0},
		{"=99999999", "%1000000", "never", nil, []uint64{0}, 0},
	}
	for _, tt := range tests {
		// (no % in the name: it becomes part of the temporary directory, and so of the file name formats)
		name := strings.NewReplacer("%", "every ").Replace(fmt.Sprintf("proof-at %s snapshot-at %s stop-at %s", tt.proofAt, tt.snapshotAt, tt.stopAt))
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := &runConfig{
				proofFmt:    filepath.Join(dir, "proof-%d.json"),
				snapshotFmt: filepath.Join(dir, "state-%d.bin"),
				meta:        &vm.Metadata{},
			}
			for _, p := range []struct {
				s   string
				dst *stepPattern
			}{{tt.proofAt, &cfg.proofAt}, {tt.snapshotAt, &cfg.snapshotAt}, {tt.stopAt, &cfg.stopAt}, {"%1000", &cfg.infoAt}} {
				*p.dst, err = parseStepPattern("x", p.s)
				require.NoError(t, err)
			}
			s := initial.Copy()
			r := &runner{cfg: cfg, state: s, vm: vm.NewVM(s, newHostOracle(nil), nil, nil), oracle: newHostOracle(nil), log: quiet}
			require.NoError(t, r.run(context.Background()))

			want := initial.Copy()
			require.NoError(t, vm.NewVM(want, vm.NewMemoryOracle(), nil, nil).Run(tt.stop))
			require.Equal(t, want.Hash(), s.Hash())
			require.Equal(t, tt.stop == 0, s.Exited)

			var proofs, snapshots []uint64
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				var n uint64
				if _, err := fmt.Sscanf(e.Name(), "proof-%d.json", &n); err == nil {
					proofs = append(proofs, n)
				} else if _, err := fmt.Sscanf(e.Name(), "state-%d.bin", &n); err == nil {
					snapshots = append(snapshots, n)
				} else {
					require.FailNow(t, fmt.Sprintf("unexpected file %s", e.Name()))
				}
			}
			require.ElementsMatch(t, tt.proofs, proofs)
			require.ElementsMatch(t, tt.snapshots, snapshots)
			for _, n := range tt.snapshots {
				st, err := vm.LoadStateFile(filepath.Join(dir, fmt.Sprintf("state-%d.bin", n)))
				require.NoError(t, err)
				require.Equal(t, n, st.Step)
			}
		})
	}
}
