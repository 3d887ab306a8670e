package l1

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

func TestBlobHintGolden(t *testing.T) {
	ref := BlobRef{
		L1Timestamp:   0x0102030405060708,
		Index:         5, // not sent
		VersionedHash: common.HexToHash("0x01a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"),
	}
	hint := preimage.TypedHint{Type: preimage.HintL1Blob, Data: blobHintData(ref)}.Hint()
	require.Equal(t, "l1-blob 0x01a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0102030405060708", hint)
}

func TestGetBlob(t *testing.T) {
	blob := seededBlob(1)
	host := newFakeHost()
	commitment, vh := host.putBlob(t, blob)
	o := NewOracle(host, host)
	ref := BlobRef{L1Timestamp: 1_750_000_123, Index: 2, VersionedHash: vh}

	got, err := o.GetBlob(ref)
	require.NoError(t, err)
	require.Equal(t, blob, got)

	// One hint, then the commitment, then the 4096 field elements in order.
	require.Equal(t, []string{"l1-blob " + hexutil(binary.BigEndian.AppendUint64(vh.Bytes(), 1_750_000_123))}, host.hints)
	require.Len(t, host.gets, 1+params.BlobTxFieldElementsPerBlob)
	require.Equal(t, preimage.Sha256Key(vh).PreimageKey(), host.gets[0])
	for i := range params.BlobTxFieldElementsPerBlob {
		key, _ := layout.FieldElementKey(&commitment, i)
		require.Equal(t, key.PreimageKey(), host.gets[1+i], "element %d", i)
	}

	host.reset()
	again, err := o.GetBlob(ref)
	require.NoError(t, err)
	require.Same(t, got, again)
	require.Empty(t, host.hints)
	require.Empty(t, host.gets)
}

func hexutil(b []byte) string { return fmt.Sprintf("0x%x", b) }

func TestGetBlobDetectsTampering(t *testing.T) {
	blob := seededBlob(2)
	commitment, err := kzg4844.BlobToCommitment(blob)
	require.NoError(t, err)
	vh := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &commitment))
	otherCommitment, err := kzg4844.BlobToCommitment(seededBlob(3))
	require.NoError(t, err)

	tamperedElement := func(i int, value []byte) func(h *fakeHost) {
		return func(h *fakeHost) {
			key, _ := layout.FieldElementKey(&commitment, i)
			h.lies[key.PreimageKey()] = value
		}
	}
	flipped := append([]byte{}, blob[7*32:8*32]...)
	flipped[31] ^= 1
	overModulus := make([]byte, 32)
	for i := range overModulus {
		overModulus[i] = 0xff
	}
	wrongVersion := vh
	wrongVersion[0] = 0x02

	tests := []struct {
		name    string
		ref     common.Hash
		tamper  func(h *fakeHost)
		wantErr string
	}{
		{"tampered field element", vh, tamperedElement(7, flipped), "field elements commit to"},
		{"tampered last element", vh, tamperedElement(4095, make([]byte, 32)), "field elements commit to"},
		{"non-canonical field element", vh, tamperedElement(0, overModulus), "not below the BLS12-381 modulus"},
		{"short field element", vh, tamperedElement(9, make([]byte, 31)), "field element 9"},
		{"missing field element", vh, func(h *fakeHost) {
			key, _ := layout.FieldElementKey(&commitment, 100)
			delete(h.store, key.PreimageKey())
		}, func() string {
			key, _ := layout.FieldElementKey(&commitment, 100)
			return fmt.Sprintf("field element 100: no preimage for key %x", key.PreimageKey())
		}()},
		{"wrong commitment", vh, func(h *fakeHost) {
			h.lies[preimage.Sha256Key(vh).PreimageKey()] = otherCommitment[:]
		}, "has versioned hash"},
		{"short commitment", vh, func(h *fakeHost) {
			h.lies[preimage.Sha256Key(vh).PreimageKey()] = commitment[:47]
		}, "commitment is 47 bytes"},
		// The oracle only checks bytes 1..31 of a sha256 key; the version byte is ours to check.
		{"wrong version byte", wrongVersion, func(h *fakeHost) {
			h.store[preimage.Sha256Key(wrongVersion).PreimageKey()] = commitment[:]
		}, "has versioned hash " + vh.Hex()},
		{"missing commitment", vh, func(h *fakeHost) {
			delete(h.store, preimage.Sha256Key(vh).PreimageKey())
		}, fmt.Sprintf("%x", preimage.Sha256Key(vh).PreimageKey())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := newFakeHost()
			host.putBlob(t, blob)
			tt.tamper(host)
			o := NewOracle(host, host)
			_, err := o.GetBlob(BlobRef{L1Timestamp: 1, VersionedHash: tt.ref})
			require.ErrorContains(t, err, tt.wantErr)
			// A rejected blob is not cached: the next read asks again.
			host.reset()
			_, err = o.GetBlob(BlobRef{L1Timestamp: 1, VersionedHash: tt.ref})
			require.Error(t, err)
			require.Len(t, host.hints, 1)
		})
	}
}

func BenchmarkGetBlob(b *testing.B) {
	blob := seededBlob(4)
	host := newFakeHost()
	_, vh := host.putBlob(b, blob)
	_, _ = kzg4844.BlobToCommitment(blob) // load the trusted setup outside the timer
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		o := NewOracle(host, host) // a fresh cache: measure the fetch and the verification
		_, err := o.GetBlob(BlobRef{VersionedHash: vh})
		require.NoError(b, err)
	}
}

// TestSkipBlobCommitmentCheck: in the VM the program trusts canonical field elements to the on-chain
// oracle's KZG proofs, and still refuses non-canonical ones.
func TestSkipBlobCommitmentCheck(t *testing.T) {
	blob := seededBlob(2)
	host := newFakeHost()
	commitment, vh := host.putBlob(t, blob)
	o := NewOracle(host, host)
	o.SkipBlobCommitmentCheck()
	got, err := o.GetBlob(BlobRef{L1Timestamp: 1, VersionedHash: vh})
	require.NoError(t, err)
	require.Equal(t, blob, got)

	key, _ := layout.FieldElementKey(&commitment, 9)
	host.lies[key.PreimageKey()] = bytes.Repeat([]byte{0xff}, 32)
	o = NewOracle(host, host)
	o.SkipBlobCommitmentCheck()
	_, err = o.GetBlob(BlobRef{L1Timestamp: 1, VersionedHash: vh})
	require.ErrorContains(t, err, "field element 9 is not below the BLS12-381 modulus")
}
