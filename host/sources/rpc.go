// Package sources talks to the nodes an online host fetches preimages from: an L1 execution node, an L1
// beacon node and an L2 execution node (plus, optionally, an experimental L2 node that serves execution
// witnesses). Every answer is checked before it is handed out: a header must hash to the hash it was asked
// for, transaction and receipt lists must rebuild the roots their header commits to, account proofs must
// verify against the state root, and blobs must match their KZG commitment.
// A node that answers wrongly yields an error wrapping ErrInvalidResponse, never wrong data.
package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// DefaultTimeout bounds one request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Bounds on the size of a node's answer (its HTTP body, or websocket message), so that a node streaming an
// endless answer costs a bounded amount of memory (up to about 3.5 times the bound while it is decoded)
// instead of all of it. They are generous for real chains: the largest ordinary answers are a block's
// receipts with their logs and a block with its transactions, a few MiB on OP Mainnet and Base (about
// 20 MiB for a full 150M-gas block of calldata, hex-encoded); a beacon node's blob sidecars are 256 KiB
// per blob, hex-encoded. An execution witness (debug_executePayload, debug_executionWitness) holds every
// trie node and contract code a block touched: tens of MiB for the largest blocks seen.
const (
	// DefaultMaxResponseSize bounds every answer without a bound of its own.
	DefaultMaxResponseSize = 128 << 20
	// MaxWitnessResponseSize bounds an execution witness.
	MaxWitnessResponseSize = 256 << 20
)

var (
	// ErrInvalidResponse wraps every check a node's answer failed: it answered, but not with what was
	// asked for.
	ErrInvalidResponse = errors.New("invalid response")
	// ErrNotFound is returned when a node answers that it does not have the requested item.
	ErrNotFound = errors.New("not found")
	// ErrResponseTooLarge is returned for an answer larger than its bound (see DefaultMaxResponseSize).
	ErrResponseTooLarge = errors.New("response too large")
)

// Options are shared by the clients of this package.
type Options struct {
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// OnRequest, if set, is called once for every request sent, with its method name (JSON-RPC method, or
	// "beacon_*" for the beacon API), for statistics. It must be safe for concurrent use.
	OnRequest func(method string)
	// MaxResponseSize, if set, bounds every answer instead of DefaultMaxResponseSize and
	// MaxWitnessResponseSize (over HTTP; a websocket message is bounded by MaxWitnessResponseSize).
	MaxResponseSize int64
}

// maxResponse is the bound on an answer that would otherwise have the given one.
func (o Options) maxResponse(normal int64) int64 {
	if o.MaxResponseSize > 0 {
		return o.MaxResponseSize
	}
	return normal
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o Options) count(method string) {
	if o.OnRequest != nil {
		o.OnRequest(method)
	}
}

// Dial connects to a JSON-RPC endpoint (http, ws or ipc). For HTTP, nothing is sent until the first call.
// Answers over HTTP are bounded by the context's response limit (WithResponseLimit), DefaultMaxResponseSize
// without one; websocket messages by MaxWitnessResponseSize. An IPC socket is a local node, and unbounded.
func Dial(ctx context.Context, url string) (*rpc.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	c, err := rpc.DialOptions(ctx, url,
		rpc.WithHTTPClient(&http.Client{Transport: limitTransport{http.DefaultTransport}}),
		rpc.WithWebsocketMessageSizeLimit(MaxWitnessResponseSize))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return c, nil
}

type responseLimitKey struct{}

// WithResponseLimit bounds the size of the answers to requests made with the returned context, through
// the HTTP clients of this package.
func WithResponseLimit(ctx context.Context, limit int64) context.Context {
	return context.WithValue(ctx, responseLimitKey{}, limit)
}

func responseLimit(ctx context.Context) int64 {
	if l, ok := ctx.Value(responseLimitKey{}).(int64); ok && l > 0 {
		return l
	}
	return DefaultMaxResponseSize
}

// limitTransport bounds response bodies by their request's response limit: a body that declares more is
// refused before it is read, one that streams more fails with ErrResponseTooLarge at the bound.
type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	limit := responseLimit(req.Context())
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes announced, the bound is %d", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	resp.Body = &limitedBody{body: resp.Body, left: limit, limit: limit}
	return resp, nil
}

// limitedBody reads at most limit bytes of body and fails if there are more.
type limitedBody struct {
	body        io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the bound: the body must end here.
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, b.limit)
		}
		return 0, err // io.EOF at the end
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }

// rpcConn is a JSON-RPC client with a per-request timeout and request counting.
type rpcConn struct {
	c    *rpc.Client
	opts Options
}

func (r *rpcConn) call(ctx context.Context, result any, method string, args ...any) error {
	return r.callLimit(ctx, DefaultMaxResponseSize, result, method, args...)
}

// callLimit is call for an answer with its own size bound.
func (r *rpcConn) callLimit(ctx context.Context, limit int64, result any, method string, args ...any) error {
	r.opts.count(method)
	ctx = WithResponseLimit(ctx, r.opts.maxResponse(limit))
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout())
	defer cancel()
	if err := r.c.CallContext(ctx, result, method, args...); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// batch sends elems as one batch request; per-element errors are left in the elements.
func (r *rpcConn) batch(ctx context.Context, elems []rpc.BatchElem) error {
	for _, e := range elems {
		r.opts.count(e.Method)
	}
	ctx = WithResponseLimit(ctx, r.opts.maxResponse(DefaultMaxResponseSize))
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout())
	defer cancel()
	if err := r.c.BatchCallContext(ctx, elems); err != nil {
		return fmt.Errorf("batch of %d %s: %w", len(elems), elems[0].Method, err)
	}
	return nil
}

// isMethodUnsupported reports whether err says the node does not serve the method at all (as opposed to
// a failure of this one request), so that a fallback method is worth trying.
func isMethodUnsupported(err error) bool {
	var rpcErr rpc.Error
	if errors.As(err, &rpcErr) {
		if rpcErr.ErrorCode() == -32601 { // method not found
			return true
		}
		msg := strings.ToLower(rpcErr.Error())
		if strings.Contains(msg, "method") {
			for _, s := range []string{"not found", "not supported", "unsupported", "does not exist", "not available"} {
				if strings.Contains(msg, s) {
					return true
				}
			}
		}
	}
	var httpErr rpc.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode == 404 || httpErr.StatusCode == 405 || httpErr.StatusCode == 501
	}
	return false
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidResponse, fmt.Sprintf(format, args...))
}
