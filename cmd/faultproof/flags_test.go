package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBadFlagValues gives run, host and the vm and bundle commands flag values that do not parse, on the
// command line and in OP_PROGRAM_ variables: each is exit code 2 and exactly one line that names the flag,
// never the help text.
func TestBadFlagValues(t *testing.T) {
	datadir := t.TempDir()
	runArgs := func(extra ...string) []string {
		args := append([]string{"run"}, serverArgs(datadir)[2:]...)
		return append(args, extra...)
	}
	tests := []struct {
		name  string
		env   []string
		args  []string
		wants []string
	}{
		{"block number of 2^64", nil, runArgs("--l2.blocknumber", "18446744073709551616"),
			[]string{"--l2.blocknumber", `"18446744073709551616"`, "value out of range", "from 0 to 18446744073709551615"}},
		{"negative block number", nil, []string{"host", "--l2.blocknumber=-1"}, []string{"--l2.blocknumber", `"-1"`}},
		{"block number not a number", nil, []string{"run", "--l2.blocknumber", "ten"}, []string{"--l2.blocknumber", `"ten"`}},
		{"block number without a value", nil, []string{"run", "--l2.blocknumber"}, []string{"--l2.blocknumber needs a value"}},
		{"block number from the environment", []string{"OP_PROGRAM_L2_BLOCK_NUM=xyz"}, []string{"run"},
			[]string{"--l2.blocknumber", `"xyz"`, "OP_PROGRAM_L2_BLOCK_NUM"}},
		{"metrics port not a number", nil, runArgs("--metrics.port", "http"), []string{"--metrics.port", `"http"`}},
		{"metrics port out of range", nil, runArgs("--metrics.port", "70000"), []string{"--metrics.port 70000", "0 to 65535"}},
		{"negative metrics port", nil, runArgs("--metrics.enabled", "--metrics.port", "-2"), []string{"--metrics.port -2"}},
		{"metrics port from the environment", []string{"OP_PROGRAM_METRICS_PORT=x"}, []string{"host"}, []string{"--metrics.port", "OP_PROGRAM_METRICS_PORT"}},
		{"bool flag", nil, []string{"run", "--l2.custom=maybe"}, []string{"--l2.custom", `"maybe"`, "true or false"}},
		{"bool flag from the environment", []string{"OP_PROGRAM_L1_TRUST_RPC=sometimes"}, []string{"host"}, []string{"--l1.trustrpc", "OP_PROGRAM_L1_TRUST_RPC"}},
		{"short l1 head", nil, runArgs("--l1.head", "0x1234"), []string{"--l1.head", "not a 32-byte hex hash"}},
		{"l2 head not hex", nil, runArgs("--l2.head", "0x"+strings.Repeat("zz", 32)), []string{"--l2.head", "not a 32-byte hex hash"}},
		{"output root too long", nil, runArgs("--l2.outputroot", outputRoot+"00"), []string{"--l2.outputroot", "not a 32-byte hex hash"}},
		{"claim with spaces inside", nil, runArgs("--l2.claim", "0x1111 2222"), []string{"--l2.claim", "not a 32-byte hex hash"}},
		{"unknown flag", nil, []string{"host", "--l2.blocknum", "5"}, []string{"flag provided but not defined: --l2.blocknum"}},
		{"bundle size without a number", nil, []string{"run", "--bundle", "x", "--bundle.maxsize", "lots"}, []string{"--bundle.maxsize", `"lots"`}},
		{"bundle size of zero", nil, []string{"run", "--bundle", "x", "--bundle.maxsize", "0GiB"}, []string{"--bundle.maxsize", `"0GiB"`}},
		{"bundle size over 2^64", nil, []string{"run", "--bundle", "x", "--bundle.maxsize", "20000000TiB"}, []string{"--bundle.maxsize"}},
		{"vm flag without a value", nil, []string{"vm", "run", "--input", "x", "--snapshot-at"}, []string{"--snapshot-at needs a value"}},
		{"unknown vm flag", nil, []string{"vm", "witness", "--input", "x", "--proof"}, []string{"flag provided but not defined: --proof"}},
		{"unknown bundle flag", nil, []string{"bundle", "export", "--in", filepath.Join(datadir, "x")}, []string{"flag provided but not defined: --in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := faultproofCmd(t, tt.args...)
			cmd.Env = append(cmd.Env, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := waitTimeout(startOrFail(t, cmd), 30*time.Second)
			require.Equal(t, 2, exitCode(err), "stderr:\n%s", stderr.String())
			out := strings.TrimSpace(stderr.String())
			t.Log(out)
			require.Empty(t, stdout.String())
			require.NotContains(t, out, "\n", "more than one line")
			require.True(t, strings.HasPrefix(out, "faultproof: "), out)
			for _, w := range tt.wants {
				require.Contains(t, out, w)
			}
		})
	}
}
