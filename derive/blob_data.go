package derive

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// Blob encoding (specs/protocol/ecotone/derivation.md, "Blob Encoding"). A blob is 4096 field elements of
// 32 bytes; the top two bits of each element's first byte must stay zero, so that byte carries 6 bits of
// data and the other 31 bytes carry 8. Four elements make a round of 127 bytes: 4*31 bytes plus the 4*6 bits
// of the first bytes, reassembled into 3. The first element starts with a zero byte, the encoding version
// and a 3-byte big-endian data length, which leaves 123 bytes of data in round 0.
const (
	blobFieldElements   = 4096
	blobRounds          = blobFieldElements / 4
	blobEncodingVersion = 0
	// MaxBlobDataSize is the most data one blob carries.
	MaxBlobDataSize = (4*31+3)*blobRounds - 4
)

// ErrBlobEncoding marks a blob that does not decode; derivation ignores such blobs.
var ErrBlobEncoding = errors.New("invalid blob encoding")

// DecodeBlob returns the data a blob carries.
func DecodeBlob(blob *kzg4844.Blob) ([]byte, error) {
	if blob[1] != blobEncodingVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBlobEncoding, blob[1])
	}
	n := int(blob[2])<<16 | int(blob[3])<<8 | int(blob[4])
	if n > MaxBlobDataSize {
		return nil, fmt.Errorf("%w: length %d exceeds %d", ErrBlobEncoding, n, MaxBlobDataSize)
	}
	out := make([]byte, MaxBlobDataSize)
	fe := 0  // field element being read
	pos := 0 // write position in out
	var hi [4]byte
	for round := 0; round < blobRounds && (round == 0 || pos < n); round++ {
		for j := 0; j < 4; j++ {
			elem := blob[fe*32 : fe*32+32]
			if elem[0]&0b1100_0000 != 0 {
				return nil, fmt.Errorf("%w: field element %d overflows", ErrBlobEncoding, fe)
			}
			hi[j] = elem[0]
			body := elem[1:]
			if round == 0 && j == 0 {
				body = elem[5:] // version and length come first
			}
			pos += copy(out[pos:], body)
			if j < 3 {
				pos++ // room for one reassembled byte
			}
			fe++
		}
		// The 24 high bits become three bytes, placed after the first three elements of the round.
		end := pos // one past the round's last byte; the reserved bytes are 32, 64 and 96 before it
		out[end-32*3] = hi[0]&0x3f | (hi[1]&0x30)<<2
		out[end-32*2] = hi[1]&0x0f | (hi[3]&0x0f)<<4
		out[end-32] = hi[2]&0x3f | (hi[3]&0x30)<<2
	}
	for i := n; i < pos; i++ {
		if out[i] != 0 {
			return nil, fmt.Errorf("%w: data after the declared length", ErrBlobEncoding)
		}
	}
	for i := fe * 32; i < len(blob); i++ {
		if blob[i] != 0 {
			return nil, fmt.Errorf("%w: non-zero byte %d after the data", ErrBlobEncoding, i)
		}
	}
	return out[:n], nil
}

// EncodeBlob packs data into a blob (the batcher side; used by the devnet).
func EncodeBlob(data []byte) (*kzg4844.Blob, error) {
	if len(data) > MaxBlobDataSize {
		return nil, fmt.Errorf("%d bytes of data do not fit in a blob (max %d)", len(data), MaxBlobDataSize)
	}
	var blob kzg4844.Blob
	blob[1] = blobEncodingVersion
	blob[2], blob[3], blob[4] = byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
	padded := make([]byte, MaxBlobDataSize)
	copy(padded, data)
	fe, pos := 0, 0
	for round := 0; round < blobRounds && (round == 0 || pos < len(data)); round++ {
		var hi [4]byte
		for j := 0; j < 4; j++ {
			elem := blob[fe*32 : fe*32+32]
			body := elem[1:]
			if round == 0 && j == 0 {
				body = elem[5:]
			}
			pos += copy(body, padded[pos:])
			if j < 3 {
				pos++
			}
			fe++
		}
		x, y, z := padded[pos-32*3], padded[pos-32*2], padded[pos-32]
		hi[0] = x & 0x3f
		hi[1] = (x>>2)&0x30 | y&0x0f
		hi[2] = z & 0x3f
		hi[3] = (y>>4)&0x0f | (z>>2)&0x30
		for j := 0; j < 4; j++ {
			blob[(fe-4+j)*32] = hi[j]
		}
	}
	return &blob, nil
}
