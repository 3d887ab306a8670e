package devnet_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
)

// mapOracle serves preimages from a map, checking every answer against its key as the channel does, and
// records hints.
type mapOracle struct {
	values map[[32]byte][]byte
	hints  []string
}

func (o *mapOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := o.values[k]
	if !ok {
		return nil, fmt.Errorf("missing preimage %x", k)
	}
	return v, preimage.Verify(k, v)
}

func (o *mapOracle) Hint(h preimage.Hint) error { o.hints = append(o.hints, h.Hint()); return nil }

// hintTypes are the types of the hints received.
func (o *mapOracle) hintTypes() []string {
	var out []string
	for _, h := range o.hints {
		typ, _, _ := strings.Cut(h, " ")
		if !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	return out
}

// runProgram runs the fault proof program natively on the devnet for a claim at claimBlock, with the
// output of agreed as the agreed output and, unless l1Head is nil, another L1 head than the devnet's.
func runProgram(t *testing.T, d *devnet.Devnet, agreed uint64, claim common.Hash, claimBlock uint64, l1Head *common.Hash) (*mapOracle, error) {
	t.Helper()
	local, err := d.LocalPreimages(agreed, claim, claimBlock)
	require.NoError(t, err)
	if l1Head != nil {
		local[preimage.L1HeadLocalIndex.PreimageKey()] = l1Head.Bytes()
	}
	values := d.Preimages()
	maps.Copy(values, local)
	o := &mapOracle{values: values}
	return o, client.Run(log.NewLogger(log.DiscardHandler()), o, o)
}

func TestProgramDerivesTheDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("derives and executes L2 blocks")
	}
	d := testDevnet(t)
	head := d.L2Head().NumberU64()
	// The first block whose batch came in blobs, and the Holocene activation block.
	blobBlock := uint64(0)
	for n := uint64(1); n <= head; n++ {
		if d.Batch(n).Blob {
			blobBlock = n
			break
		}
	}
	require.NotZero(t, blobBlock)
	holocene := forkBlock(t, d, *d.Rollup().HoloceneTime)
	ecotone := forkBlock(t, d, *d.Rollup().EcotoneTime)
	karst := forkBlock(t, d, *d.Rollup().KarstTime)

	tests := []struct {
		name          string
		agreed, claim uint64
	}{
		{"from genesis: bedrock, regolith and the first deposits", 0, 7},
		{"across the Delta activation: singular then span batches", 13, 19},
		{"blocks batched in blobs", blobBlock - 1, blobBlock + 1},
		{"the Ecotone activation block", ecotone - 1, ecotone},
		{"across the Holocene activation", holocene - 2, holocene + 1},
		{"from the middle of a span batch across Isthmus and Jovian", forkBlock(t, d, *d.Rollup().IsthmusTime) - 1, forkBlock(t, d, *d.Rollup().JovianTime) + 1},
		{"the Karst activation block to the last block", karst - 1, head},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := runProgram(t, d, tt.agreed, d.OutputRoot(tt.claim), tt.claim, nil)
			require.NoError(t, err, "honest claim at %d from %d", tt.claim, tt.agreed)
			require.Contains(t, o.hintTypes(), preimage.HintL1Receipts, "derivation reads L1")
			blobs := false
			for n := tt.agreed + 1; n <= tt.claim; n++ {
				blobs = blobs || d.Batch(n).Blob
			}
			if blobs {
				require.Contains(t, o.hintTypes(), preimage.HintL1Blob)
			}
			_, err = runProgram(t, d, tt.agreed, common.Hash{0xba, 0xd}, tt.claim, nil)
			require.ErrorIs(t, err, client.ErrClaimNotValid)
			_, err = runProgram(t, d, tt.agreed, d.OutputRoot(tt.claim-1), tt.claim, nil)
			require.ErrorIs(t, err, client.ErrClaimNotValid, "the previous block's output")
		})
	}

	// With an L1 head before the last frame of block n's channel, derivation stops at the block before
	// the channel: the claim about n is judged there.
	t.Run("l1 head before the batch", func(t *testing.T) {
		n := holocene + 3
		early := d.Batch(n).LastL1 - 1
		safe := n
		for safe > 0 && d.Batch(safe).LastL1 > early {
			safe--
		}
		require.Less(t, safe, n)
		require.Greater(t, safe, holocene-6)
		l1Head := d.L1Block(early).Hash()
		_, err := runProgram(t, d, holocene-6, d.OutputRoot(n), n, &l1Head)
		require.ErrorIs(t, err, client.ErrClaimNotValid)
		_, err = runProgram(t, d, holocene-6, d.OutputRoot(safe), n, &l1Head)
		require.NoError(t, err)
	})
}

// forkBlock is the activation block of the fork activating at time ft.
func forkBlock(t *testing.T, d *devnet.Devnet, ft uint64) uint64 {
	r := d.Rollup()
	require.Zero(t, (ft-r.Genesis.L2Time)%r.BlockTime)
	return (ft - r.Genesis.L2Time) / r.BlockTime
}

// TestProgramReplacesInvalidBatches: a faulty batcher posts, for blocks after Holocene, batches whose
// transaction the engine rejects. The program must derive the deposit-only replacement of each
// (holocene/derivation.md), which op-geth built independently from the attributes' deposits, and judge
// claims on it: the replacement's output is valid, anything else is not.
func TestProgramReplacesInvalidBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("derives and executes L2 blocks")
	}
	holocene := uint64(45) // DevnetForkHeights
	bad := []uint64{holocene + 2, holocene + 8}
	d, err := devnet.New(devnet.Config{L2Blocks: holocene + 12, InvalidBatchAt: bad})
	require.NoError(t, err)
	require.Equal(t, holocene, forkBlock(t, d, *d.Rollup().HoloceneTime))
	for _, n := range bad {
		require.True(t, d.Batch(n).Invalid)
		require.NotEqual(t, d.Batch(n).Channel, d.Batch(n+1).Channel, "block %d ends its channel", n)
		for _, tx := range d.L2Block(n).Transactions() {
			require.Equal(t, uint8(types.DepositTxType), tx.Type(), "block %d holds deposits only", n)
		}
	}
	require.False(t, d.Batch(holocene+3).Invalid)
	require.Greater(t, len(d.L2Block(holocene+3).Transactions()), 1, "other blocks carry the sequencer's transactions")

	for _, tt := range []struct {
		name          string
		agreed, claim uint64
	}{
		{"the replaced block", bad[0] - 1, bad[0]},
		{"across a replaced block", bad[0] - 2, bad[0] + 2},
		{"a replaced block whose batch came after another replaced one", bad[0], bad[1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := runProgram(t, d, tt.agreed, d.OutputRoot(tt.claim), tt.claim, nil)
			require.NoError(t, err, "honest claim at %d from %d", tt.claim, tt.agreed)
			witnesses := 0
			for _, h := range o.hints {
				if strings.HasPrefix(h, preimage.HintL2PayloadWitness+" ") {
					witnesses++
				}
			}
			replaced := 0
			for n := tt.agreed + 1; n <= tt.claim; n++ {
				if d.Batch(n).Invalid {
					replaced++
				}
			}
			require.Positive(t, replaced)
			// Each replaced block is built twice: the batch's attributes, rejected, then the deposits alone.
			require.Equal(t, int(tt.claim-tt.agreed)+replaced, witnesses, "blocks built")
			_, err = runProgram(t, d, tt.agreed, common.Hash{0xba, 0xd}, tt.claim, nil)
			require.ErrorIs(t, err, client.ErrClaimNotValid)
		})
	}
}
