package sources_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/sources"
)

// hugeServer answers every request with the start of a JSON answer (a JSON-RPC result, or a beacon API
// data object) that never ends: a hex string streamed until the client hangs up or maxBody bytes are
// written. With announce, the answer declares a Content-Length of maxBody first.
type hugeServer struct {
	URL     string
	written atomic.Int64
}

func newHugeServer(t *testing.T, maxBody int64, announce bool) *hugeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &hugeServer{URL: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head := `{"jsonrpc":"2.0","id":1,"result":"0x`
		if r.Method == http.MethodGet {
			head = `{"data":{"genesis_time":"0x`
		}
		w.Header().Set("Content-Type", "application/json")
		if announce {
			w.Header().Set("Content-Length", strconv.FormatInt(maxBody, 10))
		}
		n, err := w.Write([]byte(head))
		s.written.Add(int64(n))
		chunk := []byte(strings.Repeat("00", 32<<10))
		for err == nil && s.written.Load() < maxBody {
			n, err = w.Write(chunk[:min(int64(len(chunk)), maxBody-s.written.Load())])
			s.written.Add(int64(n))
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// TestResponseAnnouncedTooLarge: an answer that announces more than DefaultMaxResponseSize is refused
// before it is read, from an L1 or L2 node and from a beacon node. Before, the host read it (here the
// server sends 1 MiB of an announced 1 GiB and hangs up; a node that sends it all drove the host to 5 GiB
// of heap).
func TestResponseAnnouncedTooLarge(t *testing.T) {
	srv := newHugeServer(t, 1<<30, true)
	ctx := context.Background()
	checkRefused := func(what string, err error) {
		t.Helper()
		require.ErrorIs(t, err, sources.ErrResponseTooLarge, "%s: %v, want %v", what, err, sources.ErrResponseTooLarge)
	}
	rc, err := sources.Dial(ctx, srv.URL)
	require.NoError(t, err)
	defer rc.Close()
	_, err = sources.NewL1Client(rc, sources.RPCKindStandard, sources.Options{}).ChainID(ctx)
	checkRefused("L1 chain ID", err)
	_, err = sources.NewL2Client(rc, sources.Options{}).ExecutePayload(ctx, common.Hash{1}, []byte(`{}`))
	checkRefused("L2 witness", err)
	beacon, err := sources.NewBeaconClient(srv.URL, sources.Options{})
	require.NoError(t, err)
	_, err = beacon.SlotAt(ctx, devnettest.L1GenesisTime)
	checkRefused("beacon genesis", err)
}

// TestResponseStreamedTooLarge: an answer without a length that streams past the bound fails at the bound,
// with the memory the host uses bounded by it, for every kind of answer: ordinary and witness JSON-RPC
// answers and beacon answers. The bound is lowered (Options.MaxResponseSize) to keep the test quick; the
// server would stream 1 GiB.
func TestResponseStreamedTooLarge(t *testing.T) {
	const bound = 4 << 20
	srv := newHugeServer(t, 1<<30, false)
	ctx := context.Background()
	opts := sources.Options{MaxResponseSize: bound}
	rc, err := sources.Dial(ctx, srv.URL)
	require.NoError(t, err)
	defer rc.Close()
	beacon, err := sources.NewBeaconClient(srv.URL, opts)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"L1 block", func() error {
			_, err := sources.NewL1Client(rc, sources.RPCKindStandard, opts).BlockByHash(ctx, common.Hash{1})
			return err
		}},
		{"L2 receipts", func() error {
			_, err := sources.NewL2Client(rc, opts).ReceiptsByHash(ctx, common.Hash{1})
			return err
		}},
		{"L2 witness", func() error {
			_, err := sources.NewL2Client(rc, opts).ExecutePayload(ctx, common.Hash{1}, []byte(`{}`))
			return err
		}},
		{"beacon", func() error {
			_, err := beacon.SlotAt(ctx, devnettest.L1GenesisTime)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.written.Store(0)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tc.call()
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, sources.ErrResponseTooLarge, "got %v, want %v", err, sources.ErrResponseTooLarge)
			require.Contains(t, err.Error(), fmt.Sprint(bound), "the error does not name the bound: %v", err)
			// The decoder's buffer grows to the bound, doubling: a few times the bound per request (receipts
			// ask for the block too).
			alloc := after.TotalAlloc - before.TotalAlloc
			require.LessOrEqual(t, alloc, uint64(16*bound), "%d MiB allocated for an answer bounded at %d MiB", alloc>>20, bound>>20)
			// The server could write what the socket buffers hold after the client hung up.
			w := srv.written.Load()
			require.LessOrEqual(t, w, int64(16*bound), "the server streamed %d MiB", w>>20)
		})
	}
}

// TestResponseAtTheBound: an answer of exactly the bound is read; one byte more is too large, whether the
// answer announces its length or not.
func TestResponseAtTheBound(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":1,"result":"0x2a"}`
	for _, announce := range []bool{true, false} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if announce {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			} else {
				w.Header().Set("Transfer-Encoding", "chunked")
			}
			w.Write([]byte(body))
		})}
		go srv.Serve(l)
		rc, err := sources.Dial(context.Background(), "http://"+l.Addr().String())
		require.NoError(t, err)
		for _, bound := range []int64{int64(len(body)), int64(len(body)) - 1} {
			id, err := sources.NewL1Client(rc, sources.RPCKindStandard, sources.Options{MaxResponseSize: bound}).ChainID(context.Background())
			switch {
			case bound == int64(len(body)) && (err != nil || id != 42):
				require.FailNow(t, fmt.Sprintf("announce %v, bound %d: %d, %v", announce, bound, id, err))
			case bound < int64(len(body)) && !errors.Is(err, sources.ErrResponseTooLarge):
				require.FailNow(t, fmt.Sprintf("announce %v, bound %d: %v", announce, bound, err))
			}
		}
		rc.Close()
		srv.Close()
	}
}
