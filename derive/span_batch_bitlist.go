package derive

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrBitlistPadding is a span batch bitlist with a bit set beyond its length.
var ErrBitlistPadding = errors.New("bitlist has a bit set beyond its length")

// spanBitlist is a span batch "standard bitlist" of n bits: a big-endian integer, left-padded with zero bits
// to a whole number of bytes. Bit i is the integer's bit of weight 2^i, so bit 0 is the lowest bit of the
// last byte.
type spanBitlist struct {
	n     uint64
	bytes []byte // spanBitlistBytes(n) bytes
}

// spanBitlistBytes is the encoded length of an n-bit bitlist, ceil(n/8) computed without overflow.
func spanBitlistBytes(n uint64) uint64 {
	l := n / 8
	if n%8 != 0 {
		l++
	}
	return l
}

func newSpanBitlist(n uint64) spanBitlist {
	return spanBitlist{n: n, bytes: make([]byte, spanBitlistBytes(n))}
}

// readSpanBitlist reads an n-bit bitlist; the padding bits must be zero.
func readSpanBitlist(c *spanCursor, n uint64, what string) (spanBitlist, error) {
	b, err := c.take(spanBitlistBytes(n), what)
	if err != nil {
		return spanBitlist{}, err
	}
	if pad := n % 8; pad != 0 && b[0]>>pad != 0 {
		return spanBitlist{}, fmt.Errorf("%s: %w: first byte %#02x, %d bits", what, ErrBitlistPadding, b[0], n)
	}
	return spanBitlist{n: n, bytes: b}, nil
}

// bit reports bit i; bits at or beyond the length read as 0.
func (l spanBitlist) bit(i uint64) bool {
	if i >= l.n {
		return false
	}
	return l.bytes[uint64(len(l.bytes))-1-i/8]>>(i%8)&1 == 1
}

// set sets bit i, which must be below the length.
func (l spanBitlist) set(i uint64) {
	l.bytes[uint64(len(l.bytes))-1-i/8] |= 1 << (i % 8)
}

// count is the number of set bits.
func (l spanBitlist) count() uint64 {
	c := 0
	for _, b := range l.bytes {
		c += bits.OnesCount8(b)
	}
	return uint64(c)
}
