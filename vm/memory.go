package vm

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"slices"
)

// pageCacheSize is the number of slots of the direct-mapped page lookup
// cache in front of the page map. Must be a power of two.
const pageCacheSize = 256

// page is one 4 KiB page of memory together with the cached hashes of its
// merkle subtree.
type page struct {
	data [PageSize]byte
	// nodes holds the internal nodes of the page's subtree in heap order:
	// nodes[1] is the page root, nodes[64..127] hash 64-byte chunks (two
	// 32-byte leaves). nodes[0] is unused.
	nodes [PageSize / 32][32]byte
	// valid has one bit per entry of nodes telling whether it is up to date.
	valid [2]uint64
	// queued tells whether the page is in Memory.stale.
	queued bool
}

func (p *page) isValid(k uint64) bool { return p.valid[k>>6]&(1<<(k&63)) != 0 }
func (p *page) setValid(k uint64)     { p.valid[k>>6] |= 1 << (k & 63) }

// invalidate marks the nodes above the word at offset off as stale and
// reports whether the page root was valid before.
func (p *page) invalidate(off uint64) bool {
	k := (PageSize | off) >> 6
	for ; k > 0; k >>= 1 {
		bit := uint64(1) << (k & 63)
		if p.valid[k>>6]&bit == 0 {
			// Stale nodes only have stale ancestors.
			return false
		}
		p.valid[k>>6] &^= bit
	}
	return true
}

// invalidateAll marks the whole page stale and reports whether its root was
// valid before.
func (p *page) invalidateAll() bool {
	was := p.isValid(1)
	p.valid = [2]uint64{}
	return was
}

// treeNode is a node of the memory tree above page level.
type treeNode struct {
	hash  [32]byte
	valid bool
}

// Memory is the VM's sparse 64-bit byte-addressed big-endian memory. It is
// organised in 4 KiB pages, allocated on first write, and merkleized as a
// binary tree of depth 59 over 32-byte leaves, exactly as Cannon does. Hashes
// of unchanged subtrees are cached, so re-hashing after a few writes only
// rehashes the touched paths.
//
// The zero value is not usable; create memories with NewMemory.
type Memory struct {
	pages map[uint64]*page
	// branches holds the tree nodes above page level, keyed by generalized
	// index (root = 1). A missing node means an all-zero subtree.
	branches map[uint64]*treeNode

	cacheKeys  [pageCacheSize]uint64
	cachePages [pageCacheSize]*page

	// stale lists pages whose root went stale since the last MerkleRoot.
	stale  []*page
	hasher *hasher
}

// NewMemory returns an empty memory.
func NewMemory() *Memory {
	m := &Memory{
		pages:    make(map[uint64]*page),
		branches: make(map[uint64]*treeNode),
		hasher:   newHasher(),
	}
	for i := range m.cacheKeys {
		m.cacheKeys[i] = ^uint64(0) // no page has this index
	}
	return m
}

// lookup returns the page with index idx, or nil if it was never written.
func (m *Memory) lookup(idx uint64) *page {
	slot := idx & (pageCacheSize - 1)
	if m.cacheKeys[slot] == idx {
		return m.cachePages[slot]
	}
	p := m.pages[idx]
	if p != nil {
		m.cacheKeys[slot] = idx
		m.cachePages[slot] = p
	}
	return p
}

// allocPage creates the page with index idx, which must not exist yet.
func (m *Memory) allocPage(idx uint64) *page {
	p := new(page)
	m.pages[idx] = p
	m.markStale(p)
	// Make the path to the root exist and be stale.
	for g := (uint64(1)<<PageKeyBits | idx) >> 1; g > 0; g >>= 1 {
		b := m.branches[g]
		if b == nil {
			m.branches[g] = &treeNode{}
			continue
		}
		if !b.valid {
			break // its ancestors exist and are stale too
		}
		b.valid = false
	}
	return p
}

// markStale queues a page whose root went stale for hashing.
func (m *Memory) markStale(p *page) {
	if !p.queued {
		p.queued = true
		m.stale = append(m.stale, p)
	}
}

// invalidateBranches marks the tree nodes above page idx as stale.
func (m *Memory) invalidateBranches(idx uint64) {
	for g := (uint64(1)<<PageKeyBits | idx) >> 1; g > 0; g >>= 1 {
		b := m.branches[g]
		if !b.valid {
			break
		}
		b.valid = false
	}
}

// GetWord returns the 64-bit big-endian word at addr, which must be 8-byte
// aligned. Unwritten memory reads as zero.
func (m *Memory) GetWord(addr uint64) uint64 {
	if addr&7 != 0 {
		panic(fmt.Errorf("unaligned memory access: %x", addr))
	}
	return m.getWord(addr)
}

func (m *Memory) getWord(addr uint64) uint64 {
	p := m.lookup(addr >> PageAddrBits)
	if p == nil {
		return 0
	}
	off := addr & pageAddrMask
	return binary.BigEndian.Uint64(p.data[off : off+8])
}

// SetWord stores the 64-bit word v big-endian at addr, which must be 8-byte
// aligned, allocating the page if needed.
func (m *Memory) SetWord(addr uint64, v uint64) {
	if addr&7 != 0 {
		panic(fmt.Errorf("unaligned memory access: %x", addr))
	}
	m.setWord(addr, v)
}

func (m *Memory) setWord(addr uint64, v uint64) {
	idx := addr >> PageAddrBits
	off := addr & pageAddrMask
	p := m.lookup(idx)
	if p == nil {
		p = m.allocPage(idx)
	} else if p.invalidate(off) {
		m.invalidateBranches(idx)
		m.markStale(p)
	}
	binary.BigEndian.PutUint64(p.data[off:off+8], v)
}

// SetRange copies data into memory at addr, allocating every page it touches
// (even with zero bytes), as Cannon's ELF loader does.
func (m *Memory) SetRange(addr uint64, data []byte) {
	for len(data) > 0 {
		idx := addr >> PageAddrBits
		off := addr & pageAddrMask
		p := m.lookup(idx)
		if p == nil {
			p = m.allocPage(idx)
		} else if p.invalidateAll() {
			m.invalidateBranches(idx)
			m.markStale(p)
		}
		n := copy(p.data[off:], data)
		data = data[n:]
		addr += uint64(n)
	}
}

// ReadRange returns a copy of n bytes of memory starting at addr.
func (m *Memory) ReadRange(addr, n uint64) []byte {
	out := make([]byte, 0, n)
	m.visitRange(addr, n, func(b []byte) { out = append(out, b...) })
	return out
}

// WriteRangeTo writes n bytes of memory starting at addr to w.
func (m *Memory) WriteRangeTo(w io.Writer, addr, n uint64) error {
	var err error
	m.visitRange(addr, n, func(b []byte) {
		if err == nil {
			_, err = w.Write(b)
		}
	})
	return err
}

var zeroPage [PageSize]byte

// visitRange calls fn with consecutive chunks of memory covering n bytes
// from addr, without allocating pages. Chunks alias memory.
func (m *Memory) visitRange(addr, n uint64, fn func([]byte)) {
	for n > 0 {
		off := addr & pageAddrMask
		l := min(PageSize-off, n)
		if p := m.lookup(addr >> PageAddrBits); p != nil {
			fn(p.data[off : off+l])
		} else {
			fn(zeroPage[:l])
		}
		addr += l
		n -= l
	}
}

// PageCount returns the number of allocated pages.
func (m *Memory) PageCount() int { return len(m.pages) }

// PageIndexes returns the indexes of the allocated pages in ascending order.
func (m *Memory) PageIndexes() []uint64 {
	return slices.Sorted(maps.Keys(m.pages))
}

// PageData returns a copy of the page with index idx, and whether it exists.
func (m *Memory) PageData(idx uint64) ([PageSize]byte, bool) {
	p := m.pages[idx]
	if p == nil {
		return [PageSize]byte{}, false
	}
	return p.data, true
}

// setPage creates page idx with the given contents.
func (m *Memory) setPage(idx uint64, data []byte) error {
	if idx >= 1<<PageKeyBits {
		return fmt.Errorf("page index %#x out of range", idx)
	}
	if _, ok := m.pages[idx]; ok {
		return fmt.Errorf("duplicate page %#x", idx)
	}
	p := m.allocPage(idx)
	copy(p.data[:], data)
	return nil
}

// Copy returns a deep copy of the memory, hash caches included.
func (m *Memory) Copy() *Memory {
	out := NewMemory()
	for idx, p := range m.pages {
		cp := *p
		cp.queued = false
		out.pages[idx] = &cp
		if !cp.isValid(1) {
			out.markStale(&cp)
		}
	}
	for g, b := range m.branches {
		cb := *b
		out.branches[g] = &cb
	}
	return out
}
