package main

import (
	"io"
	"syscall"
	"unsafe"

	"github.com/faultproof/faultproof/preimage"
)

// rawChannel reads and writes two inherited descriptors with raw system calls. Inside the VM every read
// of the preimage channel returns at most one 8-byte word, so a preimage of 32 bytes takes several reads;
// going around os.File (poller, locks) and the runtime's enter/exit-syscall bookkeeping saves hundreds of
// VM steps per call. The VM never blocks a read or write, so nothing needs the scheduler's help.
type rawChannel struct{ r, w uintptr }

// rawSyscall3 makes one system call (syscall_mips64.s) and returns its result or errno.
func rawSyscall3(num, a1, a2, a3 uintptr) (r1, errno uintptr)

func (c *rawChannel) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, e := rawSyscall3(syscall.SYS_READ, c.r, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch errno := syscall.Errno(e); {
		case errno == syscall.EINTR || errno == syscall.EAGAIN:
			continue
		case errno != 0:
			return 0, errno
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}

// ReadFull implements preimage.FullReader: it reads until b is full.
func (c *rawChannel) ReadFull(b []byte) error {
	for n := 0; n < len(b); {
		m, e := rawSyscall3(syscall.SYS_READ, c.r, uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
		switch errno := syscall.Errno(e); {
		case errno == syscall.EINTR || errno == syscall.EAGAIN:
			continue
		case errno != 0:
			return errno
		case m == 0 && n == 0:
			return io.EOF
		case m == 0:
			return io.ErrUnexpectedEOF
		}
		n += int(m)
	}
	return nil
}

func (c *rawChannel) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, e := rawSyscall3(syscall.SYS_WRITE, c.w, uintptr(unsafe.Pointer(&b[written])), uintptr(len(b)-written))
		switch errno := syscall.Errno(e); {
		case errno == syscall.EINTR || errno == syscall.EAGAIN:
			continue
		case errno != 0:
			return written, errno
		}
		written += int(n)
	}
	return written, nil
}

func preimageChannel() io.ReadWriter {
	return &rawChannel{preimage.PreimageReadFd, preimage.PreimageWriteFd}
}
func hintChannel() io.ReadWriter { return &rawChannel{preimage.HintReadFd, preimage.HintWriteFd} }
