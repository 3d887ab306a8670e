package vm

import (
	"encoding/binary"
	"encoding/hex"
	"sync"
)

// PreimageOracle serves the guest's hints and pre-image requests.
//
// Hint receives each complete hint the guest writes to fd 4 (without its
// 4-byte length prefix); the slice is only valid during the call.
// GetPreimage returns the pre-image for a key; the VM serves fd 5 reads from
// uint64be(len(preimage)) ++ preimage.
type PreimageOracle interface {
	Hint(v []byte)
	GetPreimage(k [32]byte) []byte
}

// MemoryOracle is an in-memory PreimageOracle for tests and tools. It records
// the hints it receives. It is safe for concurrent use.
type MemoryOracle struct {
	mu        sync.Mutex
	preimages map[[32]byte][]byte
	hints     [][]byte
	// OnHint, if set, is called with each hint (a copy) before recording it.
	OnHint func(hint []byte)
}

// NewMemoryOracle returns an empty MemoryOracle.
func NewMemoryOracle() *MemoryOracle {
	return &MemoryOracle{preimages: make(map[[32]byte][]byte)}
}

// Set stores the pre-image for key.
func (o *MemoryOracle) Set(key [32]byte, preimage []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.preimages[key] = append([]byte{}, preimage...)
}

// Hint implements PreimageOracle.
func (o *MemoryOracle) Hint(v []byte) {
	h := append([]byte{}, v...)
	if o.OnHint != nil {
		o.OnHint(h)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hints = append(o.hints, h)
}

// Hints returns the hints received so far.
func (o *MemoryOracle) Hints() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([][]byte{}, o.hints...)
}

// GetPreimage implements PreimageOracle. Unknown keys panic, as the VM
// cannot continue without the data.
func (o *MemoryOracle) GetPreimage(k [32]byte) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.preimages[k]
	if !ok {
		panic(&MissingPreimageError{Key: k})
	}
	return p
}

// MissingPreimageError is the panic value of MemoryOracle.GetPreimage for an
// unknown key.
type MissingPreimageError struct{ Key [32]byte }

func (e *MissingPreimageError) Error() string {
	return "missing pre-image for key 0x" + hex.EncodeToString(e.Key[:])
}

// preimageReader caches the current pre-image (with its length prefix) and
// remembers what the current step read, for step witnesses.
type preimageReader struct {
	oracle PreimageOracle

	// key and data are the last pre-image fetched: data is
	// uint64be(len) ++ preimage. Before the first fetch, key is zero and data
	// empty, so reading with the zero key fails without asking the oracle,
	// as in Cannon.
	key  [32]byte
	data []byte

	// readOffset is the offset read during the current step, or ^0.
	readOffset uint64

	requests  int
	totalSize int
}

func (p *preimageReader) resetStep() { p.readOffset = ^uint64(0) }

// read returns up to 32 bytes of the prefixed pre-image of key at offset.
func (p *preimageReader) read(key [32]byte, offset uint64) ([32]byte, uint64, error) {
	var dat [32]byte
	if key != p.key {
		pre := p.oracle.GetPreimage(key)
		p.requests++
		p.totalSize += len(pre)
		buf := make([]byte, 8, 8+len(pre))
		binary.BigEndian.PutUint64(buf, uint64(len(pre)))
		p.data = append(buf, pre...)
		p.key = key
	}
	p.readOffset = offset
	if offset >= uint64(len(p.data)) {
		return dat, 0, ErrPreimageOutOfBounds
	}
	n := copy(dat[:], p.data[offset:])
	return dat, uint64(n), nil
}
