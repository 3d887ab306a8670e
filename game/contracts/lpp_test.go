package contracts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

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
			t.Fatalf("pad(%d) = %d bytes", n, len(padded))
		}
		var s StateMatrix
		for i := 0; i < len(padded); i += KeccakBlockSize {
			s.Absorb(padded[i : i+KeccakBlockSize])
		}
		if got, want := common.Hash(s.Squeeze()), crypto.Keccak256Hash(data); got != want {
			t.Errorf("%d bytes: %s, want %s", n, got, want)
		}
	}
}

func TestLPPChunksKeepThePartWhole(t *testing.T) {
	data := make([]byte, 40*KeccakBlockSize+50)
	p, err := NewLargePreimage(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []uint64{0, 7, 8, 8 + 10*KeccakBlockSize - 31, 8 + 10*KeccakBlockSize - 32, 8 + 10*KeccakBlockSize - 1, 8 + 10*KeccakBlockSize, uint64(len(data)) + 7} {
		chunks, err := p.Chunks(10, off)
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		blocks := 0
		for i, c := range chunks {
			if c.Start != blocks {
				t.Fatalf("offset %d: chunk %d starts at block %d, want %d", off, i, c.Start, blocks)
			}
			end := uint64(len(all) + len(c.Input))
			if o := off - 8; off >= 8 && !c.Final && o >= uint64(len(all)) && o < end && o+32 >= end {
				t.Errorf("offset %d: chunk %d [%d, %d) ends inside the part", off, i, len(all), end)
			}
			all = append(all, c.Input...)
			blocks += len(c.Commitments)
			if c.Final != (i == len(chunks)-1) {
				t.Errorf("offset %d: chunk %d final=%v", off, i, c.Final)
			}
		}
		if !bytes.Equal(all, data) || blocks != len(p.Blocks) {
			t.Errorf("offset %d: chunks hold %d bytes in %d blocks, want %d in %d", off, len(all), blocks, len(data), len(p.Blocks))
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
	if err != nil {
		t.Fatal(err)
	}
	key := crypto.Keccak256Hash(data)
	key[0] = 2
	if p.Digest() != crypto.Keccak256Hash(data) || keccak.Sum256(data) != crypto.Keccak256Hash(data) {
		t.Fatal("digest")
	}
	const offset = 8 + 3000
	uuid := LPPUUID(key, offset)
	r, err := s.ProposeLargePreimage(from, uuid, p, offset, 12)
	if err != nil {
		t.Fatal(err)
	}
	// Squeezing during the challenge period is refused.
	s.Chain.Advance(12)
	var rev *RevertError
	if _, err := s.SqueezeLargePreimage(from, uuid, p); !errors.As(err, &rev) || rev.Reason != "ActiveProposal()" {
		t.Fatalf("squeeze in the challenge period: %v", err)
	}
	s.Chain.Advance(s.Params.OracleChallengePeriod + 1)
	balance := s.Chain.Balance(from)
	if r.Squeeze, err = s.SqueezeLargePreimage(from, uuid, p); err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).Sub(s.Chain.Balance(from), balance); got.Cmp(LPPMinBond) != 0 {
		t.Errorf("bond returned %s, want %s", got, LPPMinBond)
	}
	t.Logf("%d blocks in %d addLeavesLPP calls, %d gas in all", len(p.Blocks), len(r.Leaves), r.GasUsed())
	ok, err := s.PreimagePartOk(key, offset)
	if err != nil || !ok {
		t.Fatalf("part not ok: %v", err)
	}
	part, n, err := s.ReadPreimage(key, offset)
	if err != nil {
		t.Fatal(err)
	}
	prefixed := binary.BigEndian.AppendUint64(nil, uint64(len(data)))
	prefixed = append(prefixed, data...)
	if n != 32 || !bytes.Equal(part[:], prefixed[offset:offset+32]) {
		t.Errorf("part %x (%d bytes), want %x", part, n, prefixed[offset:offset+32])
	}
}
