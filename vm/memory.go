package vm

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
)

// pageCacheSize is the number of slots of the direct-mapped page lookup
// cache in front of the page map. Must be a power of two.
const pageCacheSize = 4096

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
	// code is the page's decoded code (block.go), dropped when the page is
	// written.
	code *codePage
	// bg is the page's state for HashInBackground's goroutine (bgNone,
	// bgQueued, bgHashing), read and written atomically.
	bg uint32
}

// States of a page for HashInBackground.
const (
	bgNone    = iota // not the goroutine's
	bgQueued         // to be hashed by the goroutine
	bgHashing        // being hashed by the goroutine
)

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

// pageRun is a run of page indexes, start to end (exclusive).
type pageRun struct{ start, end uint64 }

// Memory is the VM's sparse 64-bit byte-addressed big-endian memory. It is
// organised in 4 KiB pages, allocated on first write, and merkleized as a
// binary tree of depth 59 over 32-byte leaves, exactly as Cannon does. Hashes
// of unchanged subtrees are cached, so re-hashing after a few writes only
// rehashes the touched paths.
//
// Pages that exist for Cannon but hold only zeroes (a program's bss, the zero
// pages of a decoded state) can be kept as runs of page indexes that take no
// page memory: they are counted and serialized like any page, read as zero,
// hash as absent pages do (an all-zero page hashes as a missing subtree), and
// get a real page on their first write.
//
// The zero value is not usable; create memories with NewMemory.
type Memory struct {
	pages map[uint64]*page
	// zero holds the runs of existing all-zero pages, in ascending order,
	// neither overlapping nor touching. A page of a run that is written gets
	// an entry in pages, which then holds its contents: it shadows the run.
	zero      []pageRun
	zeroPages uint64 // pages in zero
	shadowed  uint64 // entries of pages that lie in zero
	// branches holds the tree nodes above page level, keyed by generalized
	// index (root = 1). A missing node means an all-zero subtree.
	branches map[uint64]*treeNode

	cacheKeys  [pageCacheSize]uint64
	cachePages [pageCacheSize]*page

	// stale lists pages whose root went stale since the last MerkleRoot.
	stale  []*page
	hasher *hasher
	// hashing is closed when the goroutine of HashInBackground is done (nil
	// when none runs); settle waits for it.
	hashing chan struct{}
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
	if len(m.zero) > 0 && m.inZeroRun(idx) {
		m.shadowed++
	}
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
	p := m.lookup(addr >> PageAddrBits)
	if p == nil {
		p = m.allocPage(addr >> PageAddrBits)
	}
	m.writeWord(p, addr, v)
}

// writable returns the page of the 8-byte aligned addr if a write there
// needs nothing but the write: the page is in the lookup cache, holds no
// decoded code, and the hashes above the word are stale already (and so are
// all above them: the page is queued and its branches stale). Otherwise it
// returns nil and the write goes through setWord.
func (m *Memory) writable(addr uint64) *page {
	idx := addr >> PageAddrBits
	slot := idx & (pageCacheSize - 1)
	if m.cacheKeys[slot] != idx {
		return nil
	}
	p := m.cachePages[slot]
	k := (PageSize | addr&pageAddrMask) >> 6
	if p.code != nil || p.valid[k>>6]&(1<<(k&63)) != 0 {
		return nil
	}
	return p
}

// writeWord stores v at the 8-byte aligned addr of page p, marking the
// hashes above it stale and dropping the page's decoded code.
func (m *Memory) writeWord(p *page, addr uint64, v uint64) {
	p.release()
	off := addr & (PageSize - 8)
	if p.invalidate(off) {
		m.invalidateBranches(addr >> PageAddrBits)
		m.markStale(p)
	}
	if p.code != nil {
		p.code = nil
	}
	binary.BigEndian.PutUint64(p.data[off:], v)
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
		} else {
			p.release()
			if p.invalidateAll() {
				m.invalidateBranches(idx)
				m.markStale(p)
			}
		}
		p.code = nil
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

// PageCount returns the number of allocated pages, zero runs included.
func (m *Memory) PageCount() int {
	return len(m.pages) + int(m.zeroPages-m.shadowed)
}

// PageIndexes returns the indexes of the allocated pages in ascending order.
func (m *Memory) PageIndexes() []uint64 {
	out := make([]uint64, 0, m.PageCount())
	m.forEachPage(func(idx uint64, _ *[PageSize]byte) error {
		out = append(out, idx)
		return nil
	})
	return out
}

// PageData returns a copy of the page with index idx, and whether it exists.
func (m *Memory) PageData(idx uint64) ([PageSize]byte, bool) {
	if p := m.pages[idx]; p != nil {
		return p.data, true
	}
	return [PageSize]byte{}, m.inZeroRun(idx)
}

// forEachPage calls fn with every allocated page in ascending index order,
// pages of zero runs as a shared zero page that fn must not modify. It stops
// at the first error.
func (m *Memory) forEachPage(fn func(idx uint64, data *[PageSize]byte) error) error {
	keys := slices.Sorted(maps.Keys(m.pages))
	i := 0
	for _, r := range m.zero {
		for ; i < len(keys) && keys[i] < r.start; i++ {
			if err := fn(keys[i], &m.pages[keys[i]].data); err != nil {
				return err
			}
		}
		for idx := r.start; idx < r.end; idx++ {
			data := &zeroPage
			if i < len(keys) && keys[i] == idx {
				data = &m.pages[idx].data
				i++
			}
			if err := fn(idx, data); err != nil {
				return err
			}
		}
	}
	for ; i < len(keys); i++ {
		if err := fn(keys[i], &m.pages[keys[i]].data); err != nil {
			return err
		}
	}
	return nil
}

// inZeroRun reports whether page idx lies in a zero run.
func (m *Memory) inZeroRun(idx uint64) bool {
	i := sort.Search(len(m.zero), func(i int) bool { return m.zero[i].end > idx })
	return i < len(m.zero) && m.zero[i].start <= idx
}

// ZeroRange sets n bytes from addr to zero. Every page the range touches
// exists afterwards, as after SetRange with zero bytes, but whole pages that
// were not allocated take no memory until they are written. addr+n must not
// wrap around.
func (m *Memory) ZeroRange(addr, n uint64) {
	if n == 0 {
		return
	}
	end := addr + n
	if end < addr {
		panic(fmt.Errorf("memory range %#x+%#x wraps around", addr, n))
	}
	first := (addr + pageAddrMask) >> PageAddrBits // first whole page
	last := end >> PageAddrBits                    // end of the whole pages
	if first >= last {
		m.setZeroBytes(addr, n)
		return
	}
	if head := first<<PageAddrBits - addr; head > 0 {
		m.setZeroBytes(addr, head)
	}
	if tail := end - last<<PageAddrBits; tail > 0 {
		m.setZeroBytes(last<<PageAddrBits, tail)
	}
	// Clear the pages of the range that hold data, visiting whichever is
	// fewer: the range's indexes or the allocated pages.
	clear := func(idx uint64, p *page) {
		p.release()
		p.data = [PageSize]byte{}
		p.code = nil
		if p.invalidateAll() {
			m.invalidateBranches(idx)
			m.markStale(p)
		}
	}
	if last-first <= uint64(len(m.pages)) {
		for idx := first; idx < last; idx++ {
			if p := m.pages[idx]; p != nil {
				clear(idx, p)
			}
		}
	} else {
		for idx, p := range m.pages {
			if idx >= first && idx < last {
				clear(idx, p)
			}
		}
	}
	m.addZeroRun(first, last)
}

// setZeroBytes writes n zero bytes at addr, allocating the pages.
func (m *Memory) setZeroBytes(addr, n uint64) {
	for n > 0 {
		l := min(n, PageSize)
		m.SetRange(addr, zeroPage[:l])
		addr += l
		n -= l
	}
}

// addZeroRun adds the pages start to end (exclusive) to the zero runs,
// merging runs that overlap or touch, and recounts the shadowed pages.
func (m *Memory) addZeroRun(start, end uint64) {
	i := sort.Search(len(m.zero), func(i int) bool { return m.zero[i].end >= start })
	j := i
	for j < len(m.zero) && m.zero[j].start <= end {
		start = min(start, m.zero[j].start)
		end = max(end, m.zero[j].end)
		m.zeroPages -= m.zero[j].end - m.zero[j].start
		j++
	}
	m.zero = slices.Replace(m.zero, i, j, pageRun{start, end})
	m.zeroPages += end - start
	m.shadowed = 0
	for idx := range m.pages {
		if m.inZeroRun(idx) {
			m.shadowed++
		}
	}
}

// appendZeroPage adds page idx, all zero and above every allocated page, as
// part of a zero run.
func (m *Memory) appendZeroPage(idx uint64) {
	if n := len(m.zero); n > 0 && m.zero[n-1].end == idx {
		m.zero[n-1].end++
	} else {
		m.zero = append(m.zero, pageRun{idx, idx + 1})
	}
	m.zeroPages++
}

// setPage creates page idx with the given contents. With above set, idx is
// above every allocated page, and an all-zero page joins the zero runs
// instead of taking memory.
func (m *Memory) setPage(idx uint64, data []byte, above bool) error {
	if idx >= 1<<PageKeyBits {
		return fmt.Errorf("page index %#x out of range", idx)
	}
	if _, ok := m.pages[idx]; ok || m.inZeroRun(idx) {
		return fmt.Errorf("duplicate page %#x", idx)
	}
	if above && isZero(data) {
		m.appendZeroPage(idx)
		return nil
	}
	p := m.allocPage(idx)
	copy(p.data[:], data)
	return nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Copy returns a deep copy of the memory, hash caches included.
func (m *Memory) Copy() *Memory {
	m.settle()
	out := NewMemory()
	for idx, p := range m.pages {
		cp := *p
		cp.queued = false
		cp.code = nil // decoded lazily, never shared
		out.pages[idx] = &cp
		if !cp.isValid(1) {
			out.markStale(&cp)
		}
	}
	for g, b := range m.branches {
		cb := *b
		out.branches[g] = &cb
	}
	out.zero = slices.Clone(m.zero)
	out.zeroPages, out.shadowed = m.zeroPages, m.shadowed
	return out
}
