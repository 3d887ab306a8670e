package devnet_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
)

// faultServer serves the shared devnet on a server of the test's own, so that its faults touch no other
// test.
func faultServer(t *testing.T) *devnet.Server {
	t.Helper()
	s, err := devnet.Serve(context.Background(), testDevnet(t), "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// chainID asks an endpoint for its chain ID over JSON-RPC with a timeout.
func chainID(url string, timeout time.Duration) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var id hexutil.Uint64
	err = c.CallContext(ctx, &id, "eth_chainId")
	return uint64(id), err
}

func TestEndpointInject(t *testing.T) {
	s := faultServer(t)
	wrongID := func(a *devnet.Answer) { a.Result = json.RawMessage(`"0x7"`) }
	for _, tc := range []struct {
		name  string
		fault devnet.RequestFault
		check func(t *testing.T, id uint64, err error)
	}{
		{"500", devnet.Fail500, func(t *testing.T, _ uint64, err error) {
			var httpErr rpc.HTTPError
			require.ErrorAs(t, err, &httpErr)
			require.Equal(t, http.StatusInternalServerError, httpErr.StatusCode)
		}},
		{"502", devnet.Fail502, func(t *testing.T, _ uint64, err error) {
			var httpErr rpc.HTTPError
			require.ErrorAs(t, err, &httpErr)
			require.Equal(t, http.StatusBadGateway, httpErr.StatusCode)
		}},
		{"JSON-RPC error", devnet.FailRPC, func(t *testing.T, _ uint64, err error) {
			var rpcErr rpc.Error
			require.ErrorAs(t, err, &rpcErr)
			require.Equal(t, -32000, rpcErr.ErrorCode())
		}},
		{"no answer", devnet.FailHang, func(t *testing.T, _ uint64, err error) {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}},
		{"truncated", devnet.FailTruncated, func(t *testing.T, _ uint64, err error) {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}},
		{"tampered", devnet.RequestFault{Tamper: wrongID}, func(t *testing.T, id uint64, err error) {
			require.NoError(t, err)
			require.Equal(t, uint64(7), id)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l2 := s.L2()
			injected := l2.Injected()
			// A fault for another method leaves this one alone, and waits for its own.
			l2.Inject("eth_getBlockByHash", devnet.Fail500)
			l2.Inject("eth_chainId", tc.fault)
			id, err := chainID(s.L2URL(), 500*time.Millisecond)
			tc.check(t, id, err)
			require.Equal(t, injected+1, l2.Injected())
			// One fault, one request: the next is served.
			id, err = chainID(s.L2URL(), 5*time.Second)
			require.NoError(t, err)
			require.Equal(t, uint64(901), id)
			// The other method's fault is still there.
			var blk json.RawMessage
			err = dialRPC(t, s.L2URL()).CallContext(context.Background(), &blk, "eth_getBlockByNumber", "0x1", false)
			require.NoError(t, err, "a fault for eth_getBlockByHash")
			err = dialRPC(t, s.L2URL()).CallContext(context.Background(), &blk, "eth_getBlockByHash", testDevnet(t).L2Block(1).Hash(), false)
			require.Error(t, err)
			require.Equal(t, injected+2, l2.Injected())
		})
	}
	// Any request: "" matches every name; the beacon's errors are its error objects.
	s.Beacon().Inject("", devnet.Fail502, devnet.FailRPC)
	for _, want := range []int{http.StatusBadGateway, http.StatusInternalServerError, http.StatusOK} {
		status, body := beaconGet(t, s, "/eth/v1/beacon/genesis")
		require.Equal(t, want, status, string(body))
		if want != http.StatusOK {
			require.Contains(t, string(body), `"code":`)
		}
	}
	require.Equal(t, 3, s.Beacon().Requests("genesis"), "failed requests are counted")
}

func TestEndpointDrop(t *testing.T) {
	s := faultServer(t)
	s.L1().Drop("eth_getBlockReceipts")
	status, answer := rpcPost(t, s.L1URL(), "application/json", `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockReceipts","params":["0x1"]}`)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, float64(-32601), errorCode(t, answer))
	// In a batch, the other calls are served.
	resp, err := http.Post(s.L1URL(), "application/json", strings.NewReader(
		`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":"x","method":"eth_getBlockReceipts","params":["0x1"]},{"jsonrpc":"2.0","id":3,"method":"eth_blockNumber","params":[]}]`))
	require.NoError(t, err)
	var batch []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&batch))
	resp.Body.Close()
	require.Len(t, batch, 3)
	require.Equal(t, "0x384", batch[0]["result"])
	require.Equal(t, "x", batch[1]["id"])
	require.Equal(t, float64(-32601), errorCode(t, batch[1]))
	require.NotEmpty(t, batch[2]["result"])
	require.Equal(t, 2, s.L1().Requests("eth_getBlockReceipts"), "dropped calls are counted")
	require.Equal(t, 0, s.L2().Requests("eth_getBlockReceipts"))

	s.Beacon().Drop("blobs")
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blobs/1")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = beaconGet(t, s, "/eth/v1/beacon/blob_sidecars/1")
	require.Equal(t, http.StatusOK, status)
}

func TestEndpointTamper(t *testing.T) {
	s := faultServer(t)
	d := testDevnet(t)
	// A result rewritten, and an error turned into a result.
	s.L2().SetTamper(func(a *devnet.Answer) {
		switch a.Name {
		case "eth_chainId":
			a.Result = json.RawMessage(`"0x1"`)
		case "debug_dbGet":
			var params []string
			require.NoError(t, json.Unmarshal(a.Params, &params))
			if params[0] == "0x0102" {
				require.NotNil(t, a.Error, "no such key")
				a.Result, a.Error = json.RawMessage(`"0xabcd"`), nil
			}
		}
	})
	id, err := chainID(s.L2URL(), 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, uint64(1), id)
	var v hexutil.Bytes
	require.NoError(t, dialRPC(t, s.L2URL()).CallContext(context.Background(), &v, "debug_dbGet", "0x0102"))
	require.Equal(t, hexutil.Bytes{0xab, 0xcd}, v)
	var n hexutil.Uint64
	require.NoError(t, dialRPC(t, s.L2URL()).CallContext(context.Background(), &n, "eth_blockNumber"))
	require.Equal(t, d.L2Head().NumberU64(), uint64(n), "other answers untouched")
	s.L2().SetTamper(nil)
	id, err = chainID(s.L2URL(), 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, uint64(901), id)

	// The beacon's answers are bodies.
	s.Beacon().SetTamper(func(a *devnet.Answer) {
		if a.Name == "genesis" {
			a.Result = json.RawMessage(`{"data":{"genesis_time":"5"}}`)
		}
	})
	status, body := beaconGet(t, s, "/eth/v1/beacon/genesis")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"data":{"genesis_time":"5"}}`, string(body))
}

func TestEndpointLatency(t *testing.T) {
	s := faultServer(t)
	const latency = 150 * time.Millisecond
	s.L1().SetLatency(latency)
	start := time.Now()
	_, err := chainID(s.L1URL(), 5*time.Second)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), latency)
	// A client that gives up first gets nothing.
	_, err = chainID(s.L1URL(), latency/3)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s.L1().SetLatency(0)
	start = time.Now()
	_, err = chainID(s.L1URL(), 5*time.Second)
	require.NoError(t, err)
	require.Less(t, time.Since(start), latency)
}

func TestEndpointRestart(t *testing.T) {
	s := faultServer(t)
	c := dialRPC(t, s.L1URL()) // its connection is kept alive across calls
	var id hexutil.Uint64
	require.NoError(t, c.CallContext(context.Background(), &id, "eth_chainId"))
	s.L1().Down()
	err := c.CallContext(context.Background(), &id, "eth_chainId")
	require.Error(t, err)
	var httpErr rpc.HTTPError
	require.False(t, errors.As(err, &httpErr), "no HTTP answer from a node that is down: %v", err)
	require.NoError(t, s.L1().Up())
	require.NoError(t, c.CallContext(context.Background(), &id, "eth_chainId"))
	require.Equal(t, hexutil.Uint64(900), id)
	require.Equal(t, 2, s.L1().Requests("eth_chainId"))
	// Closing a server that is down, holding a request, or with a connection that sent none, is quick.
	s.L1().Inject("", devnet.FailHang)
	go func() { _, _ = chainID(s.L1URL(), time.Minute) }()
	s.L2().Down()
	idle, err := net.Dial("tcp", strings.TrimPrefix(s.BeaconURL(), "http://"))
	require.NoError(t, err)
	defer idle.Close()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	require.NoError(t, s.Close())
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestEndpointRefuseBatchesAndRoundTrips(t *testing.T) {
	s := faultServer(t)
	c := dialRPC(t, s.L1URL())
	batch := func() []rpc.BatchElem {
		ids := make([]hexutil.Uint64, 2)
		return []rpc.BatchElem{{Method: "eth_chainId", Result: &ids[0]}, {Method: "eth_chainId", Result: &ids[1]}}
	}
	b := batch()
	require.NoError(t, c.BatchCallContext(context.Background(), b))
	require.NoError(t, b[0].Error)
	require.Equal(t, 1, s.L1().RoundTrips(), "a batch is one round trip")
	require.Equal(t, 2, s.L1().Requests("eth_chainId"), "and two calls")

	s.L1().RefuseBatches()
	require.Error(t, c.BatchCallContext(context.Background(), batch()), "a single error object for a batch")
	status, answer := rpcPost(t, s.L1URL(), "application/json", `[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}]`)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, float64(-32600), errorCode(t, answer))
	var id hexutil.Uint64
	require.NoError(t, c.CallContext(context.Background(), &id, "eth_chainId"), "single calls are served")
	require.Equal(t, hexutil.Uint64(900), id)
	require.Equal(t, 4, s.L1().RoundTrips())
	s.L1().ResetRequests()
	require.Zero(t, s.L1().RoundTrips())
}
