package vm

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/crypto"
)

// zeroHashes[h] is the root of an all-zero subtree of height h, where a
// height-0 subtree is a single 32-byte zero leaf.
var zeroHashes = func() (z [memTreeDepth + 1][32]byte) {
	h := crypto.NewKeccakState()
	for i := 1; i < len(z); i++ {
		h.Reset()
		h.Write(z[i-1][:])
		h.Write(z[i-1][:])
		h.Read(z[i][:])
	}
	return z
}()

// EmptyMemoryRoot is the merkle root of a memory that holds only zeroes.
var EmptyMemoryRoot = zeroHashes[memTreeDepth]

// hasher computes the keccak256 hashes of the memory tree.
type hasher struct {
	k   crypto.KeccakState
	buf [64]byte
}

func newHasher() *hasher { return &hasher{k: crypto.NewKeccakState()} }

// hash64 sets out to keccak256(data), with len(data) == 64.
func (h *hasher) hash64(out *[32]byte, data []byte) {
	h.k.Reset()
	h.k.Write(data)
	h.k.Read(out[:])
}

func (h *hasher) pair(out *[32]byte, left, right *[32]byte) {
	copy(h.buf[:32], left[:])
	copy(h.buf[32:], right[:])
	h.hash64(out, h.buf[:])
}

// pageRoot brings the page's cached nodes up to date and returns its root.
func (h *hasher) pageRoot(p *page) *[32]byte {
	if !p.isValid(1) {
		h.updateNodes(&p.nodes, &p.data, &p.valid)
	}
	return &p.nodes[1]
}

// updateNodes brings the nodes of a page's subtree that valid does not mark
// (one bit per entry of nodes) up to date with the page's data, and marks
// them. Zero subtrees, common in a program's heap, take their hash from
// zeroHashes instead of being hashed.
func (h *hasher) updateNodes(nodes *[PageSize / 32][32]byte, data *[PageSize]byte, valid *[2]uint64) {
	stale := func(k uint64) bool { return valid[k>>6]&(1<<(k&63)) == 0 }
	for k := uint64(PageSize/32 - 1); k >= PageSize/64; k-- {
		if stale(k) {
			off := (k - PageSize/64) * 64
			if chunk := (*[64]byte)(data[off : off+64]); isZero64(chunk) {
				nodes[k] = zeroHashes[1]
			} else {
				h.hash64(&nodes[k], chunk[:])
			}
			valid[k>>6] |= 1 << (k & 63)
		}
	}
	for k := uint64(PageSize/64 - 1); k >= 1; k-- {
		if stale(k) {
			// Node k of the page's subtree is at height 8-len(k): 1 for the
			// nodes above two leaves, 7 for the page root.
			height := 8 - bits.Len64(k)
			if z := &zeroHashes[height-1]; nodes[2*k] == *z && nodes[2*k+1] == *z {
				nodes[k] = zeroHashes[height]
			} else {
				h.pair(&nodes[k], &nodes[2*k], &nodes[2*k+1])
			}
			valid[k>>6] |= 1 << (k & 63)
		}
	}
}

// isZero64 reports whether the 64 bytes are all zero.
func isZero64(b *[64]byte) bool {
	var or uint64
	for i := 0; i < 64; i += 8 {
		or |= binary.LittleEndian.Uint64(b[i:])
	}
	return or == 0
}

// parallelPages is the number of stale pages from which MerkleRoot hashes
// pages on all CPUs.
const parallelPages = 256

// hashStalePages brings the roots of the pages written since the last call
// up to date, in parallel when there are many.
func (m *Memory) hashStalePages() {
	stale := m.stale
	m.stale = m.stale[:0]
	for _, p := range stale {
		p.queued = false
	}
	workers := min(runtime.GOMAXPROCS(0), len(stale)/parallelPages+1)
	if workers <= 1 {
		for _, p := range stale {
			m.hasher.pageRoot(p)
		}
		return
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHasher()
			for {
				i := int(next.Add(64)) - 64
				if i >= len(stale) {
					return
				}
				for _, p := range stale[i:min(i+64, len(stale))] {
					h.pageRoot(p)
				}
			}
		}()
	}
	wg.Wait()
}

// HashInBackground hashes the pages of the memory on another goroutine
// while the memory goes on being used: vm run calls it on the state it
// loaded, so that the pages a run leaves alone are hashed on an otherwise
// idle CPU rather than at the end. A page counts as hashed at once, and
// its first write goes through writeWord (its hashes are valid), which
// takes the page back from the goroutine if it has not hashed it yet or
// waits for it if it is hashing it: the goroutine reads a page's data only
// while the page is its own. Until the goroutine is done, whatever needs
// hashes (MerkleRoot, MerkleProof, Copy) waits for it.
func (m *Memory) HashInBackground() {
	m.settle()
	var jobs []*page
	for _, p := range m.pages {
		if !p.isValid(1) {
			jobs = append(jobs, p)
			p.valid = [2]uint64{^uint64(0), ^uint64(0)}
			p.bg = bgQueued
		}
	}
	if len(jobs) == 0 {
		return
	}
	done := make(chan struct{})
	m.hashing = done
	go func() {
		defer close(done)
		h := newHasher()
		for _, p := range jobs {
			if !atomic.CompareAndSwapUint32(&p.bg, bgQueued, bgHashing) {
				continue // taken back
			}
			var valid [2]uint64
			h.updateNodes(&p.nodes, &p.data, &valid)
			atomic.StoreUint32(&p.bg, bgNone)
		}
	}()
}

// release makes sure HashInBackground's goroutine has let go of page p,
// whose data is about to change: a page it has not hashed yet is taken back
// (and hashed, like any written page, when the memory is), one it is
// hashing is waited for (a page takes tens of microseconds).
func (p *page) release() {
	if atomic.LoadUint32(&p.bg) == bgNone {
		return
	}
	if atomic.CompareAndSwapUint32(&p.bg, bgQueued, bgNone) {
		p.valid = [2]uint64{} // its root is stale: its ancestors are stale and it is queued
		return
	}
	for atomic.LoadUint32(&p.bg) != bgNone {
		runtime.Gosched()
	}
}

// settle waits for HashInBackground's goroutine, if one runs.
func (m *Memory) settle() {
	if m.hashing != nil {
		<-m.hashing
		m.hashing = nil
	}
}

// node returns the hash of the tree node with generalized index g (root 1,
// children of g are 2g and 2g+1; the leaves are at depth 59).
func (m *Memory) node(g uint64) [32]byte {
	m.settle()
	depth := uint(bits.Len64(g)) - 1
	if depth > memTreeDepth {
		panic("memory tree node too deep")
	}
	if depth < PageKeyBits {
		b := m.branches[g]
		if b == nil {
			return zeroHashes[memTreeDepth-depth]
		}
		if !b.valid {
			l, r := m.node(2*g), m.node(2*g+1)
			m.hasher.pair(&b.hash, &l, &r)
			b.valid = true
		}
		return b.hash
	}
	inPage := depth - PageKeyBits
	p := m.pages[(g>>inPage)&(1<<PageKeyBits-1)]
	if p == nil {
		return zeroHashes[memTreeDepth-depth]
	}
	k := uint64(1)<<inPage | g&(1<<inPage-1)
	if k >= PageSize/32 {
		off := (k - PageSize/32) * 32
		return [32]byte(p.data[off : off+32])
	}
	m.hasher.pageRoot(p)
	return p.nodes[k]
}

// MerkleRoot returns the root of the memory merkle tree. It writes only the
// cached hashes, so it may run concurrently with Serialize or the JSON
// encoding of the memory's state, which read only the contents (vm run
// writes the final state while it hashes it).
func (m *Memory) MerkleRoot() [32]byte {
	m.settle()
	m.hashStalePages()
	return m.node(1)
}

// MerkleProof returns the proof for the 32-byte leaf that contains addr: the
// leaf itself followed by the 59 sibling hashes from the bottom of the tree
// up to the children of the root. This is the layout the MIPS64 contract
// reads.
func (m *Memory) MerkleProof(addr uint64) (out [MemProofSize]byte) {
	g := uint64(1)<<memTreeDepth | addr>>5
	leaf := m.node(g)
	copy(out[:32], leaf[:])
	for i := 1; i < MemProofLeafCount; i++ {
		sib := m.node(g ^ 1)
		copy(out[i*32:], sib[:])
		g >>= 1
	}
	return out
}

// VerifyMemoryProof checks proof (as produced by MerkleProof) against root
// for addr and returns the 64-bit word at the 8-byte aligned addr.
func VerifyMemoryProof(root [32]byte, addr uint64, proof []byte) (uint64, bool) {
	if len(proof) != MemProofSize {
		return 0, false
	}
	h := crypto.NewKeccakState()
	node := [32]byte(proof[:32])
	path := addr >> 5
	for i := 1; i < MemProofLeafCount; i++ {
		sib := proof[i*32 : i*32+32]
		h.Reset()
		if path&1 == 0 {
			h.Write(node[:])
			h.Write(sib)
		} else {
			h.Write(sib)
			h.Write(node[:])
		}
		h.Read(node[:])
		path >>= 1
	}
	if node != root {
		return 0, false
	}
	off := addr & 31 &^ 7
	var w uint64
	for _, b := range proof[off : off+8] {
		w = w<<8 | uint64(b)
	}
	return w, true
}
