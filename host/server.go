package host

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/preimage"
)

// Server answers one program's hints and preimage requests: local keys from the configuration, global keys
// from a Prefetcher, every answer verified against its key.
type Server struct {
	log    log.Logger
	local  *LocalSource
	global Prefetcher

	preimages atomic.Uint64
	bytes     atomic.Uint64
	hints     atomic.Uint64
	localRead atomic.Uint32 // bit i: local key i was served
}

// NewServer returns a server over the given sources.
func NewServer(logger log.Logger, local *LocalSource, global Prefetcher) *Server {
	return &Server{log: logger, local: local, global: global}
}

// getter splits keys by type and verifies what comes back.
func (s *Server) getter(ctx context.Context) preimage.GetterFunc {
	return preimage.WithVerification(func(key [32]byte) ([]byte, error) {
		var v []byte
		var err error
		if preimage.KeyType(key[0]) == preimage.LocalKeyType {
			if v, err = s.local.Get(key); err == nil {
				if idx := binary.BigEndian.Uint64(key[24:]); idx < 32 {
					s.localRead.Or(1 << idx)
				}
			}
		} else {
			v, err = s.global.GetPreimage(ctx, key)
		}
		if err != nil {
			return nil, err
		}
		s.preimages.Add(1)
		s.bytes.Add(uint64(len(v)))
		s.log.Trace("Served preimage", "key", fmt.Sprintf("%x", key), "size", len(v))
		return v, nil
	})
}

// ReadVerdictInputs reports whether the program was served the local keys every verdict depends on: the
// L1 head (1) and the claim (3). A program that exits without them decided nothing, whatever its code.
func (s *Server) ReadVerdictInputs() bool {
	want := uint32(1)<<preimage.L1HeadLocalIndex | uint32(1)<<preimage.L2ClaimLocalIndex
	return s.localRead.Load()&want == want
}

func (s *Server) handleHint(hint string) error {
	// A malformed hint is a broken program: stop rather than guess.
	typ, _, err := preimage.ParseHint(hint)
	if err != nil {
		return err
	}
	s.hints.Add(1)
	s.log.Debug("Received hint", "type", typ)
	return s.global.Hint(hint)
}

// Serve runs until the program closes both channels (a clean end, nil), one side fails, or ctx ends (nil:
// the host was asked to stop). It closes both channels before it returns, so a program still waiting on
// them sees the end of its stream.
func (s *Server) Serve(ctx context.Context, preimageCh, hintCh io.ReadWriteCloser) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var closeOnce sync.Once
	closeAll := func() {
		closeOnce.Do(func() {
			preimageCh.Close()
			hintCh.Close()
		})
	}
	defer closeAll()
	go func() {
		<-ctx.Done()
		closeAll() // unblocks the reads below
	}()

	errs := make(chan error, 2)
	loop := func(next func() error) {
		for {
			if err := next(); err != nil {
				if isEndOfStream(err) || ctx.Err() != nil {
					errs <- nil
				} else {
					errs <- err
					cancel() // the other side cannot be served meaningfully either
				}
				return
			}
		}
	}
	oracle := preimage.NewOracleServer(preimageCh)
	get := s.getter(ctx)
	go loop(func() error { return oracle.NextPreimageRequest(get) })
	hints := preimage.NewHintReader(hintCh)
	go loop(func() error { return hints.NextHint(s.handleHint) })

	err := errors.Join(<-errs, <-errs)
	s.log.Info("Preimage server stopped", "preimages", s.preimages.Load(), "bytes", s.bytes.Load(), "hints", s.hints.Load())
	return err
}

// isEndOfStream reports the ways a channel ends when the program exits or closes it.
func isEndOfStream(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}
