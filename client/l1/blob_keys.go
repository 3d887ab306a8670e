package l1

import (
	"encoding/binary"
	"sync"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/internal/keccak"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// blobKeyer computes the 4096 field-element keys of one blob (layout.FieldElementKey) straight on Keccak
// lanes: the 80-byte input commitment ++ z_i fits one permutation, the commitment's six lanes and the
// padding are the same for every element, and z_i's four lanes are computed once per program. Inside the
// VM these keys are a large share of a claim's steps, and this saves the sponge's byte handling.
type blobKeyer struct {
	base [25]uint64 // the commitment's lanes and the padding; lanes 6..9 are z_i's
}

func newBlobKeyer(commitment *kzg4844.Commitment) *blobKeyer {
	k := new(blobKeyer)
	for i := range 6 {
		k.base[i] = binary.LittleEndian.Uint64(commitment[8*i:])
	}
	k.base[10] = 0x01                    // the pad's first bit, right after the 80 bytes
	k.base[keccak.Rate/8-1] = 0x80 << 56 // its last bit, at the end of the rate
	return k
}

// key writes the oracle key of field element i into key.
func (k *blobKeyer) key(i int, key *[32]byte) {
	a := k.base
	z := &rootLanes()[i]
	a[6], a[7], a[8], a[9] = z[0], z[1], z[2], z[3]
	keccak.PermuteDigest(&a)
	keccak.Digest(&a, key)
	key[0] = byte(preimage.BlobKeyType)
}

// rootLanes holds each z_i of layout.RootOfUnity as four little-endian lanes.
var rootLanes = sync.OnceValue(func() *[params.BlobTxFieldElementsPerBlob][4]uint64 {
	var lanes [params.BlobTxFieldElementsPerBlob][4]uint64
	for i, z := range layout.RootsOfUnity() {
		for j := range 4 {
			lanes[i][j] = binary.LittleEndian.Uint64(z[8*j:])
		}
	}
	return &lanes
})
