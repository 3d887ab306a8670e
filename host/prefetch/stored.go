package prefetch

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/internal/blobkzg"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// ErrUnverifiable is returned for a stored blob element or precompile answer that cannot be checked: what
// it must be checked with is neither stored nor announced by the program's last hint.
var ErrUnverifiable = errors.New("cannot be checked")

// verifiedBlobs is how many checked blobs StoredCheck keeps (about 384 KiB each): the program reads a
// blob's elements one after the other, so a few are plenty.
const verifiedBlobs = 8

// StoredCheck checks the stored values that their key cannot vouch for. A blob key (type 5) and a
// precompile key (type 6) are hashes of the question, not of the answer, so kvstore.CheckValue checks only
// the shape of their values; a shared datadir or bundle could carry any answer of that shape. StoredCheck
// checks the answer itself, from the preimages stored beside it (this host, op-program and kona store
// them) or, when those are absent, from the program's last hint:
//   - A precompile answer is computed again (RunPrecompile) from the call: the last hint if it is the
//     precompile hint of this key (v2 or legacy, as the program sent it), else the key's keccak256
//     preimage, read as the v2 call address ++ required gas ++ input (the only form the on-chain oracle
//     loads; a legacy call is checked through its hint, which legacy programs always send first).
//   - A blob field element is checked with its whole blob: the key's keccak256 preimage (commitment ++ z)
//     or the last l1-blob hint (through the stored commitment of its versioned hash) names the blob's
//     commitment, and the 4096 stored elements of that blob must commit to it. A blob found good is kept,
//     so the other 4095 elements are compared with it instead of checking the blob again.
//
// It is safe for concurrent use.
type StoredCheck struct {
	kv kvstore.KV

	mu    sync.Mutex
	blobs lru.BasicLRU[kzg4844.Commitment, *verifiedBlob]
}

// verifiedBlob is a blob whose elements, as stored, commit to its commitment.
type verifiedBlob struct {
	blob  kzg4844.Blob
	index map[common.Hash]uint16 // field element key -> element index
}

// NewStoredCheck checks values read from kv.
func NewStoredCheck(kv kvstore.KV) *StoredCheck {
	return &StoredCheck{kv: kv, blobs: lru.NewBasicLRU[kzg4844.Commitment, *verifiedBlob](verifiedBlobs)}
}

// Check checks value, read from the store under key, against the key as far as the key allows
// (kvstore.CheckValue), and blob elements and precompile answers against what they answer. lastHint is the
// program's last hint. Errors wrap kvstore.ErrCorrupt for a wrong value and ErrUnverifiable for one that
// cannot be checked.
func (c *StoredCheck) Check(key [32]byte, value []byte, lastHint string) error {
	if err := kvstore.CheckValue(key, value); err != nil {
		return err
	}
	switch preimage.KeyType(key[0]) {
	case preimage.PrecompileKeyType:
		return c.checkPrecompile(key, value, lastHint)
	case preimage.BlobKeyType:
		return c.checkBlobElement(key, value, lastHint)
	}
	return nil
}

// keyPreimage reads the keccak256 preimage stored for the hash of a type-5 or type-6 key (the two share
// bytes 1..31 with it). A value that does not hash to it is as good as absent.
func (c *StoredCheck) keyPreimage(key [32]byte) ([]byte, bool) {
	k := key
	k[0] = byte(preimage.Keccak256KeyType)
	v, err := c.kv.Get(common.Hash(k))
	if err != nil || kvstore.CheckValue(k, v) != nil {
		return nil, false
	}
	return v, true
}

// sameHash reports whether data hashes (keccak256) to the hash in bytes 1..31 of key.
func sameHash(key [32]byte, data []byte) bool {
	h := crypto.Keccak256Hash(data)
	return bytes.Equal(h[1:], key[1:])
}

func (c *StoredCheck) checkPrecompile(key [32]byte, value []byte, lastHint string) error {
	typ, call, err := preimage.ParseHint(lastHint)
	fromHint := err == nil && (typ == preimage.HintL1PrecompileV2 || typ == preimage.HintL1Precompile) && sameHash(key, call)
	if !fromHint {
		var ok bool
		if call, ok = c.keyPreimage(key); !ok {
			return fmt.Errorf("precompile answer: %w: neither its call (the keccak256 preimage of the key's hash) is stored nor was it the last hint", ErrUnverifiable)
		}
		typ = preimage.HintL1PrecompileV2
	}
	res, err := RunPrecompile(typ, call)
	if err != nil {
		return fmt.Errorf("precompile answer: %w: %w", ErrUnverifiable, err)
	}
	if !bytes.Equal(value, res.Answer) {
		return fmt.Errorf("%w: precompile answer %s, but the call answers %s", kvstore.ErrCorrupt, shortHex(value), shortHex(res.Answer))
	}
	return nil
}

func shortHex(b []byte) string {
	const max = 40
	if len(b) > max {
		return fmt.Sprintf("%x... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%x", b)
}

// Cached returns the value of a blob element key from a blob already checked, without reading the store:
// the 4095 other elements of a blob are served from the blob that the check of the first one read.
func (c *StoredCheck) Cached(key [32]byte) ([]byte, bool) {
	if preimage.KeyType(key[0]) != preimage.BlobKeyType {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, commitment := range c.blobs.Keys() {
		vb, _ := c.blobs.Peek(commitment)
		if i, ok := vb.index[common.Hash(key)]; ok {
			c.blobs.Get(commitment) // recently used
			return bytes.Clone(vb.blob[int(i)*32 : int(i)*32+32]), true
		}
	}
	return nil, false
}

func (c *StoredCheck) checkBlobElement(key [32]byte, value []byte, lastHint string) error {
	commitment, err := c.blobCommitment(key, lastHint)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	vb, ok := c.blobs.Get(commitment)
	if !ok {
		if vb, err = c.verifyBlob(&commitment); err != nil {
			return err
		}
		c.blobs.Add(commitment, vb)
	}
	i, ok := vb.index[common.Hash(key)]
	if !ok {
		return fmt.Errorf("blob element: %w: blob %x has no element with this key", ErrUnverifiable, commitment)
	}
	if want := vb.blob[int(i)*32 : int(i)*32+32]; !bytes.Equal(value, want) {
		return fmt.Errorf("%w: element %d of blob %x is %x, but the blob's other elements and its commitment make it %x",
			kvstore.ErrCorrupt, i, commitment, value, want)
	}
	return nil
}

// blobCommitment finds the commitment of the blob a field element key belongs to: from the key's stored
// preimage (commitment ++ z), else from the last l1-blob hint and the commitment stored for its versioned
// hash.
func (c *StoredCheck) blobCommitment(key [32]byte, lastHint string) (kzg4844.Commitment, error) {
	if in, ok := c.keyPreimage(key); ok && len(in) == 80 {
		return kzg4844.Commitment(in[:48]), nil
	}
	typ, data, err := preimage.ParseHint(lastHint)
	if err != nil || typ != preimage.HintL1Blob || (len(data) != 40 && len(data) != 48) {
		return kzg4844.Commitment{}, fmt.Errorf("blob element: %w: neither its commitment and point (the keccak256 preimage of the key's hash) are stored nor was an l1-blob hint the last hint", ErrUnverifiable)
	}
	vh := common.Hash(data[:32])
	ck := preimage.Sha256Key(vh).PreimageKey()
	enc, err := c.kv.Get(common.Hash(ck))
	if err == nil {
		err = kvstore.CheckValue(ck, enc)
	}
	if err != nil {
		return kzg4844.Commitment{}, fmt.Errorf("blob element: %w: the commitment of blob %s (last hint) is not stored intact: %w", ErrUnverifiable, vh, err)
	}
	if len(enc) != 48 {
		return kzg4844.Commitment{}, fmt.Errorf("blob element: %w: the commitment stored for blob %s is %d bytes", ErrUnverifiable, vh, len(enc))
	}
	commitment := kzg4844.Commitment(enc)
	if got := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &commitment)); got != vh {
		return kzg4844.Commitment{}, fmt.Errorf("blob element: %w: the commitment stored for blob %s has versioned hash %s", ErrUnverifiable, vh, got)
	}
	return commitment, nil
}

// verifyBlob reads the stored elements of the blob with the given commitment and checks that they commit
// to it. An element that is missing makes the blob unverifiable; elements that commit to something else
// make it corrupt.
func (c *StoredCheck) verifyBlob(commitment *kzg4844.Commitment) (*verifiedBlob, error) {
	vb := &verifiedBlob{index: make(map[common.Hash]uint16, params.BlobTxFieldElementsPerBlob)}
	for i := range params.BlobTxFieldElementsPerBlob {
		key, _ := layout.FieldElementKey(commitment, i)
		k := common.Hash(key.PreimageKey())
		fe, err := c.kv.Get(k)
		if errors.Is(err, kvstore.ErrNotFound) {
			return nil, fmt.Errorf("blob element: %w: element %d (key %s) of blob %x is not stored, and a blob element is checked with its whole blob",
				ErrUnverifiable, i, k, commitment)
		}
		if err != nil {
			return nil, fmt.Errorf("blob element: element %d (key %s) of blob %x: %w", i, k, commitment, err)
		}
		if len(fe) != 32 {
			return nil, fmt.Errorf("%w: element %d (key %s) of blob %x is %d bytes", kvstore.ErrCorrupt, i, k, commitment, len(fe))
		}
		copy(vb.blob[i*32:], fe)
		vb.index[k] = uint16(i)
	}
	got, err := blobkzg.BlobToCommitment(&vb.blob)
	if err != nil {
		return nil, fmt.Errorf("%w: the stored elements of blob %x are not a blob: %v", kvstore.ErrCorrupt, commitment, err)
	}
	if got != *commitment {
		return nil, fmt.Errorf("%w: the stored elements of blob %x commit to %x", kvstore.ErrCorrupt, commitment, got)
	}
	return vb, nil
}

// remember records a blob checked elsewhere (a beacon node's blob checked against its commitment), so
// that serving its elements after it is stored does not check it again.
func (c *StoredCheck) remember(commitment kzg4844.Commitment, blob *kzg4844.Blob) {
	vb := &verifiedBlob{blob: *blob, index: make(map[common.Hash]uint16, params.BlobTxFieldElementsPerBlob)}
	for i := range params.BlobTxFieldElementsPerBlob {
		key, _ := layout.FieldElementKey(&commitment, i)
		vb.index[common.Hash(key.PreimageKey())] = uint16(i)
	}
	c.mu.Lock()
	c.blobs.Add(commitment, vb)
	c.mu.Unlock()
}
