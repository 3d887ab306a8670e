package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// ProgramFunc runs the fault proof program in process over the program's ends of the two channels. It
// returns nil if the claim is valid and an error otherwise (see ExitError for the verdict).
type ProgramFunc func(ctx context.Context, preimageCh, hintCh io.ReadWriter) error

// ExitError carries the program's exit code: 1 for an invalid claim, 2 (or more) for a program failure.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("program exited with code %d: %v", e.Code, e.Err)
	}
	return fmt.Sprintf("program exited with code %d", e.Code)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrNoVerdict is returned when the program exits with a verdict (0: valid, 1: invalid) without having read
// the inputs every verdict depends on, the L1 head and the claim: e.g. --exec /bin/true. Such an exit code
// is not a verdict, so the host fails instead (exit code 2).
var ErrNoVerdict = errors.New("no verdict")

// checkVerdict turns a verdict (err nil: valid, or an ExitError with code 1) of a program that did not read
// its verdict inputs into ErrNoVerdict.
func checkVerdict(srv *Server, program string, err error) error {
	var exitErr *ExitError
	if (err == nil || (errors.As(err, &exitErr) && exitErr.Code == preimage.ExitInvalid)) && !srv.ReadVerdictInputs() {
		code := preimage.ExitValid
		if err != nil {
			code = preimage.ExitInvalid
		}
		return fmt.Errorf("%w: %s exited with code %d without reading the L1 head and the claim (local keys %d and %d), so its code does not decide the claim",
			ErrNoVerdict, program, code, preimage.L1HeadLocalIndex, preimage.L2ClaimLocalIndex)
	}
	return err
}

// ErrInProcessUnavailable is returned when the host should run the program in process but was built
// without it.
var ErrInProcessUnavailable = errors.New("the in-process fault proof program is not built into this binary yet: run it as a child with --exec PATH, or serve a VM with --server")

// Host serves one program instance.
type Host struct {
	log     log.Logger
	cfg     *Config
	program ProgramFunc
	// NewPrefetcher makes the online prefetcher; nil means online mode is not available.
	NewPrefetcher func(ctx context.Context, logger log.Logger, cfg *Config, kv kvstore.KV) (Prefetcher, error)
	// Store, if set, is the preimage store to serve from instead of opening the datadir (e.g. preimages a
	// caller made in memory). The host does not close it.
	Store kvstore.KV

	srv *Server
}

// Stats reports what the last Run served.
func (h *Host) Stats() (preimages, bytes, hints uint64) {
	if h.srv == nil {
		return 0, 0, 0
	}
	return h.srv.preimages.Load(), h.srv.bytes.Load(), h.srv.hints.Load()
}

// New returns a host for cfg. program runs the program in process; it may be nil when the host only
// serves (--server) or runs a child (--exec).
func New(logger log.Logger, cfg *Config, program ProgramFunc) *Host {
	return &Host{log: logger, cfg: cfg, program: program}
}

// Run checks the configuration, opens the store and serves the program in the configured mode. Its error
// is an *ExitError when the program itself ended with a non-zero code.
func (h *Host) Run(ctx context.Context) error {
	if err := h.cfg.check(h.Store != nil); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	if !h.cfg.ServerMode && h.cfg.ExecCmd == "" && h.program == nil {
		return ErrInProcessUnavailable
	}
	if h.cfg.DataDir != "" && h.Store == nil {
		if err := checkDataDir(h.cfg.DataDir, h.cfg.FetchingEnabled()); err != nil {
			return err
		}
	}
	if h.cfg.ServerMode {
		if err := checkServerFds(); err != nil {
			return err
		}
	}
	kv := h.Store
	if kv == nil {
		opened, format, err := kvstore.Open(h.cfg.DataDir, h.cfg.DataFormat)
		if err != nil {
			return fmt.Errorf("open preimage store: %w", err)
		}
		defer func() {
			if err := opened.Close(); err != nil {
				h.log.Error("Failed to close preimage store", "err", err)
			}
		}()
		h.log.Info("Opened preimage store", "datadir", h.cfg.DataDir, "format", format)
		kv = opened
	}

	if err := storePrestate(h.cfg, func(k [32]byte, v []byte) error { return kv.Put(k, v) }); err != nil {
		return fmt.Errorf("store the agreed prestate: %w", err)
	}
	local, err := NewLocalSource(h.cfg)
	if err != nil {
		return err
	}
	var global Prefetcher
	if h.cfg.FetchingEnabled() {
		if h.NewPrefetcher == nil {
			return errors.New("online prefetching (--l1, --l2, --l1.beacon) is not implemented yet: run offline with a filled --datadir")
		}
		if global, err = h.NewPrefetcher(ctx, h.log, h.cfg, kv); err != nil {
			return fmt.Errorf("start prefetcher: %w", err)
		}
		if c, ok := global.(io.Closer); ok {
			defer c.Close()
		}
	} else {
		h.log.Info("Fetching disabled: serving preimages from the datadir only")
		global = NewOfflineSource(h.log, kv)
	}
	srv := NewServer(h.log, local, global)
	h.srv = srv

	switch {
	case h.cfg.ServerMode:
		h.log.Info("Serving preimages on file descriptors 3-6")
		return srv.Serve(ctx, preimage.ClientPreimageChannel(), preimage.ClientHinterChannel())
	case h.cfg.ExecCmd != "":
		return h.runChild(ctx, srv)
	default:
		return h.runInProcess(ctx, srv)
	}
}

// checkDataDir rejects a datadir that does not exist when the host could not fill it anyway: offline, an
// empty new directory could only produce "missing preimage" errors later.
func checkDataDir(dir string, fetching bool) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("datadir %s is not a directory", dir)
	case errors.Is(err, os.ErrNotExist) && !fetching:
		return fmt.Errorf("datadir %s does not exist (offline mode serves preimages from an existing datadir)", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("datadir %s: %w", dir, err)
	}
	return nil
}

// checkServerFds makes sure a VM handed us the four channel descriptors, so that running --server by hand
// fails with a message instead of an obscure read error.
func checkServerFds() error {
	for fd := preimage.HintReadFd; fd <= preimage.PreimageWriteFd; fd++ {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return fmt.Errorf("--server expects the preimage and hint channels on file descriptors 3-6, but fd %d is not open: %w", fd, err)
		}
	}
	return nil
}

// runChild starts the program with the channels on its fds 3-6 and serves it until it exits.
func (h *Host) runChild(ctx context.Context, srv *Server) error {
	hostHint, childHint, err := preimage.CreateBidirectionalChannel()
	if err != nil {
		return err
	}
	hostPre, childPre, err := preimage.CreateBidirectionalChannel()
	if err != nil {
		hostHint.Close()
		childHint.Close()
		return err
	}
	cmd := exec.CommandContext(ctx, h.cfg.ExecCmd)
	cmd.ExtraFiles = []*os.File{childHint.Reader(), childHint.Writer(), childPre.Reader(), childPre.Writer()}
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	h.log.Info("Starting program", "path", h.cfg.ExecCmd)
	startErr := cmd.Start()
	// The child has its own copies now; ours must go, or we would never see the child's end of stream.
	childHint.Close()
	childPre.Close()
	if startErr != nil {
		hostHint.Close()
		hostPre.Close()
		return fmt.Errorf("start program %s: %w", h.cfg.ExecCmd, startErr)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ctx, hostPre, hostHint) }()
	waitErr := cmd.Wait()
	// The child is gone: its ends are closed, so Serve returns once it has read what is left.
	sErr := <-serveErr
	if sErr != nil {
		// The server's error says why the program could not go on; the exit code is only its echo.
		return fmt.Errorf("preimage server: %w", sErr)
	}
	if waitErr != nil {
		var exitErr *exec.ExitError
		if errors.As(waitErr, &exitErr) && exitErr.ExitCode() > 0 {
			return checkVerdict(srv, "program "+h.cfg.ExecCmd, &ExitError{Code: exitErr.ExitCode()})
		}
		return fmt.Errorf("program %s: %w", h.cfg.ExecCmd, waitErr)
	}
	return checkVerdict(srv, "program "+h.cfg.ExecCmd, nil)
}

// runInProcess runs the program in a goroutine over pipes, exactly as a child would see them.
func (h *Host) runInProcess(ctx context.Context, srv *Server) error {
	hostHint, progHint, err := preimage.CreateBidirectionalChannel()
	if err != nil {
		return err
	}
	hostPre, progPre, err := preimage.CreateBidirectionalChannel()
	if err != nil {
		hostHint.Close()
		progHint.Close()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ctx, hostPre, hostHint) }()
	progErr := h.program(ctx, progPre, progHint)
	progHint.Close()
	progPre.Close()
	if sErr := <-serveErr; sErr != nil {
		return fmt.Errorf("preimage server: %w", sErr)
	}
	return checkVerdict(srv, "the in-process program", progErr)
}
