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
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// DefaultTimeout bounds one request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

var (
	// ErrInvalidResponse wraps every check a node's answer failed: it answered, but not with what was
	// asked for.
	ErrInvalidResponse = errors.New("invalid response")
	// ErrNotFound is returned when a node answers that it does not have the requested item.
	ErrNotFound = errors.New("not found")
)

// Options are shared by the clients of this package.
type Options struct {
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// OnRequest, if set, is called once for every request sent, with its method name (JSON-RPC method, or
	// "beacon_*" for the beacon API), for statistics. It must be safe for concurrent use.
	OnRequest func(method string)
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
func Dial(ctx context.Context, url string) (*rpc.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return c, nil
}

// rpcConn is a JSON-RPC client with a per-request timeout and request counting.
type rpcConn struct {
	c    *rpc.Client
	opts Options
}

func (r *rpcConn) call(ctx context.Context, result any, method string, args ...any) error {
	r.opts.count(method)
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
