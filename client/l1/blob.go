package l1

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/preimage"
)

// BlobRef says which blob to read and where a host finds it.
type BlobRef struct {
	// L1Timestamp is the timestamp of the L1 block that carried the blob: a host finds the blob sidecar
	// by the beacon slot it implies.
	L1Timestamp uint64
	// Index is the blob's position in its block. It is not sent: only the legacy 48-byte hint carried it.
	Index uint64
	// VersionedHash identifies the blob: 0x01 ++ sha256(commitment)[1:].
	VersionedHash common.Hash
}

// blobHintData is the l1-blob hint payload: versioned hash ++ L1 timestamp (8 bytes, big-endian). Hosts
// also accept the legacy 48-byte form with the blob index between the two.
func blobHintData(ref BlobRef) []byte {
	data := make([]byte, 0, 40)
	data = append(data, ref.VersionedHash[:]...)
	return binary.BigEndian.AppendUint64(data, ref.L1Timestamp)
}

// blsModulusBytes is the order of the BLS12-381 scalar field, big-endian: a field element must be below it.
var blsModulusBytes = common.FromHex("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")

// GetBlob returns the blob with ref's versioned hash, checked against its KZG commitment, and the
// commitment against the versioned hash.
func (o *Oracle) GetBlob(ref BlobRef) (*kzg4844.Blob, error) {
	h := ref.VersionedHash
	if blob, ok := o.cache.blobs.Get(h); ok {
		return blob, nil
	}
	if err := o.hint(preimage.HintL1Blob, blobHintData(ref)); err != nil {
		return nil, fmt.Errorf("l1 blob %s: %w", h, err)
	}
	enc, err := o.oracle.Get(preimage.Sha256Key(h))
	if err != nil {
		return nil, fmt.Errorf("l1 blob %s: commitment: %w", h, err)
	}
	if len(enc) != len(kzg4844.Commitment{}) {
		return nil, fmt.Errorf("l1 blob %s: commitment is %d bytes, want 48", h, len(enc))
	}
	commitment := kzg4844.Commitment(enc)
	// The oracle checks bytes 1..31 only (byte 0 of a key is its type); this also checks the version byte.
	if got := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &commitment)); got != h {
		return nil, fmt.Errorf("l1 blob %s: commitment %x has versioned hash %s", h, commitment, got)
	}

	blob := new(kzg4844.Blob)
	// 4096 keys and reads per blob make this loop a large share of a claim's VM steps: the keys come
	// straight from Keccak lanes, and the field elements are read into the blob where the oracle can.
	keyer := newBlobKeyer(&commitment)
	into, _ := o.oracle.(preimage.IntoGetter)
	var key [32]byte
	for i := range params.BlobTxFieldElementsPerBlob {
		keyer.key(i, &key)
		fe := blob[i*params.BlobTxBytesPerFieldElement : (i+1)*params.BlobTxBytesPerFieldElement]
		if into != nil {
			if err := into.GetInto(&key, fe); err != nil {
				return nil, fmt.Errorf("l1 blob %s: field element %d: %w", h, i, err)
			}
		} else {
			v, err := o.oracle.Get(preimage.RawKey(key))
			if err != nil {
				return nil, fmt.Errorf("l1 blob %s: field element %d: %w", h, i, err)
			}
			if len(v) != params.BlobTxBytesPerFieldElement {
				return nil, fmt.Errorf("l1 blob %s: field element %d (key %x) is %d bytes, want 32", h, i, key, len(v))
			}
			copy(fe, v)
		}
		if bytes.Compare(fe, blsModulusBytes[:]) >= 0 {
			return nil, fmt.Errorf("l1 blob %s: field element %d is not below the BLS12-381 modulus", h, i)
		}
	}
	if o.skipBlobCommitment {
		o.cache.blobs.Add(h, blob)
		return blob, nil
	}
	// Blob keys cannot be checked one by one; the whole blob is checked against the commitment instead.
	got, err := blobToCommitment(blob)
	if err != nil {
		return nil, fmt.Errorf("l1 blob %s: commit: %w", h, err)
	}
	if got != commitment {
		return nil, fmt.Errorf("l1 blob %s: field elements commit to %x, not %x", h, got, commitment)
	}
	o.cache.blobs.Add(h, blob)
	return blob, nil
}
