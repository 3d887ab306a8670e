// Package derive_test checks faultproof's derive codecs against op-node's op-node/rollup/derive: what one
// encodes the other decodes to the same values, and on the same (often malformed) input both accept or
// both reject, at the same level (whole channel, single batch, span batch derivation).
package derive_test

import (
	"bytes"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

const (
	blockTime   = 2
	genesisTime = 1_700_000_000
)

var chainID = big.NewInt(10)

func u64p(v uint64) *uint64 { return &v }

func ourConfig() *rollup.Config {
	return &rollup.Config{
		BlockTime: blockTime, Genesis: rollup.Genesis{L2Time: genesisTime}, L2ChainID: chainID,
		RegolithTime: u64p(0), CanyonTime: u64p(0), DeltaTime: u64p(0), EcotoneTime: u64p(0), FjordTime: u64p(0),
	}
}

func opConfig() *oprollup.Config {
	return &oprollup.Config{BlockTime: blockTime, Genesis: oprollup.Genesis{L2Time: genesisTime}, L2ChainID: chainID}
}

// iterations scales a loop count down in -short mode.
func iterations(full int) int {
	if testing.Short() {
		return max(1, full/10)
	}
	return full
}

// randomBatches makes n consecutive singular batches: timestamps blockTime apart, L1 origins that stay or
// advance by one, transactions of every kind (post-exec ones if postExec).
func randomBatches(rng *rand.Rand, n int, postExec bool) []*derive.SingularBatch {
	out := make([]*derive.SingularBatch, n)
	epoch := uint64(rng.Intn(1 << 20))
	ts := uint64(genesisTime + blockTime*rng.Intn(1<<20))
	epochHash := randomHash(rng)
	for i := range out {
		if i > 0 && rng.Intn(3) == 0 {
			epoch++
			epochHash = randomHash(rng)
		}
		b := &derive.SingularBatch{ParentHash: randomHash(rng), EpochNum: epoch, EpochHash: epochHash, Timestamp: ts}
		for range rng.Intn(6) {
			kind := rng.Intn(derivetest.NumKinds)
			if kind == derivetest.PostExec && !postExec {
				kind = derivetest.LegacyProtected
			}
			b.Transactions = append(b.Transactions, derivetest.RandomTx(rng, chainID, kind))
		}
		out[i] = b
		ts += blockTime
	}
	return out
}

func randomHash(rng *rand.Rand) common.Hash {
	var h common.Hash
	rng.Read(h[:])
	return h
}

func toOpSingular(b *derive.SingularBatch) *opderive.SingularBatch {
	return &opderive.SingularBatch{
		ParentHash: b.ParentHash, EpochNum: oprollup.Epoch(b.EpochNum), EpochHash: b.EpochHash,
		Timestamp: b.Timestamp, Transactions: b.Transactions,
	}
}

// requireSameSingular compares our singular batch with op-node's, field by field.
func requireSameSingular(t testing.TB, ours *derive.SingularBatch, op *opderive.SingularBatch) {
	t.Helper()
	require.Equal(t, ours.ParentHash, op.ParentHash, "parent_hash")
	require.Equal(t, ours.EpochNum, uint64(op.EpochNum), "epoch_number")
	require.Equal(t, ours.EpochHash, op.EpochHash, "epoch_hash")
	require.Equal(t, ours.Timestamp, op.Timestamp, "timestamp")
	requireSameTxs(t, ours.Transactions, op.Transactions)
}

func requireSameTxs(t testing.TB, a, b []hexutil.Bytes) {
	t.Helper()
	require.Equal(t, len(a), len(b), "transaction count")
	for i := range a {
		require.True(t, bytes.Equal(a[i], b[i]), "transaction %d:\n ours %x\n op   %x", i, a[i], b[i])
	}
}

// requireSameSpan compares our derived span batch with op-node's, block by block.
func requireSameSpan(t testing.TB, ours *derive.SpanBatch, op *opderive.SpanBatch) {
	t.Helper()
	require.Equal(t, op.ParentCheck, ours.ParentCheck, "parent_check")
	require.Equal(t, op.L1OriginCheck, ours.L1OriginCheck, "l1_origin_check")
	require.Equal(t, len(op.Batches), len(ours.Blocks), "block count")
	for i, ob := range op.Batches {
		b := ours.Blocks[i]
		require.Equal(t, ob.Timestamp, b.Timestamp, "block %d timestamp", i)
		require.Equal(t, uint64(ob.EpochNum), b.EpochNum, "block %d epoch", i)
		requireSameTxs(t, b.Transactions, ob.Transactions)
	}
}

// mutate returns a randomly damaged copy of data: bytes flipped or replaced, a cut, an insertion, a
// deletion, or a few of these.
func mutate(rng *rand.Rand, data []byte) []byte {
	out := append([]byte{}, data...)
	for range 1 + rng.Intn(3) {
		if len(out) == 0 {
			return append(out, byte(rng.Intn(256)))
		}
		i := rng.Intn(len(out))
		switch rng.Intn(7) {
		case 0:
			out[i] ^= 1 << rng.Intn(8)
		case 1:
			out[i] = byte(rng.Intn(256))
		case 2:
			special := []byte{0, 1, 2, 3, 4, 0x7d, 0x7e, 0x7f, 0x80, 0xb8, 0xc0, 0xf7, 0xf8, 0xff}
			out[i] = special[rng.Intn(len(special))]
		case 3:
			out = out[:i]
		case 4:
			out = append(out[:i], append([]byte{byte(rng.Intn(256))}, out[i:]...)...)
		case 5:
			j := min(len(out), i+1+rng.Intn(8))
			out = append(out[:i], out[j:]...)
		case 6:
			out = append(out, make([]byte, rng.Intn(4))...)
		}
	}
	return out
}
