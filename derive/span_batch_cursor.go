package derive

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors of the span batch reader.
var (
	ErrSpanBatchTruncated = errors.New("span batch ends early")
	ErrUvarintOverflow    = errors.New("uvarint overflows 64 bits")
)

// spanCursor reads a span batch front to back. Every read checks the remaining length first, so nothing is
// allocated for data that is not there. Byte strings it returns share memory with the input.
type spanCursor struct {
	buf []byte
}

func (c *spanCursor) remaining() uint64 { return uint64(len(c.buf)) }

// take returns the next n bytes.
func (c *spanCursor) take(n uint64, what string) ([]byte, error) {
	if n > c.remaining() {
		return nil, fmt.Errorf("%s: %w: need %d bytes, %d left", what, ErrSpanBatchTruncated, n, len(c.buf))
	}
	out := c.buf[:n:n]
	c.buf = c.buf[n:]
	return out, nil
}

// uvarint reads an unsigned protobuf varint (at most 10 bytes). Like encoding/binary, it accepts
// non-minimal encodings such as 0x80 0x00.
func (c *spanCursor) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(c.buf)
	switch {
	case n == 0:
		return 0, fmt.Errorf("%s: %w", what, ErrSpanBatchTruncated)
	case n < 0:
		return 0, fmt.Errorf("%s: %w", what, ErrUvarintOverflow)
	}
	c.buf = c.buf[n:]
	return v, nil
}

// minAlloc bounds a preallocation of count elements by the bytes left, when each element takes at least
// one byte of input.
func (c *spanCursor) minAlloc(count uint64) int {
	return int(min(count, c.remaining()))
}
