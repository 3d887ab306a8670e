package devnet_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
)

// The two derivation regimes the faults are tried in: before Holocene (Regolith to Fjord at genesis, so
// span batches, blobs and brotli but the pre-Holocene batch queue and channel bank) and from Holocene
// (every fork at genesis).
var (
	preHolocene = mustForks("fjord@0")
	holocene    = devnet.AllForksAtGenesis()
)

func mustForks(s string) devnet.ForkSchedule {
	f, err := devnet.ParseForks(s)
	if err != nil {
		panic(err)
	}
	return f
}

// userTxs counts the non-deposit transactions of a block.
func userTxs(b *types.Block) int {
	n := 0
	for _, tx := range b.Transactions() {
		if tx.Type() != types.DepositTxType {
			n++
		}
	}
	return n
}

// checkClaims runs the program on the honest and a wrong output root of block from agreed.
func checkClaims(t *testing.T, d *devnet.Devnet, agreed, block uint64) []record {
	t.Helper()
	logs, err := programLogs(t, d, agreed, d.OutputRoot(block), block)
	require.NoError(t, err, "honest claim %d->%d", agreed, block)
	wrong := d.OutputRoot(block)
	wrong[31] ^= 1
	_, err = programLogs(t, d, agreed, wrong, block)
	require.ErrorIs(t, err, client.ErrClaimNotValid, "wrong claim %d->%d", agreed, block)
	return logs
}

// TestFaults builds a devnet with one faulty-batcher attack, before Holocene and from Holocene, and checks
// that the attack had its effect on derivation (the devnet's chain, and the verdicts and events the
// program logs while it derives across the attacked block) and that the program decides honest and wrong
// claims across the block: from the block before it (a reset at its parent) and from further back.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a devnet per fault and derives and executes L2 blocks")
	}
	const b = 15 // the attacked block: the fourth of its epoch (L1 origin 2), batched from L1 block 3 on
	ts := uint64(devnet.L1GenesisTime + 2*b)
	tests := []struct {
		name  string
		cfg   devnet.Config
		block uint64
		check func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record)
	}{
		{"wrong-parent/pre-holocene", devnet.Config{Forks: preHolocene}, b, checkWrongParent},
		{"wrong-parent/holocene", devnet.Config{Forks: holocene}, b, checkWrongParent},
		{"old-origin/pre-holocene", devnet.Config{Forks: preHolocene, SeqWindowSize: 6}, 45, checkOldOrigin},
		{"old-origin/holocene", devnet.Config{Forks: holocene, SeqWindowSize: 6}, 45, checkOldOrigin},
		{"future-timestamp/pre-holocene", devnet.Config{Forks: preHolocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			// Kept for later, then taken: the block is empty and the sequencer built on it.
			vs := verdictsAt(back, ts)
			requireBefore(t, vs, verdict{"singular", "future", string(derive.RuleFutureTimestamp)}, verdict{"singular", "accept", string(derive.RuleValid)})
			require.NotContains(t, vs, verdict{"singular", "drop", string(derive.RuleParentHash)})
			require.False(t, d.Batch(b).Sequenced)
			require.Zero(t, userTxs(d.L2Block(b)))
			require.True(t, d.Batch(b+1).Sequenced)
			require.Positive(t, userTxs(d.L2Block(b+1)), "the sequencer goes on from the empty block")
		}},
		{"future-timestamp/holocene", devnet.Config{Forks: holocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			require.Contains(t, verdictsAt(back, ts), verdict{"singular", "drop", string(derive.RuleFutureTimestamp)}, "from before the batches it overtakes")
			require.Contains(t, verdictsAt(logs, ts), verdict{"singular", "drop", string(derive.RuleParentHash)}, "from its parent: its parent hash is wrong too")
			require.True(t, d.Batch(b).Sequenced)
			require.Positive(t, userTxs(d.L2Block(b)))
		}},
		{"span-overlap/pre-holocene", devnet.Config{Forks: preHolocene}, b, checkSpanOverlap},
		{"span-overlap/holocene", devnet.Config{Forks: holocene}, b, checkSpanOverlap},
		{"invalid-tx/pre-holocene", devnet.Config{Forks: preHolocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			// Dropped by the engine; the batcher posts the block again.
			require.True(t, logged(logs, "Dropping invalid payload attributes"))
			require.True(t, d.Batch(b).Sequenced)
			require.False(t, d.Batch(b).Invalid)
			require.Positive(t, userTxs(d.L2Block(b)))
			require.Greater(t, d.Batch(b).FirstL1, d.Batch(b).L1Origin+1, "block %d comes from a second posting", b)
		}},
		{"invalid-tx/holocene", devnet.Config{Forks: holocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			require.True(t, logged(logs, "Replacing invalid payload with a deposit-only block"))
			require.True(t, d.Batch(b).Invalid)
			require.False(t, d.Batch(b).Sequenced)
			require.Zero(t, userTxs(d.L2Block(b)))
			require.Positive(t, userTxs(d.L2Block(b+1)), "the sequencer goes on from the deposit-only block")
		}},
		{"unfinished-channel/pre-holocene", devnet.Config{Forks: preHolocene}, b, checkReposted},
		{"unfinished-channel/holocene", devnet.Config{Forks: holocene}, b, checkReposted},
		{"channel-timeout/pre-holocene", devnet.Config{Forks: preHolocene, ChannelTimeout: 4}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			require.True(t, logged(back, "Channel timed out"))
			checkReposted(t, d, n, logs, back)
			require.Greater(t, d.Batch(b).FirstL1, d.Batch(b).L1Origin+1+4, "posted again after the channel timed out")
		}},
		{"channel-timeout/holocene", devnet.Config{Forks: holocene, L2Blocks: 30}, 27, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			require.True(t, logged(back, "Channel timed out"))
			require.Greater(t, d.Batch(27).FirstL1, d.Batch(27).L1Origin+1+50, "posted again after the channel timed out (50 L1 blocks from Granite)")
			require.True(t, d.Batch(27).Sequenced)
		}},
		{"frames-reordered/pre-holocene", devnet.Config{Forks: preHolocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			// The channel completes all the same, in the L1 block that carries it.
			info := d.Batch(b)
			require.Equal(t, info.L1Origin+1, info.FirstL1)
			require.Equal(t, info.FirstL1, info.DerivedFrom)
		}},
		{"frames-reordered/holocene", devnet.Config{Forks: holocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			require.True(t, logged(logs, "Dropping non-first frame without a channel"))
			checkReposted(t, d, n, logs, back)
		}},
		{"frames-duplicated/pre-holocene", devnet.Config{Forks: preHolocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			// The first frame of each number stays: the channel reads as posted.
			require.True(t, logged(logs, "Dropping frame"))
			require.Equal(t, d.Batch(b).L1Origin+1, d.Batch(b).FirstL1)
			require.Equal(t, d.Batch(b).FirstL1, d.Batch(b).DerivedFrom)
		}},
		{"frames-duplicated/holocene", devnet.Config{Forks: holocene}, b, func(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
			// A first frame starts a new channel: the duplicate of frame 0 replaces the channel with one that
			// does not decompress.
			require.True(t, logged(logs, "Dropping channel that cannot be read"), "the duplicate makes the channel unreadable")
			checkReposted(t, d, n, logs, back)
		}},
		{"withhold/pre-holocene", devnet.Config{Forks: preHolocene, SeqWindowSize: 6}, b, checkWithhold},
		{"withhold/holocene", devnet.Config{Forks: holocene, SeqWindowSize: 6}, b, checkWithhold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, _, _ := strings.Cut(tt.name, "/")
			cfg := tt.cfg
			if cfg.L2Blocks == 0 {
				cfg.L2Blocks = tt.block + 9
			}
			cfg.Faults = []devnet.Fault{{Kind: devnet.FaultKind(kind), Block: tt.block}}
			d, err := devnet.New(cfg)
			require.NoError(t, err)
			n := tt.block
			logs := checkClaims(t, d, n-1, n)
			back := checkClaims(t, d, n-4, n+1)
			tt.check(t, d, n, logs, back)
		})
	}
}

func checkWrongParent(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
	ts := d.L2Block(n).Time()
	for _, l := range [][]record{logs, back} {
		requireDropThenAccept(t, verdictsAt(l, ts), derive.RuleParentHash)
	}
	require.True(t, d.Batch(n).Sequenced)
	require.Positive(t, userTxs(d.L2Block(n)))
}

func checkOldOrigin(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
	ts := d.L2Block(n).Time()
	for _, l := range [][]record{logs, back} {
		requireDropThenAccept(t, verdictsAt(l, ts), derive.RuleSeqWindow)
	}
	require.True(t, d.Batch(n).Sequenced)
	require.Positive(t, userTxs(d.L2Block(n)))
}

func checkSpanOverlap(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
	// The attack starts two blocks before the block, over the safe chain, with other transactions; the
	// honest span batch after it overlaps the same blocks with theirs.
	start := d.L2Block(n - 2).Time()
	for _, l := range [][]record{logs, back} {
		vs := verdictsAt(l, start)
		requireBefore(t, vs, verdict{"span", "drop", string(derive.RuleOverlapTxCount)}, verdict{"span", "accept", string(derive.RuleValid)})
	}
	require.True(t, d.Batch(n).Sequenced)
	require.True(t, d.Batch(n).Span)
	require.Positive(t, userTxs(d.L2Block(n)))
}

// checkReposted: the block's first posting did not give it; it comes from the batcher's second posting.
func checkReposted(t *testing.T, d *devnet.Devnet, n uint64, _, _ []record) {
	info := d.Batch(n)
	require.True(t, info.Sequenced)
	require.Positive(t, userTxs(d.L2Block(n)))
	require.Greater(t, info.FirstL1, info.L1Origin+1, "block %d comes from a second posting", n)
	require.GreaterOrEqual(t, info.DerivedFrom, info.LastL1)
}

func checkWithhold(t *testing.T, d *devnet.Devnet, n uint64, logs, back []record) {
	// The block and the rest of its epoch (15 to 17, L1 origin 2) are never batched: when the window of
	// epoch 2 ends (L1 block 2+6), derivation makes them from empty batches.
	require.True(t, logged(logs, "Generating an empty batch"))
	for m := n; m <= 17; m++ {
		info := d.Batch(m)
		require.False(t, info.Sequenced, "block %d", m)
		require.Zero(t, userTxs(d.L2Block(m)), "block %d", m)
		require.EqualValues(t, 2, info.L1Origin)
		require.EqualValues(t, 2+6, info.DerivedFrom, "block %d", m)
	}
	require.True(t, d.Batch(18).Sequenced, "the sequencer goes on from the empty blocks")
	require.Positive(t, userTxs(d.L2Block(18)))
}

// requireBefore requires verdict a, then b later, among vs.
func requireBefore(t *testing.T, vs []verdict, a, b verdict) {
	t.Helper()
	i := slices.Index(vs, a)
	require.GreaterOrEqual(t, i, 0, "no %s among %v", a, vs)
	require.Contains(t, vs[i+1:], b, "no %s after %s among %v", b, a, vs)
}

// requireDropThenAccept: the attack's batch is dropped by rule, then an honest batch for the block taken.
func requireDropThenAccept(t *testing.T, vs []verdict, rule derive.BatchRule) {
	t.Helper()
	i := slices.Index(vs, verdict{"singular", "drop", string(rule)})
	require.GreaterOrEqual(t, i, 0, "no drop by %q among %v", rule, vs)
	require.True(t, slices.ContainsFunc(vs[i+1:], func(v verdict) bool { return v.validity == "accept" }), "no accept after the drop among %v", vs)
}

// TestFaultsInvalid: faults a devnet cannot make are refused with the reason.
func TestFaultsInvalid(t *testing.T) {
	for _, tc := range []struct {
		fault devnet.Fault
		cfg   devnet.Config
		err   string
	}{
		{devnet.Fault{Kind: devnet.FaultFutureTimestamp, Block: 12}, devnet.Config{L2Blocks: 20}, "first of its channels"},
		{devnet.Fault{Kind: devnet.FaultSpanOverlap, Block: 13}, devnet.Config{L2Blocks: 20, Forks: holocene}, "need 2"},
		{devnet.Fault{Kind: devnet.FaultSpanOverlap, Block: 9}, devnet.Config{L2Blocks: 12}, "no span batches before Delta"},
		{devnet.Fault{Kind: devnet.FaultOldOrigin, Block: 9}, devnet.Config{L2Blocks: 12}, "outside its sequencing window"},
		{devnet.Fault{Kind: "sideways", Block: 9}, devnet.Config{L2Blocks: 12}, "unknown kind"},
		{devnet.Fault{Kind: devnet.FaultWithhold, Block: 13}, devnet.Config{L2Blocks: 12}, "not a block of the devnet"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			cfg := tc.cfg
			cfg.Faults = []devnet.Fault{tc.fault}
			_, err := devnet.New(cfg)
			require.ErrorContains(t, err, tc.err)
			require.ErrorContains(t, err, fmt.Sprint(tc.fault.Block))
		})
	}
}
