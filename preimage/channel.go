package preimage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// File descriptors of the two channels. The program and a host in server mode use the same numbers: each
// reads on 3 and 5 and writes on 4 and 6; whoever starts the other process wires the pipes so that one's
// writes are the other's reads.
const (
	HintReadFd      = 3
	HintWriteFd     = 4
	PreimageReadFd  = 5
	PreimageWriteFd = 6
)

// FileChannel is one end of a bidirectional channel made of two pipes.
type FileChannel interface {
	io.ReadWriteCloser
	// Reader and Writer expose the files, e.g. to pass them to a child process.
	Reader() *os.File
	Writer() *os.File
}

// ReadWritePair joins a read file and a write file into one channel end.
type ReadWritePair struct {
	r *os.File
	w *os.File
}

// NewReadWritePair returns the channel end that reads r and writes w.
func NewReadWritePair(r, w *os.File) *ReadWritePair {
	return &ReadWritePair{r: r, w: w}
}

func (p *ReadWritePair) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *ReadWritePair) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *ReadWritePair) Reader() *os.File            { return p.r }
func (p *ReadWritePair) Writer() *os.File            { return p.w }

// Close closes both files; closing the write side is what tells the peer we are done.
func (p *ReadWritePair) Close() error {
	return errors.Join(p.r.Close(), p.w.Close())
}

// CreateBidirectionalChannel makes two pipes and returns the two ends of the channel they form: what a
// writes, b reads, and the other way round.
func CreateBidirectionalChannel() (a, b FileChannel, err error) {
	ar, bw, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("create pipe: %w", err)
	}
	br, aw, err := os.Pipe()
	if err != nil {
		ar.Close()
		bw.Close()
		return nil, nil, fmt.Errorf("create pipe: %w", err)
	}
	return NewReadWritePair(ar, aw), NewReadWritePair(br, bw), nil
}

// fdFile opens an inherited descriptor. Non-blocking mode lets Go's poller serve it, so a read returns when
// the peer closes and a Close from another goroutine unblocks a pending read. Where the platform (or a VM)
// refuses, the descriptor stays blocking, which is still correct.
func fdFile(fd uintptr, name string) *os.File {
	_ = syscall.SetNonblock(int(fd), true)
	return os.NewFile(fd, name)
}

// ClientHinterChannel is the hint channel on the inherited descriptors 3 (read) and 4 (write).
func ClientHinterChannel() *ReadWritePair {
	return NewReadWritePair(fdFile(HintReadFd, "hint-read"), fdFile(HintWriteFd, "hint-write"))
}

// ClientPreimageChannel is the preimage channel on the inherited descriptors 5 (read) and 6 (write).
func ClientPreimageChannel() *ReadWritePair {
	return NewReadWritePair(fdFile(PreimageReadFd, "preimage-read"), fdFile(PreimageWriteFd, "preimage-write"))
}
