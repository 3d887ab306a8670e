package devnet

import (
	"maps"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/preimage"
)

// verifiedOracle serves preimages from a map, checked against their keys.
type verifiedOracle map[[32]byte][]byte

func (o verifiedOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	return o[k], preimage.Verify(k, o[k])
}

func (verifiedOracle) Hint(preimage.Hint) error { return nil }

// TestHoloceneFutureBatchDependsOnReset shows why FaultFutureTimestamp gives its batch a wrong parent hash
// from Holocene on. A batcher posts a valid, empty batch for block 15 before the batches of blocks 12 to
// 14 of the same epoch, all in one L1 block, then the honest batch for 15. A Holocene pipeline that reads
// the early batch with its safe head before 14, as op-node running on does and as the program does from
// an agreed block before 14, drops it as a future batch, and block 15 is the sequencer's. A pipeline reset
// at block 14, as the program does for the one-block claim 14 -> 15 (and op-node after a restart there),
// re-reads the L1 block with safe head 14, finds the batch is the next one and takes it: block 15 is empty.
// The program's verdicts on the same output root of block 15 then depend on the agreed block.
func TestHoloceneFutureBatchDependsOnReset(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a devnet and derives and executes L2 blocks")
	}
	d, err := New(Config{L2Blocks: 20, Forks: AllForksAtGenesis(), Faults: []Fault{{FaultFutureTimestamp, 15}}, HoloceneFutureRightParent: true})
	require.NoError(t, err)
	decide := func(agreed uint64) error {
		local, err := d.LocalPreimages(agreed, d.OutputRoot(15), 15)
		require.NoError(t, err)
		o := verifiedOracle(d.Preimages())
		maps.Copy(o, local)
		return client.Run(log.NewLogger(log.DiscardHandler()), o, o)
	}
	// The devnet derives after each L1 block from its safe head: the batch is taken by the derivation reset
	// at 14 that follows the L1 block with the honest batches of 12 to 14.
	require.False(t, d.Batch(15).Sequenced)
	require.NoError(t, decide(14), "from 14: the early batch is the next one and is taken")
	require.ErrorIs(t, decide(11), client.ErrClaimNotValid, "from 11: the early batch is dropped as a future batch")
}
