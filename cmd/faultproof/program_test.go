package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// buildProgram compiles cmd/fpp-client for this machine.
func buildProgram(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "fpp-client")
	cmd := exec.Command("go", "build", "-o", out, "github.com/faultproof/faultproof/cmd/fpp-client")
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", output)
	return out
}

// devnetHostArgs writes the devnet's configs and a datadir agreeing on block agreed, and returns the
// host flags for a claim at claimBlock.
func devnetHostArgs(t *testing.T, b *devnet.L2Builder, agreed uint64, claim common.Hash, claimBlock uint64) []string {
	dir := t.TempDir()
	st, err := b.StateAt(b.Block(agreed).Root())
	require.NoError(t, err)
	out := &l2.Output{StateRoot: b.Block(agreed).Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Block(agreed).Hash()}
	datadir := writeDatadir(t, b, filepath.Join(dir, "preimages"))
	kv, _, err := kvstore.Open(datadir, "")
	require.NoError(t, err)
	require.NoError(t, kv.Put(common.Hash(preimage.KeccakKeyOf(out.Marshal()).PreimageKey()), out.Marshal()))
	require.NoError(t, kv.Close())
	return []string{"host",
		"--rollup.config", writeJSONFile(t, filepath.Join(dir, "rollup.json"), b.Rollup()),
		"--l2.genesis", writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": b.Config()}),
		"--l1.chainconfig", writeJSONFile(t, filepath.Join(dir, "l1.json"), devnet.L1ChainConfig()),
		"--datadir", datadir,
		"--l1.head", common.Hash{0x11}.Hex(), "--l2.head", b.Block(agreed).Hash().Hex(), "--l2.outputroot", out.Root().Hex(),
		"--l2.claim", claim.Hex(), "--l2.blocknumber", itoa(claimBlock)}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestHostRunsTheProgram decides claims end to end: the host serves a datadir to the program in process
// and as a child over fds 3-6, and exits with the verdict.
func TestHostRunsTheProgram(t *testing.T) {
	b := testL2Chain(t)
	program := buildProgram(t)
	st, err := b.StateAt(b.Block(11).Root())
	require.NoError(t, err)
	right := (&l2.Output{StateRoot: b.Block(11).Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Block(11).Hash()}).Root()
	for _, mode := range []string{"in-process", "exec"} {
		for _, tc := range []struct {
			name  string
			claim common.Hash
			code  int
		}{{"valid claim", right, 0}, {"invalid claim", common.Hash{0xba, 0xd}, 1}} {
			t.Run(mode+" "+tc.name, func(t *testing.T) {
				args := devnetHostArgs(t, b, 14, tc.claim, 11)
				if mode == "exec" {
					args = append(args, "--exec", program)
				}
				_, stderr, code := runCLI(t, args...)
				require.Equal(t, tc.code, code, stderr)
			})
		}
	}
	t.Run("past the agreed block, without the L1 data, fails loudly", func(t *testing.T) {
		_, stderr, code := runCLI(t, devnetHostArgs(t, b, 11, right, 12)...)
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "l1-block-header")
		require.Contains(t, stderr, "missing preimage")
	})
}
