package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
)

// TestProgramInsideTheVM builds the prestate, then decides claims with the program running in our VM
// and our host serving it (faultproof vm run ... -- faultproof host --server ...).
func TestProgramInsideTheVM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips64 program and runs it in the VM")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	pre := t.TempDir()
	stdout, stderr, code := runCLI(t, "prestate", "--out", pre, "--src", "../..")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^0x03[0-9a-f]{62}\n$`, stdout, "the absolute prestate hash, VM status 'unfinished' in its top byte")

	b := testL2Chain(t)
	st, err := b.StateAt(b.Block(11).Root())
	require.NoError(t, err)
	right := (&l2.Output{StateRoot: b.Block(11).Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Block(11).Hash()}).Root()
	for _, tc := range []struct {
		name  string
		claim common.Hash
		exit  int
	}{{"valid claim", right, 0}, {"invalid claim", common.Hash{0xba, 0xd}, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			final := filepath.Join(t.TempDir(), "final.bin.gz")
			args := []string{"vm", "run", "--input", filepath.Join(pre, "prestate.bin.gz"), "--meta", filepath.Join(pre, "meta.json"),
				"--output", final, "--", exe}
			args = append(args, devnetHostArgs(t, b, 14, tc.claim, 11)...)
			args = append(args, "--server")
			_, stderr, code := runCLI(t, args...)
			require.Equal(t, 0, code, stderr)
			out, _, code := runCLI(t, "vm", "witness", "--input", final)
			require.Equal(t, 0, code)
			var w struct {
				Exited   bool   `json:"exited"`
				ExitCode uint8  `json:"exitCode"`
				Step     uint64 `json:"step"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &w))
			require.True(t, w.Exited)
			require.Equal(t, tc.exit, int(w.ExitCode))
			t.Logf("%s: %d steps", tc.name, w.Step)
		})
	}
}
