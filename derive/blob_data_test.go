package derive

import (
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"
)

func TestBlobRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 26, 27, 28, 122, 123, 124, 127, 250, 251, 1000, 130000, MaxBlobDataSize} {
		data := make([]byte, n)
		rng.Read(data)
		blob, err := EncodeBlob(data)
		require.NoError(t, err, n)
		// Every field element stays below the BLS modulus: a KZG commitment exists.
		_, err = kzg4844.BlobToCommitment(blob)
		require.NoError(t, err, n)
		got, err := DecodeBlob(blob)
		require.NoError(t, err, n)
		require.Equal(t, data, got, n)
	}
	_, err := EncodeBlob(make([]byte, MaxBlobDataSize+1))
	require.Error(t, err)
}

func TestBlobGoldenLayout(t *testing.T) {
	// 124 bytes: round 0 holds 123, the 124th starts round 1 (in the second element group).
	data := make([]byte, 124)
	for i := range data {
		data[i] = byte(i + 1)
	}
	blob, err := EncodeBlob(data)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 124}, blob[1:5], "version 0 and length 124")
	require.Equal(t, data[0:27], blob[5:32], "first element: 27 data bytes after the header")
	require.Equal(t, data[28:59], blob[33:64], "second element: 31 bytes, after the reassembled byte 27")
	require.Equal(t, data[123], blob[4*32+1], "round 1 starts in element 4")
	// Byte 27 (value 28 = 0b011100) is split over the first bytes of elements 0 and 1.
	require.Equal(t, data[27]&0x3f, blob[0])
}

func TestBlobDecodeRejects(t *testing.T) {
	good, err := EncodeBlob([]byte("hello blob"))
	require.NoError(t, err)
	tests := []struct {
		name string
		edit func(b *kzg4844.Blob)
	}{
		{"unknown version", func(b *kzg4844.Blob) { b[1] = 1 }},
		{"length over the maximum", func(b *kzg4844.Blob) { b[2], b[3], b[4] = 0xff, 0xff, 0xff }},
		{"field element overflowing 254 bits", func(b *kzg4844.Blob) { b[32] = 0x40 }},
		{"data after the declared length in the decoded rounds", func(b *kzg4844.Blob) { b[20] = 1 }},
		{"non-zero byte after the data", func(b *kzg4844.Blob) { b[len(b)-1] = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *good
			tt.edit(&b)
			_, err := DecodeBlob(&b)
			require.ErrorIs(t, err, ErrBlobEncoding)
		})
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 5, 1, 2, 3, 4, 5})
	f.Add([]byte{0, 0, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, prefix []byte) {
		var b kzg4844.Blob
		copy(b[:], prefix)
		data, err := DecodeBlob(&b)
		if err != nil {
			return
		}
		again, err := EncodeBlob(data)
		require.NoError(t, err, "decoded blob does not re-encode to itself")
		require.Equal(t, b, *again, "decoded blob does not re-encode to itself")
	})
}
