package vm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

// Root of an all-zero memory, as computed by Cannon's memory package.
const cannonEmptyMemoryRoot = "14af5385bcbb1e4738bbae8106046e6e2fca42875aa5c000c582587742bcc748"

func TestMemoryEmptyRoot(t *testing.T) {
	m := NewMemory()
	root := m.MerkleRoot()
	got := hex.EncodeToString(root[:])
	require.Equal(t, cannonEmptyMemoryRoot, got, "empty root %s, want %s", got, cannonEmptyMemoryRoot)
	require.Equal(t, EmptyMemoryRoot, root, "EmptyMemoryRoot differs from the root of a new memory")
	// Zero writes allocate pages but keep the root.
	m.SetWord(0xF000, 0)
	m.SetWord(PageSize*10, 0)
	require.Equal(t, EmptyMemoryRoot, m.MerkleRoot(), "zero pages must not change the root")
	require.Equal(t, 2, m.PageCount(), "zero pages must not change the root")
	m.SetWord(0xF008, 1)
	require.NotEqual(t, EmptyMemoryRoot, m.MerkleRoot(), "non-zero word must change the root")
	m.SetWord(0xF008, 0)
	require.Equal(t, EmptyMemoryRoot, m.MerkleRoot(), "root must return to empty after clearing the word")
}

func TestMemoryReadWrite(t *testing.T) {
	m := NewMemory()
	m.SetWord(16, 0xAABBCCDD_EEFF1122)
	got := m.GetWord(16)
	require.Equal(t, uint64(0xAABBCCDD_EEFF1122), got, "got %x", got)
	got = m.GetWord(24)
	require.Equal(t, uint64(0), got, "unwritten word reads %x", got)
	got = m.GetWord(0x1234_5678_9000)
	require.Equal(t, uint64(0), got, "reads must not allocate pages")
	require.Equal(t, 1, m.PageCount(), "reads must not allocate pages")
	for _, addr := range []uint64{17, 20, 23} {
		func() {
			defer func() {
				require.False(t, recover() == nil, "unaligned access at %d did not panic", addr)
			}()
			m.GetWord(addr)
		}()
	}

	data := bytes.Repeat([]byte("under the big bright yellow sun "), 300)
	m.SetRange(0x1337, data)
	rng := m.ReadRange(0x1337-10, uint64(len(data)+20))
	require.Equal(t, data, rng[10:len(rng)-10], "range read mismatch")
	require.Equal(t, make([]byte, 10), rng[:10], "range read mismatch")
	var buf bytes.Buffer
	err := m.WriteRangeTo(&buf, 0x1337, uint64(len(data)))
	require.NoError(t, err, "WriteRangeTo mismatch")
	require.Equal(t, data, buf.Bytes(), "WriteRangeTo mismatch")
	w := m.GetWord(0x1338)
	require.Equal(t, binary.BigEndian.Uint64(data[1:9]), w, "word after SetRange: %x", w)
}

// TestMemoryRootCaching checks that roots computed incrementally, with hash
// caches invalidated by writes, equal roots of memories built from scratch.
func TestMemoryRootCaching(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMemory()
	addrs := []uint64{0, 0x10000, 0xc000_0000_0000, HighMemoryStart, 1<<63 + 8, ^uint64(7)}
	for round := 0; round < 30; round++ {
		for i := 0; i < 20; i++ {
			base := addrs[rng.IntN(len(addrs))]
			addr := (base + uint64(rng.IntN(3*PageSize))) &^ 7
			m.SetWord(addr, rng.Uint64())
		}
		if round%3 == 0 {
			m.SetRange(uint64(rng.IntN(1<<20)), bytes.Repeat([]byte{byte(round)}, rng.IntN(9000)))
		}
		got := m.MerkleRoot()
		fresh := NewMemory()
		for _, idx := range m.PageIndexes() {
			d, _ := m.PageData(idx)
			require.NoError(t, fresh.setPage(idx, d[:], false))
		}
		want := fresh.MerkleRoot()
		require.Equal(t, want, got, "round %d: cached root %x != fresh root %x", round, got, want)
		cp := m.Copy()
		require.Equal(t, got, cp.MerkleRoot(), "round %d: copy root differs", round)
	}
}

// TestMemoryPageRoot checks the page-level layout against a direct
// computation: leaves are 32 bytes, hashed pairwise up to the page root.
func TestMemoryPageRoot(t *testing.T) {
	m := NewMemory()
	m.SetWord(PageSize*3+40, 0x0102030405060708)
	m.SetWord(PageSize*3+4088, 42)
	d, _ := m.PageData(3)
	level := make([][]byte, 0, 128)
	for i := 0; i < PageSize; i += 32 {
		level = append(level, d[i:i+32])
	}
	for len(level) > 1 {
		var next [][]byte
		for i := 0; i < len(level); i += 2 {
			next = append(next, crypto.Keccak256(level[i], level[i+1]))
		}
		level = next
	}
	got := m.node(1<<PageKeyBits | 3)
	require.Equal(t, level[0], got[:], "page root %x, want %x", got, level[0])
	// The root combines the page with zero subtrees on every level above.
	node := got
	g := uint64(1)<<PageKeyBits | 3
	for depth := PageKeyBits; depth > 0; depth-- {
		sib := zeroHashes[memTreeDepth-depth]
		if g&1 == 0 {
			node = [32]byte(crypto.Keccak256(node[:], sib[:]))
		} else {
			node = [32]byte(crypto.Keccak256(sib[:], node[:]))
		}
		g >>= 1
	}
	require.Equal(t, m.MerkleRoot(), node, "root does not match manual combination")
}

func TestMemoryProof(t *testing.T) {
	m := NewMemory()
	m.SetWord(0x10000, 0xAABBCCDD_EEFF1122)
	m.SetWord(0x80008, 42)
	m.SetWord(0x13370000, 123)
	m.SetWord(0xc000_0000_0010, 7)
	root := m.MerkleRoot()
	cases := []struct {
		addr uint64
		want uint64
	}{
		{0x10000, 0xAABBCCDD_EEFF1122},
		{0x80008, 42},
		{0x13370000, 123},
		{0xc000_0000_0010, 7},
		{0xdead_0000, 0}, // unallocated
	}
	for _, c := range cases {
		proof := m.MerkleProof(c.addr)
		got, ok := VerifyMemoryProof(root, c.addr, proof[:])
		require.True(t, ok, "addr %#x: proof ok=%v value=%#x, want %#x", c.addr, ok, got, c.want)
		require.Equal(t, c.want, got, "addr %#x: proof ok=%v value=%#x, want %#x", c.addr, ok, got, c.want)
		_, ok = VerifyMemoryProof(root, c.addr^0x20, proof[:])
		require.False(t, ok && c.want != 0, "addr %#x: proof verified for the wrong address", c.addr)
	}
	// Siblings of a lone page are zero hashes.
	single := NewMemory()
	single.SetWord(0x10000, 1)
	p := single.MerkleProof(0x10000)
	for i := 1; i < MemProofLeafCount; i++ {
		require.Equal(t, zeroHashes[i-1][:], p[i*32:i*32+32], "sibling %d is not the zero hash", i)
	}
}

func BenchmarkMemoryRootAfterWrites(b *testing.B) {
	m := NewMemory()
	for i := uint64(0); i < 2000; i++ {
		m.SetRange(i*PageSize, bytes.Repeat([]byte{byte(i)}, PageSize))
	}
	m.MerkleRoot()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.SetWord(uint64(i%2000)*PageSize+8, uint64(i))
		m.MerkleRoot()
	}
}

// TestMemoryParallelHashing checks that hashing many stale pages on all
// CPUs gives the root computed lazily on one.
func TestMemoryParallelHashing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, lazy := NewMemory(), NewMemory()
	for i := 0; i < 3*parallelPages; i++ {
		addr := uint64(rng.IntN(1<<30)) &^ 7
		v := rng.Uint64()
		m.SetWord(addr, v)
		lazy.SetWord(addr, v)
	}
	require.Equal(t, lazy.node(1), m.MerkleRoot(), "parallel root differs from the lazy root")
	for i := 0; i < 10; i++ {
		addr := uint64(rng.IntN(1<<30)) &^ 7
		m.SetWord(addr, uint64(i))
		lazy.SetWord(addr, uint64(i))
	}
	require.Equal(t, lazy.node(1), m.MerkleRoot(), "roots differ after more writes")
}
