package layout

import (
	"crypto/sha256"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/preimage"
)

// FieldElementKey returns the oracle key of field element i of the blob committed to by commitment, and
// the 80 bytes it is the keccak256 of: commitment ++ z_i, where z_i is the point the blob polynomial takes
// that element's value at (RootOfUnity). The preimage of the key is the 32-byte field element; hosts also
// store the 80 bytes under their keccak256 key, so a challenger can recover commitment and point.
func FieldElementKey(commitment *kzg4844.Commitment, i int) (preimage.BlobKey, [80]byte) {
	var in [80]byte
	copy(in[:48], commitment[:])
	z := RootOfUnity(i)
	copy(in[48:], z[:])
	return preimage.BlobKey(crypto.Keccak256Hash(in[:])), in
}

// Blob lays out a blob the caller checked against its commitment: the commitment under the sha256 key of
// its versioned hash, each field element under its FieldElementKey, and each key's 80-byte preimage under
// its keccak256 key.
func Blob(put Put, commitment *kzg4844.Commitment, blob *kzg4844.Blob) {
	vh := kzg4844.CalcBlobHashV1(sha256.New(), commitment)
	put(preimage.Sha256Key(vh), commitment[:])
	for i := range params.BlobTxFieldElementsPerBlob {
		key, in := FieldElementKey(commitment, i)
		put(key, blob[i*32:(i+1)*32])
		put(preimage.KeccakKeyOf(in[:]), in[:])
	}
}
