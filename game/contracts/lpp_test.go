package contracts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/game/internal/keccak"
)

// TestKeccakMatrix: absorbing the padded blocks and squeezing is keccak256, at lengths around the block
// boundaries.
func TestKeccakMatrix(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 135, 136, 137, 271, 272, 273, 1000, 4129} {
		data := make([]byte, n)
		rng.Read(data)
		padded := KeccakPad(data)
		if len(padded)%KeccakBlockSize != 0 || len(padded) <= n {
			require.FailNow(t, fmt.Sprintf("pad(%d) = %d bytes", n, len(padded)))
		}
		var s StateMatrix
		for i := 0; i < len(padded); i += KeccakBlockSize {
			s.Absorb(padded[i : i+KeccakBlockSize])
		}
		got, want := common.Hash(s.Squeeze()), crypto.Keccak256Hash(data)
		require.Equal(t, want, got, "%d bytes: %s, want %s", n, got, want)
	}
}

func TestLPPChunksKeepThePartWhole(t *testing.T) {
	data := make([]byte, 40*KeccakBlockSize+50)
	p, err := NewLargePreimage(data)
	require.NoError(t, err)
	for _, off := range []uint64{0, 7, 8, 8 + 10*KeccakBlockSize - 31, 8 + 10*KeccakBlockSize - 32, 8 + 10*KeccakBlockSize - 1, 8 + 10*KeccakBlockSize, uint64(len(data)) + 7} {
		chunks, err := p.Chunks(10, off)
		require.NoError(t, err)
		var all []byte
		blocks := 0
		for i, c := range chunks {
			require.Equal(t, blocks, c.Start, "offset %d: chunk %d starts at block %d, want %d", off, i, c.Start, blocks)
			end := uint64(len(all) + len(c.Input))
			if o := off - 8; off >= 8 && !c.Final && o >= uint64(len(all)) && o < end && o+32 >= end {
				require.FailNow(t, fmt.Sprintf("offset %d: chunk %d [%d, %d) ends inside the part", off, i, len(all), end))
			}
			all = append(all, c.Input...)
			blocks += len(c.Commitments)
			if c.Final != (i == len(chunks)-1) {
				require.FailNow(t, fmt.Sprintf("offset %d: chunk %d final=%v", off, i, c.Final))
			}
		}
		if !bytes.Equal(all, data) || blocks != len(p.Blocks) {
			require.FailNow(t, fmt.Sprintf("offset %d: chunks hold %d bytes in %d blocks, want %d in %d", off, len(all), blocks, len(data), len(p.Blocks)))
		}
	}
}

// TestLargePreimageProposal plays a proposal on the oracle: init, leaves in chunks, the challenge period,
// the squeeze; then the part is the pre-image's, under its keccak256 key, for a step to read.
func TestLargePreimageProposal(t *testing.T) {
	s := testSystem(t, testParams())
	from := common.HexToAddress("0x3000")
	s.Chain.Fund(from, big.NewInt(1e18))
	data := make([]byte, 5000)
	rand.New(rand.NewSource(2)).Read(data)
	p, err := NewLargePreimage(data)
	require.NoError(t, err)
	key := crypto.Keccak256Hash(data)
	key[0] = 2
	if p.Digest() != crypto.Keccak256Hash(data) || keccak.Sum256(data) != crypto.Keccak256Hash(data) {
		require.FailNow(t, "digest")
	}
	const offset = 8 + 3000
	uuid := LPPUUID(key, offset)
	r, err := s.ProposeLargePreimage(from, uuid, p, offset, 12)
	require.NoError(t, err)
	// Squeezing during the challenge period is refused.
	s.Chain.Advance(12)
	var rev *RevertError
	if _, err := s.SqueezeLargePreimage(from, uuid, p); !errors.As(err, &rev) || rev.Reason != "ActiveProposal()" {
		require.FailNow(t, fmt.Sprintf("squeeze in the challenge period: %v", err))
	}
	s.Chain.Advance(s.Params.OracleChallengePeriod + 1)
	balance := s.Chain.Balance(from)
	if r.Squeeze, err = s.SqueezeLargePreimage(from, uuid, p); err != nil {
		require.NoError(t, err)
	}
	got := new(big.Int).Sub(s.Chain.Balance(from), balance)
	require.Equal(t, 0, got.Cmp(LPPMinBond), "bond returned %s, want %s", got, LPPMinBond)
	t.Logf("%d blocks in %d addLeavesLPP calls, %d gas in all", len(p.Blocks), len(r.Leaves), r.GasUsed())
	ok, err := s.PreimagePartOk(key, offset)
	if err != nil || !ok {
		require.FailNow(t, fmt.Sprintf("part not ok: %v", err))
	}
	part, n, err := s.ReadPreimage(key, offset)
	require.NoError(t, err)
	prefixed := binary.BigEndian.AppendUint64(nil, uint64(len(data)))
	prefixed = append(prefixed, data...)
	if n != 32 || !bytes.Equal(part[:], prefixed[offset:offset+32]) {
		require.FailNow(t, fmt.Sprintf("part %x (%d bytes), want %x", part, n, prefixed[offset:offset+32]))
	}
}
