package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// How long vm run waits for the pre-image server to exit at the end of a run: first after closing the
// channels, then after an interrupt signal, before it kills the process. Variables for the tests.
var (
	hostCloseTimeout     = 30 * time.Second
	hostInterruptTimeout = 30 * time.Second
	// hostExitGrace is how long a failed request waits for the server's exit status, to report it.
	hostExitGrace = 2 * time.Second
)

// hostProcess is the pre-image server that vm run starts from the command after "--": the hint and the
// pre-image channels are on its file descriptors 3-6, as Cannon passes them.
type hostProcess struct {
	log  log.Logger
	name string
	cmd  *exec.Cmd

	// Our ends of the two channels.
	hints, preimages preimage.FileChannel

	stdout, stderr *lineLogger

	done    chan struct{} // closed once the process has exited and waitErr is set
	waitErr error
	closed  atomic.Bool // we closed the channels: the server's exit is expected
}

// startHost starts args as the pre-image server. The child inherits our environment with NO_COLOR=1
// first (as Cannon does, to keep colour codes out of the logs); its stdout and stderr are logged line by
// line.
func startHost(logger log.Logger, args []string) (*hostProcess, error) {
	hints, hostHints, err := blockingChannel()
	if err != nil {
		return nil, fmt.Errorf("failed to create hint channel: %w", err)
	}
	preimages, hostPreimages, err := blockingChannel()
	if err != nil {
		hints.Close()
		hostHints.Close()
		return nil, fmt.Errorf("failed to create pre-image channel: %w", err)
	}
	h := &hostProcess{
		log:       logger,
		name:      args[0],
		hints:     hints,
		preimages: preimages,
		stdout:    newLineLogger(logger.With("module", "host", "stream", "stdout"), "Host output"),
		stderr:    newLineLogger(logger.With("module", "host", "stream", "stderr"), "Host output"),
		done:      make(chan struct{}),
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.ExtraFiles = []*os.File{hostHints.Reader(), hostHints.Writer(), hostPreimages.Reader(), hostPreimages.Writer()}
	cmd.Env = append([]string{"NO_COLOR=1"}, os.Environ()...)
	cmd.Stdout = h.stdout
	cmd.Stderr = h.stderr
	// Do not wait forever for output of processes the server left behind.
	cmd.WaitDelay = 5 * time.Second
	h.cmd = cmd
	err = cmd.Start()
	// The child has its own copies of its ends now. Closing ours means that we read EOF and write EPIPE
	// as soon as the server exits, instead of blocking.
	hostHints.Close()
	hostPreimages.Close()
	if err != nil {
		hints.Close()
		preimages.Close()
		return nil, fmt.Errorf("failed to start pre-image server %q: %w", args[0], err)
	}
	logger.Info("Started pre-image server", "cmd", args[0], "pid", cmd.Process.Pid)
	go func() {
		h.waitErr = cmd.Wait()
		close(h.done)
	}()
	return h, nil
}

// blockingChannel is preimage.CreateBidirectionalChannel made of pipes whose ends block: a request waits
// for its answer in read(2), where Go's poller would cost a round of the scheduler (a claim makes some
// tens of thousands of requests). Closing an end then does not end a read blocked on it: abort ends the
// server instead.
func blockingChannel() (ours, theirs preimage.FileChannel, err error) {
	ar, bw, err := blockingPipe()
	if err != nil {
		return nil, nil, err
	}
	br, aw, err := blockingPipe()
	if err != nil {
		ar.Close()
		bw.Close()
		return nil, nil, err
	}
	return preimage.NewReadWritePair(ar, aw), preimage.NewReadWritePair(br, bw), nil
}

// blockingPipe is os.Pipe without the non-blocking mode: os.NewFile leaves a blocking descriptor to
// plain system calls.
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	syscall.ForkLock.RLock() // no child inherits the descriptors before they are close-on-exec
	err = syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("create pipe: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}

// abort ends the server of an interrupted run: it closes the channels and interrupts the process, whose
// exit ends a request blocked on it; a server still running after hostInterruptTimeout is killed. stop
// then waits for it.
func (h *hostProcess) abort() {
	h.closeChannels()
	if err := h.cmd.Process.Signal(os.Interrupt); err != nil {
		return // it has exited
	}
	go func() {
		if !h.exited(hostInterruptTimeout) {
			_ = h.cmd.Process.Kill()
		}
	}()
}

// exited waits up to d for the process to exit and reports whether it did.
func (h *hostProcess) exited(d time.Duration) bool {
	select {
	case <-h.done:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.done:
		return true
	case <-t.C:
		return false
	}
}

// exitError describes how the exited process failed, or is nil if it exited with code 0.
func (h *hostProcess) exitError() error {
	if h.waitErr == nil {
		return nil
	}
	msg := h.waitErr.Error()
	var ee *exec.ExitError
	if errors.As(h.waitErr, &ee) && ee.Exited() {
		msg = fmt.Sprintf("exited with code %d", ee.ExitCode())
	}
	if last := h.stderr.LastLine(); last != "" {
		msg += fmt.Sprintf(" (last output: %q)", truncateText(last, 300))
	} else if last := h.stdout.LastLine(); last != "" {
		msg += fmt.Sprintf(" (last output: %q)", truncateText(last, 300))
	}
	return fmt.Errorf("pre-image server %s %s", h.name, msg)
}

// closeChannels closes our ends of the channels: a server sees the end of both streams and should exit.
// It also unblocks a request waiting for an answer.
func (h *hostProcess) closeChannels() {
	h.closed.Store(true)
	h.hints.Close()
	h.preimages.Close()
}

// stop ends the server at the end of a run: it closes the channels and waits for the process to exit,
// then interrupts it and waits again, then kills it. When the run was interrupted, the server is
// interrupted right away. The error is the server's failure if it exited on its own with a non-zero code;
// a server that had to be signalled is only reported in the log.
func (h *hostProcess) stop(interrupted bool) error {
	h.closeChannels()
	defer h.stdout.Flush()
	defer h.stderr.Flush()
	if !interrupted {
		if h.exited(hostCloseTimeout) {
			return h.exitError()
		}
		h.log.Info("Pre-image server did not exit when its channels closed, sending interrupt", "timeout", hostCloseTimeout)
	} else if h.exited(0) {
		return nil
	}
	if err := h.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		h.log.Warn("Failed to interrupt pre-image server", "err", err)
	}
	if h.exited(hostInterruptTimeout) {
		if err := h.exitError(); err != nil && !interrupted {
			h.log.Warn("Pre-image server exited after interrupt", "err", err)
		}
		return nil
	}
	h.log.Warn("Pre-image server did not exit after interrupt, killing it", "timeout", hostInterruptTimeout)
	if err := h.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		h.log.Warn("Failed to kill pre-image server", "err", err)
	}
	<-h.done
	return nil
}

// oracleFailure is the panic value with which hostOracle stops the VM mid-step when the pre-image server
// cannot answer; vm run recovers it and fails with err. It is an error itself for bench vm's run loop,
// which recovers it as one.
type oracleFailure struct{ err error }

func (f oracleFailure) Error() string { return f.err.Error() }

func (f oracleFailure) Unwrap() error { return f.err }

// hostOracle is the vm.PreimageOracle of vm run: it forwards the program's hints and pre-image requests to
// the pre-image server over the wire protocol (the hint acknowledgement the program reads is the VM's
// own). Answers to keccak256 and sha256 keys are verified against the key. Without a server, hints are
// dropped and a pre-image request fails.
type hostOracle struct {
	host   *hostProcess // nil without a server
	hints  *preimage.HintWriter
	client *preimage.OracleClient
	nHints int
	// reportedHostExit is set once a failure was reported with the server's exit status.
	reportedHostExit bool
}

var _ vm.PreimageOracle = (*hostOracle)(nil)

func newHostOracle(h *hostProcess) *hostOracle {
	o := &hostOracle{host: h}
	if h != nil {
		o.hints = preimage.NewHintWriter(bufferedReads(h.hints))
		o.client = preimage.NewOracleClient(bufferedReads(h.preimages))
	}
	return o
}

// bufferedReads reads rw through a buffer: an answer's length and data, which the server may write at
// once, then take one read instead of two or more. The protocol is request and answer, so the buffer
// never holds more than the answer being read.
func bufferedReads(rw io.ReadWriter) io.ReadWriter {
	return struct {
		io.Reader
		io.Writer
	}{bufio.NewReaderSize(rw, 64<<10), rw}
}

func (o *hostOracle) Hint(v []byte) {
	o.nHints++
	if o.hints == nil {
		return
	}
	if err := o.hints.Hint(preimage.RawHint(v)); err != nil {
		o.fail(err)
	}
}

func (o *hostOracle) GetPreimage(k [32]byte) []byte {
	if o.client == nil {
		panic(oracleFailure{fmt.Errorf("the program requested the pre-image of key %x, but no pre-image server was given (add -- <server command> to vm run)", k)})
	}
	v, err := o.client.Get(preimage.RawKey(k))
	if err != nil {
		o.fail(err)
	}
	return v
}

// fail stops the VM with err, adding how the server exited if it did.
func (o *hostOracle) fail(err error) {
	if o.host != nil && !o.host.closed.Load() && o.host.exited(hostExitGrace) {
		o.reportedHostExit = true
		if exitErr := o.host.exitError(); exitErr != nil {
			err = fmt.Errorf("%w: %w", exitErr, err)
		} else {
			err = fmt.Errorf("pre-image server %s exited: %w", o.host.name, err)
		}
	}
	panic(oracleFailure{err})
}
