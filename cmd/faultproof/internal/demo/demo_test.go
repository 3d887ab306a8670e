package demo

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
)

// TestDisputes: the demo's rows on the default devnet, and one more for each block a faulty batcher
// attacked, each about the devnet's own output roots.
func TestDisputes(t *testing.T) {
	d, err := devnet.New(devnet.Config{InvalidBatchAt: []uint64{47}, Faults: []devnet.Fault{{Kind: devnet.FaultWrongParent, Block: 60}}})
	require.NoError(t, err)
	disputes, err := Disputes(d)
	require.NoError(t, err)
	var names []string
	for _, dp := range disputes {
		names = append(names, dp.Name)
		if dp.Want == preimage.ExitValid {
			require.Equal(t, d.OutputRoot(dp.ClaimBlock), dp.Claim, dp.Name)
		} else {
			require.NotEqual(t, d.OutputRoot(dp.ClaimBlock), dp.Claim, dp.Name)
		}
	}
	require.Equal(t, []string{
		"honest output root", "wrong output root", "across Holocene's activation (block 45)", "batches posted in blobs (block 30)",
		"behind the agreed block (trace extension)", "invalid batch replaced by deposits only (block 47)", "faulty batcher wrong-parent (block 60)",
	}, names)
	require.Equal(t, uint64(6), disputes[0].Blocks())
	require.Equal(t, preimage.ExitInvalid, disputes[1].Want)
	require.Zero(t, disputes[4].Blocks(), "a claim behind the agreed block derives nothing")

	cfg := HostConfig(d, disputes[1])
	require.Equal(t, d.L2Block(disputes[1].Agreed).Hash(), cfg.L2Head)
	require.Equal(t, d.OutputRoot(disputes[1].Agreed), cfg.L2OutputRoot)
	args := strings.Join(ReplayArgs("/dd", cfg), " ")
	for _, want := range []string{"run --rollup.config /dd/rollup.json --l2.genesis /dd/genesis-l2.json --l1.chainconfig /dd/genesis-l1.json --datadir /dd/preimages",
		"--l2.claim " + cfg.L2Claim.Hex(), "--l2.blocknumber 70", "--l2.custom"} {
		require.Contains(t, args, want)
	}

	short, err := devnet.New(devnet.Config{L2Blocks: 15})
	require.NoError(t, err)
	_, err = Disputes(short)
	require.ErrorContains(t, err, "at least 16 L2 blocks")
}

// TestRun settles the disputes natively, keeps the datadir with a replay command per dispute, and fails
// when a verdict is not the expected one.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	o := Options{DataDir: dir, ConfigName: "default", Program: inprocess.Program, Stdout: &stdout, Stderr: &stderr}
	require.NoError(t, Run(context.Background(), o))
	require.Regexp(t, `DISPUTE\s+AGREED\s+CLAIM BLOCK\s+EXPECTED\s+VERDICT\s+TIME\s+PREIMAGES\n`, stdout.String())
	require.Regexp(t, `honest output root\s+64\s+70\s+valid\s+valid\s+\S+\s+\d+\n`, stdout.String())
	require.Regexp(t, `wrong output root\s+64\s+70\s+invalid\s+invalid\s`, stdout.String())
	require.Contains(t, stderr.String(), "Dispute 5/5: behind the agreed block (trace extension)...")
	replay, err := os.ReadFile(filepath.Join(dir, "replay.txt"))
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSpace(string(replay)), "\n"), 5)
	for _, f := range []string{"rollup.json", "genesis-l2.json", "genesis-l1.json"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	require.DirExists(t, filepath.Join(dir, "preimages"))

	// A program that calls every claim valid (after reading the claim, so that the host takes its
	// verdict) gets the wrong root wrong.
	o.DataDir, o.Stdout, o.Stderr = "", io.Discard, io.Discard
	o.Program = func(ctx context.Context, preimageCh, hintCh io.ReadWriter) error {
		_, err := ExitCode(inprocess.Program(ctx, preimageCh, hintCh))
		return err
	}
	require.ErrorIs(t, Run(context.Background(), o), ErrUnexpectedVerdict)
}

func TestExitCode(t *testing.T) {
	code, err := ExitCode(nil)
	require.NoError(t, err)
	require.Equal(t, preimage.ExitValid, code)
	code, err = ExitCode(&host.ExitError{Code: preimage.ExitInvalid})
	require.NoError(t, err)
	require.Equal(t, preimage.ExitInvalid, code)
	_, err = ExitCode(host.ErrNoVerdict)
	require.ErrorIs(t, err, host.ErrNoVerdict)
}

func TestVerdict(t *testing.T) {
	require.Equal(t, "valid", Verdict(preimage.ExitValid))
	require.Equal(t, "invalid", Verdict(preimage.ExitInvalid))
	require.Equal(t, "failed (exit 2)", Verdict(preimage.ExitFailure))
}

// TestInteropDisputes: the interop demo's rows on the interop devnet, each valid claim the devnet's own
// next state, and a replay command per dispute with op-program's interop flags.
func TestInteropDisputes(t *testing.T) {
	n, err := devnet.InteropConfiguration("interop")
	require.NoError(t, err)
	x, err := devnet.NewInterop(n.Config)
	require.NoError(t, err)
	disputes, err := InteropDisputes(x)
	require.NoError(t, err)
	var names []string
	for _, dp := range disputes {
		names = append(names, dp.Name)
		if dp.Want == preimage.ExitValid && dp.T < x.LastTime() {
			next, err := x.StateHash(dp.T, dp.Step+1)
			require.NoError(t, err)
			require.Equal(t, next, dp.Claim, dp.Name)
		}
	}
	require.Equal(t, []string{
		"derive chain 901's block (step 0)", "derive chain 902's block (step 1)", "padding step (step 64)",
		"padding step claiming no progress", "consolidation: next super root", "consolidation: wrong super root",
		"consolidation replaces chain 901 block 8", "consolidation keeping chain 901 block 8 (invalid message)",
		"at the game timestamp (trace extension)",
	}, names)
	require.Equal(t, preimage.ExitInvalid, disputes[3].Want)

	cfg, err := InteropHostConfig(x, disputes[6])
	require.NoError(t, err)
	agreed, err := x.State(disputes[6].T, disputes[6].Step)
	require.NoError(t, err)
	require.Equal(t, agreed, cfg.Interop.AgreedPrestate)
	require.Len(t, cfg.Interop.Chains, 2)
	require.Equal(t, x.LastTime(), cfg.L2ClaimBlockNumber)
	args := strings.Join(InteropReplayArgs("/dd", x, cfg), " ")
	for _, want := range []string{"run --rollup.config /dd/rollup-901.json,/dd/rollup-902.json --l2.genesis /dd/genesis-l2-901.json,/dd/genesis-l2-902.json",
		"--depset.config /dd/depset.json", "--datadir /dd/preimages", "--l2.claim " + cfg.L2Claim.Hex(), "--l2.agreed-prestate 0x"} {
		require.Contains(t, args, want)
	}
	dir := t.TempDir()
	require.NoError(t, WriteInteropConfigs(dir, x))
	for _, f := range []string{"rollup-901.json", "rollup-902.json", "genesis-l2-901.json", "genesis-l2-902.json", "genesis-l1.json", "depset.json"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
}
