package crosscheck

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
)

// surpriseClaim is a claim of a derivation surprise and the verdict both programs must give.
type surpriseClaim struct {
	agreed, block uint64
	output        func(d *devnet.Devnet) common.Hash // the claimed output root
	want          int
	why           string
}

func honestClaim(agreed, block uint64) surpriseClaim {
	return surpriseClaim{agreed, block, func(d *devnet.Devnet) common.Hash { return d.OutputRoot(block) }, 0, "the devnet's output root"}
}

func wrongClaim(agreed, block uint64) surpriseClaim {
	return surpriseClaim{agreed, block, func(d *devnet.Devnet) common.Hash { return sweep.WrongOutput(d.OutputRoot(block)) }, 1, "a wrong output root"}
}

// claimsAround are the honest and wrong one-block claims on blocks from..to and the claims on them from
// span blocks back.
func claimsAround(from, to, span uint64) []surpriseClaim {
	var out []surpriseClaim
	for n := from; n <= to; n++ {
		out = append(out, honestClaim(n-1, n), wrongClaim(n-1, n))
	}
	return append(out, honestClaim(to-span, to), wrongClaim(to-span, to))
}

// faultBlock is the block a devnet's fault of kind k is aimed at.
func faultBlock(t *testing.T, cfg devnet.Config, k devnet.FaultKind) uint64 {
	t.Helper()
	for _, f := range cfg.Faults {
		if f.Kind == k {
			return f.Block
		}
	}
	require.FailNow(t, fmt.Sprintf("no %s fault in the devnet", k))
	return 0
}

// TestOpProgramDerivationSurprises asks op-program v1.19.0 about what our derivation does in corner cases
// the devnet's faulty batcher found, one row each: both programs must give the row's verdicts.
func TestOpProgramDerivationSurprises(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, _, _ := refbuild.OpProgram(t, opProgramVersion)
	faultsHolocene, err := devnet.Configuration("faults-holocene")
	require.NoError(t, err)
	edge, err := devnet.Configuration("holocene-edge-invalid-tx")
	require.NoError(t, err)

	for _, row := range []struct {
		name string
		cfg  devnet.Config
		// check asserts what the devnet shows of the surprise, and returns the claims to decide.
		check func(t *testing.T, d *devnet.Devnet) []surpriseClaim
	}{
		{
			// A valid empty batch for block 15 with the right parent, posted in the same L1 block as the
			// batches of blocks 12-14 but before them. A pipeline that reads it with safe head 11 (op-node
			// running on; a claim from agreed block 11) drops it as a future batch: block 15 is the
			// sequencer's. One reset at 14 (op-node restarted there; a claim from agreed block 14) reads the
			// L1 block again with safe head 14, and the batch is the next one: block 15 is empty. The devnet's
			// chain is the second. The same output root of block 15 is then valid from 14 and invalid from
			// 11, with both programs.
			name: "holocene future batch depends on the reset",
			cfg: devnet.Config{L2Blocks: 20, Forks: devnet.AllForksAtGenesis(), Faults: []devnet.Fault{{Kind: devnet.FaultFutureTimestamp, Block: 15}},
				HoloceneFutureRightParent: true},
			check: func(t *testing.T, d *devnet.Devnet) []surpriseClaim {
				require.False(t, d.Batch(15).Sequenced, "block 15 is the sequencer's: the devnet did not take the early batch")
				require.Len(t, d.L2Block(15).Transactions(), 1, "block 15 should hold the L1 info deposit alone (an empty batch)")
				// The same devnet with the batch's parent wrong: every pipeline drops it, and block 15 is
				// the sequencer's, which is what a pipeline that read the batch as a future one makes.
				running, err := devnet.New(devnet.Config{L2Blocks: 20, Forks: devnet.AllForksAtGenesis(),
					Faults: []devnet.Fault{{Kind: devnet.FaultFutureTimestamp, Block: 15}}})
				require.NoError(t, err)
				require.True(t, running.L2Block(14).Hash() == d.L2Block(14).Hash() && running.Batch(15).Sequenced,
					"the devnet with the batch's parent wrong is not the same chain up to 14 with the sequencer's block 15")
				sequencers := running.OutputRoot(15)
				return []surpriseClaim{
					{14, 15, func(d *devnet.Devnet) common.Hash { return d.OutputRoot(15) }, 0, "the empty block 15, from 14: the early batch is the next one"},
					{11, 15, func(d *devnet.Devnet) common.Hash { return d.OutputRoot(15) }, 1, "the empty block 15, from 11: the early batch was a future one"},
					{11, 15, func(*devnet.Devnet) common.Hash { return sequencers }, 0, "the sequencer's block 15, from 11"},
					{14, 15, func(*devnet.Devnet) common.Hash { return sequencers }, 1, "the sequencer's block 15, from 14"},
					{12, 15, func(d *devnet.Devnet) common.Hash { return d.OutputRoot(15) }, 1, "the empty block 15, from 12"},
					{13, 15, func(d *devnet.Devnet) common.Hash { return d.OutputRoot(15) }, 1, "the empty block 15, from 13"},
				}
			},
		},
		{
			// From Holocene a frame 0 always opens a new channel: the duplicate of frame 0, in a transaction
			// of its own with other data, replaces the channel, which then does not decompress, and the
			// batcher posts the blocks again.
			name: "holocene duplicate frames",
			cfg:  faultsHolocene.Config,
			check: func(t *testing.T, d *devnet.Devnet) []surpriseClaim {
				at := faultBlock(t, faultsHolocene.Config, devnet.FaultFramesDuplicated)
				b := d.Batch(at)
				require.True(t, b.Sequenced && b.FirstL1 > b.L1Origin+1, "block %d's batch: %+v, want the sequencer's block from a second posting", at, b)
				return claimsAround(at-1, at+6, sweep.MultiBlockSpan)
			},
		},
		{
			// Block 44 is the last before Holocene, and its batch (which the engine rejects) is read from an
			// L1 block after Holocene's time: whether it is replaced by its deposits or dropped is decided by
			// the L1 block it is derived from, as op-node does. It is replaced.
			name: "holocene edge invalid transaction",
			cfg:  edge.Config,
			check: func(t *testing.T, d *devnet.Devnet) []surpriseClaim {
				at := faultBlock(t, edge.Config, devnet.FaultInvalidTx)
				b := d.Batch(at)
				require.True(t, b.Invalid && !b.Sequenced, "block %d's batch: %+v, want a deposit-only replacement", at, b)
				require.True(t, !d.Rollup().IsHolocene(d.L2Block(at).Time()) && d.Rollup().IsHolocene(d.L1Block(b.DerivedFrom).Time()),
					"block %d is not the last before Holocene derived from an L1 block after it", at)
				return claimsAround(at-1, at+2, sweep.MultiBlockSpan)
			},
		},
	} {
		t.Run(row.name, func(t *testing.T) {
			d, err := devnet.New(row.cfg)
			require.NoError(t, err)
			claims := row.check(t, d)
			n := serveDevnet(t, row.name, d)
			native := sweep.NewNativeRunner(d, nil)
			datadir := filepath.Join(t.TempDir(), "op-program") // one run at a time, so the claims share it
			for _, sc := range claims {
				c := n.claim(sc.agreed, sc.block, sc.output(d))
				ours, err := native.Decide(context.Background(), c)
				require.NoError(t, err)
				run, err := execOpProgram(context.Background(), opHost, append(n.claimArgs(c, datadir), n.online()...)...)
				require.NoError(t, err)
				what := fmt.Sprintf("%d->%d, %s", sc.agreed, sc.block, sc.why)
				if !assert.True(t, ours == sc.want && run.verdict == sc.want, "%s: faultproof exits %d, op-program %d, want %d; op-program's log ends:\n%s",
					what, ours, run.verdict, sc.want, run.tail()) {
					continue
				}
				t.Logf("%-70s both exit %d (op-program in %s)", what, sc.want, run.took.Round(100_000_000))
			}
		})
	}
}
