package preimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Oracle answers preimage requests. Implementations verify what they return against the key.
type Oracle interface {
	Get(key Key) ([]byte, error)
}

// OracleFunc adapts a function to Oracle.
type OracleFunc func(key Key) ([]byte, error)

func (f OracleFunc) Get(key Key) ([]byte, error) { return f(key) }

// maxPrealloc bounds the buffer allocated up front for an answer, so that a corrupt length prefix cannot
// make a reader allocate gigabytes before it notices the stream is short.
const maxPrealloc = 1 << 20

// readSized reads exactly n bytes, growing the buffer only as data arrives.
func readSized(r io.Reader, n uint64) ([]byte, error) {
	if n <= maxPrealloc {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var buf bytes.Buffer
	buf.Grow(maxPrealloc)
	got, err := io.Copy(&buf, io.LimitReader(r, int64(min(n, 1<<62))))
	if err != nil {
		return nil, err
	}
	if uint64(got) != n {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

// OracleClient is the program side of the preimage channel: it writes a 32-byte key and reads back an
// 8-byte big-endian length followed by that many bytes. Every answer is verified against its key. Like the
// channel, it serves one request at a time.
type OracleClient struct {
	rw io.ReadWriter
	// Buffers reused across requests: inside the VM a claim makes ~10^5 of them, and each allocation
	// costs steps.
	key    [32]byte
	length [8]byte
	full   FullReader // rw, if it is one
}

// NewOracleClient returns a client over the program's end of a preimage channel.
func NewOracleClient(rw io.ReadWriter) *OracleClient {
	o := &OracleClient{rw: rw}
	o.full, _ = rw.(FullReader)
	return o
}

// FullReader is a channel that reads exactly len(b) bytes in one call, as io.ReadFull does, returning
// io.EOF if it read nothing and io.ErrUnexpectedEOF if the stream ended early. Inside the VM each read
// returns at most one 8-byte word; a channel that loops over them itself (cmd/fpp-client's) saves an
// interface call per word.
type FullReader interface {
	ReadFull(b []byte) error
}

// Get requests the preimage of key. Reading exactly the announced length matters: a VM refuses reads past
// the end of a preimage.
func (o *OracleClient) Get(key Key) ([]byte, error) {
	o.key = key.PreimageKey()
	k := &o.key // not copied: a byte array is copied byte by byte on mips64
	if err := validateKey(k); err != nil {
		return nil, err
	}
	if _, err := o.rw.Write(k[:]); err != nil {
		return nil, fmt.Errorf("write preimage key %x: %w", *k, err)
	}
	if _, err := io.ReadFull(o.rw, o.length[:]); err != nil {
		return nil, fmt.Errorf("read preimage length of key %x: %w", *k, err)
	}
	n := binary.BigEndian.Uint64(o.length[:])
	value, err := readSized(o.rw, n)
	if err != nil {
		return nil, fmt.Errorf("read %d-byte preimage of key %x: %w", n, *k, err)
	}
	if err := verify(k, value); err != nil {
		return nil, err
	}
	return value, nil
}

// IntoGetter is an Oracle that can also read a preimage of known size into the caller's buffer. Inside the
// VM a blob is read as 4096 such 32-byte preimages, and an allocation, an interface conversion or a copy
// of the key per read cost steps.
type IntoGetter interface {
	// GetInto reads the preimage of the wire key into dst, verified against the key; a preimage of
	// another length than len(dst) is an error.
	GetInto(key *[32]byte, dst []byte) error
}

// GetInto implements IntoGetter.
func (o *OracleClient) GetInto(key *[32]byte, dst []byte) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if _, err := o.rw.Write(key[:]); err != nil {
		return fmt.Errorf("write preimage key %x: %w", *key, err)
	}
	if err := o.readFull(o.length[:]); err != nil {
		return fmt.Errorf("read preimage length of key %x: %w", *key, err)
	}
	if n := binary.BigEndian.Uint64(o.length[:]); n != uint64(len(dst)) {
		return fmt.Errorf("preimage of key %x is %d bytes, want %d", *key, n, len(dst))
	}
	if err := o.readFull(dst); err != nil {
		return fmt.Errorf("read %d-byte preimage of key %x: %w", len(dst), *key, err)
	}
	return verify(key, dst)
}

// readFull is io.ReadFull without its generality, which inside the VM costs steps on every word of a
// blob.
func (o *OracleClient) readFull(b []byte) error {
	if o.full != nil {
		return o.full.ReadFull(b)
	}
	for n := 0; n < len(b); {
		m, err := o.rw.Read(b[n:])
		n += m
		if n == len(b) {
			return nil
		}
		if err == io.EOF {
			if n == 0 {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// OracleServer is the host side of the preimage channel.
type OracleServer struct {
	rw io.ReadWriter
}

// NewOracleServer returns a server over the host's end of a preimage channel.
func NewOracleServer(rw io.ReadWriter) *OracleServer {
	return &OracleServer{rw: rw}
}

// NextPreimageRequest reads one key, answers it with get and writes the answer. It returns io.EOF when the
// program closed the channel cleanly between requests. An error from get is returned without an answer:
// the program cannot go on without the preimage, and a host must not pretend it exists.
func (o *OracleServer) NextPreimageRequest(get GetterFunc) error {
	var key [32]byte
	if _, err := io.ReadFull(o.rw, key[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read preimage key: %w", err)
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	value, err := get(key)
	if err != nil {
		return fmt.Errorf("preimage of key %x: %w", key, err)
	}
	// One write for length and data keeps the answer atomic on a pipe for small values.
	out := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(out[:8], uint64(len(value)))
	copy(out[8:], value)
	if _, err := o.rw.Write(out); err != nil {
		return fmt.Errorf("write preimage of key %x: %w", key, err)
	}
	return nil
}
