package crosscheck

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet/sweep"
)

// replayClaims are the devnet's one-block claims replayed in both directions (forks at their
// devnet.DevnetForkHeights; none at Canyon's activation, block 9, where op-program v1.19.0 builds another
// block, or across Karst's, block 62, where op-node v1.19.0 leaked the upgrade gas).
var replayClaims = []struct {
	block uint64
	what  string
	// opProgramNeedsMore says why op-program cannot replay faultproof's datadir for this claim, if it
	// cannot: it asks for data that the claim does not need.
	opProgramNeedsMore string
}{
	{35, "Fjord, batch in a blob (the last block of its span batch)", ""},
	{47, "Holocene, batch in a blob", ""},
	{33, "Fjord, batch in a blob (the first block of its span batch)",
		"before Holocene, op-program v1.19.0 executes the whole span batch (blocks 33-35) before its safe head reaches the claim"},
	{58, "Jovian, an overlapping span batch in a blob",
		"op-program v1.19.0 checks the batch's overlap against L2 block 56, found by number in the EIP-2935 history contract's storage"},
}

// TestOpProgramDatadirsReplayBothWays runs op-program v1.19.0 and faultproof on the same one-block claims
// of the devnet, each writing a datadir online against `faultproof devnet serve`'s RPC servers, and
// replays each datadir offline in the other host: the honest claim valid (exit 0), a wrong claim invalid
// (exit 1), the same verdicts from both. faultproof replays op-program's datadirs although they hold no
// answers for its precompile calls (op-program recovers transaction senders inside the VM): the offline
// host computes them. The parts swap too: op-program's client runs under our host (--exec), ours under
// op-program's host, each reading the other's local keys (the custom chain's configs among them).
func TestOpProgramDatadirsReplayBothWays(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, opClient, _ := refbuild.OpProgram(t, opProgramVersion)
	fp, fpClient := faultproofBinary(t), buildTool(t, "fpp-client", "..", "./cmd/fpp-client")
	n := serveDevnet(t, "default", newDevnet(t, "default"))

	for _, c := range replayClaims {
		t.Run(fmt.Sprintf("block %d", c.block), func(t *testing.T) {
			honest := n.d.OutputRoot(c.block)
			wrong := sweep.WrongOutput(honest)
			dir := t.TempDir()
			opDir, fpDir := filepath.Join(dir, "op-program"), filepath.Join(dir, "faultproof")
			check := func(who string, r hostRun, want int) {
				t.Helper()
				require.Equal(t, want, r.verdict, "%s: verdict %d, want %d; log ends:\n%s", who, r.verdict, want, r.tail())
				t.Logf("%-58s exit %d in %s", who, r.verdict, r.took.Round(time.Millisecond))
			}

			// op-program writes the datadir online; faultproof and op-program decide offline from it.
			check("op-program online (writes its datadir)", runOpProgram(t, opHost, append(n.oneBlockArgs(c.block, honest, opDir), n.online()...)...), 0)
			check("faultproof offline on op-program's datadir, honest", runFaultproof(t, fp, n.oneBlockArgs(c.block, honest, opDir)...), 0)
			check("faultproof offline on op-program's datadir, wrong", runFaultproof(t, fp, n.oneBlockArgs(c.block, wrong, opDir)...), 1)
			check("op-program offline on its datadir, wrong", runOpProgram(t, opHost, n.oneBlockArgs(c.block, wrong, opDir)...), 1)

			// And the other way.
			check("faultproof online (writes its datadir)", runFaultproof(t, fp, append(n.oneBlockArgs(c.block, honest, fpDir), n.online()...)...), 0)
			if c.opProgramNeedsMore != "" {
				// Pinned, so that a change on either side shows: op-program stops for want of data.
				r := runOpProgram(t, opHost, n.oneBlockArgs(c.block, honest, fpDir)...)
				require.Equal(t, 2, r.verdict, "op-program on faultproof's datadir: verdict %d, want a missing preimage (%s); log ends:\n%s", r.verdict, c.opProgramNeedsMore, r.tail())
				require.Contains(t, r.log, "not found", "op-program on faultproof's datadir: verdict %d, want a missing preimage (%s); log ends:\n%s", r.verdict, c.opProgramNeedsMore, r.tail())
				t.Logf("op-program offline on faultproof's datadir: missing preimage, as expected: %s", c.opProgramNeedsMore)
				return
			}
			check("op-program offline on faultproof's datadir, honest", runOpProgram(t, opHost, n.oneBlockArgs(c.block, honest, fpDir)...), 0)
			check("op-program offline on faultproof's datadir, wrong", runOpProgram(t, opHost, n.oneBlockArgs(c.block, wrong, fpDir)...), 1)

			// Swapped parts, each host serving the datadir it can read offline.
			for _, claim := range []struct {
				root common.Hash
				want int
			}{{honest, 0}, {wrong, 1}} {
				args := append([]string{"host", "--l2.custom", "--exec", opClient}, n.oneBlockArgs(c.block, claim.root, opDir)...)
				check(fmt.Sprintf("op-program's client under faultproof's host (claim exit %d)", claim.want), runHost(t, fp, args...), claim.want)
				args = append([]string{"--exec", fpClient}, n.oneBlockArgs(c.block, claim.root, fpDir)...)
				check(fmt.Sprintf("faultproof's client under op-program's host (claim exit %d)", claim.want), runOpProgram(t, opHost, args...), claim.want)
			}
		})
	}
}
