package devnet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Fault is a faulty batcher's attack on derivation, aimed at the batch of one L2 block. It is made when
// the batcher first posts that block; the batcher then goes on as an honest one would: when derivation
// does not take a block whose batch it posted in full, it posts the blocks again from that one (as
// op-batcher does when the safe head stops), and when derivation makes another block than the
// sequencer's, the sequencer builds on the derived chain (a reorg of its unsafe chain).
type Fault struct {
	Kind  FaultKind
	Block uint64 // the L2 block whose batch is attacked
}

// FaultKind is what a faulty batcher does.
type FaultKind string

// The faults. Each says what the batcher posts and what op-node's derivation does with it (see the tests
// of each mode for the effect this devnet's derivation has).
const (
	// FaultWrongParent: before the batch of the block, in a channel of its own, an empty singular batch for
	// it whose parent hash is wrong. Dropped (and, from Holocene, the rest of its channel flushed).
	FaultWrongParent FaultKind = "wrong-parent"
	// FaultOldOrigin: before the batch of the block, in a channel of its own, an empty singular batch for
	// it whose L1 origin is one block beyond the sequencing window of the L1 block that carries it. Dropped.
	// Needs an L1 block older than the window.
	FaultOldOrigin FaultKind = "old-origin"
	// FaultFutureTimestamp: an empty singular batch for the block, in a channel of its own, before the
	// batches of the blocks before it (so the block must not be the first of its channels). Before Holocene
	// the batch queue keeps it for later and takes it when its turn comes: the block is empty, and the
	// sequencer builds on it. From Holocene it is dropped (with the rest of its channel), and so that
	// every pipeline drops it, its parent hash is wrong too: with the right one, a pipeline reset at the
	// block's parent, as the program's one-block claim starts, reads the batch when it is no longer in
	// the future and takes it, while a pipeline that read it with an older safe head, as op-node running
	// on, dropped it.
	FaultFutureTimestamp FaultKind = "future-timestamp"
	// FaultSpanOverlap: after the batches of the two blocks before the block, a span batch from the first
	// of them to the block, with other transactions in the two safe blocks and none in the block. Dropped:
	// it overlaps the safe chain with different transactions. The honest batches follow as a span batch
	// that overlaps the same two safe blocks with their own transactions, which derivation takes.
	// Needs span batches (Delta) and two blocks before the block in its channels.
	FaultSpanOverlap FaultKind = "span-overlap"
	// FaultInvalidTx: the block's batch carries a transaction the engine rejects instead of the
	// sequencer's. Before Holocene the payload is dropped and the batcher posts the block again; from
	// Holocene the block is replaced by its deposits alone and the sequencer builds on it.
	FaultInvalidTx FaultKind = "invalid-tx"
	// FaultUnfinishedChannel: the last frame of the block's channel is never posted. The channel never
	// completes (before Holocene it waits in the channel bank until it times out; from Holocene the next
	// channel's first frame drops it), and the batcher posts the blocks again.
	FaultUnfinishedChannel FaultKind = "unfinished-channel"
	// FaultChannelTimeout: the last frame of the block's channel is held back, and posted only after the
	// channel timed out (channel timeout + 1 L1 blocks after its first frame); the batcher posts nothing
	// in between. The late frame is dropped and the batcher posts the blocks again.
	FaultChannelTimeout FaultKind = "channel-timeout"
	// FaultFramesReordered: the frames of the block's channel are posted in reverse order, in one L1
	// block. Before Holocene the channel completes all the same; from Holocene the frames after the first
	// are dropped, the channel never completes, and the batcher posts the blocks again.
	FaultFramesReordered FaultKind = "frames-reordered"
	// FaultFramesDuplicated: every frame of the block's channel is followed, in a transaction of its own,
	// by a frame with the same channel and number but other data. Before Holocene a channel keeps the first
	// frame of each number: the duplicates are dropped and the channel reads as posted. From Holocene a
	// frame 0 always starts a new channel, so the duplicate of frame 0 makes one that does not decompress,
	// and the batcher posts the blocks again.
	FaultFramesDuplicated FaultKind = "frames-duplicated"
	// FaultWithhold: the batches of the block and of the rest of its epoch are never posted. When the
	// epoch's sequencing window ends, derivation makes those blocks from empty batches (deposits only),
	// and the sequencer builds on them. Cheap only with a short sequencing window.
	FaultWithhold FaultKind = "withhold"
)

// FaultKinds lists the faults.
var FaultKinds = []FaultKind{
	FaultWrongParent, FaultOldOrigin, FaultFutureTimestamp, FaultSpanOverlap, FaultInvalidTx,
	FaultUnfinishedChannel, FaultChannelTimeout, FaultFramesReordered, FaultFramesDuplicated, FaultWithhold,
}

func (f Fault) String() string { return fmt.Sprintf("%s@%d", f.Kind, f.Block) }

func (f Fault) check(l2Blocks uint64) error {
	if !slices.Contains(FaultKinds, f.Kind) {
		return fmt.Errorf("fault %s: unknown kind (known: %v)", f, FaultKinds)
	}
	if f.Block == 0 || f.Block > l2Blocks {
		return fmt.Errorf("fault %s: not a block of the devnet (1..%d)", f, l2Blocks)
	}
	return nil
}

// ParseFault reads a fault written as <kind>@<block>, e.g. "wrong-parent@20".
func ParseFault(s string) (Fault, error) {
	kind, at, ok := strings.Cut(s, "@")
	if !ok {
		return Fault{}, fmt.Errorf("fault %q is not <kind>@<block> (kinds: %v)", s, FaultKinds)
	}
	n, err := strconv.ParseUint(at, 10, 64)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: block: %w", s, err)
	}
	f := Fault{Kind: FaultKind(kind), Block: n}
	if !slices.Contains(FaultKinds, f.Kind) {
		return Fault{}, fmt.Errorf("fault %q: unknown kind %q (known: %v)", s, kind, FaultKinds)
	}
	return f, nil
}
