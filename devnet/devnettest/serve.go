package devnettest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/sources/wire"
)

// Chain is the test L1 and L2, as a devnet.Backend.
type Chain struct {
	L1 *L1Chain
	L2 *devnet.L2Builder
}

// Chains returns the test chains, made once per test binary.
func Chains() (*Chain, error) {
	l1, err := L1()
	if err != nil {
		return nil, err
	}
	l2, err := L2()
	if err != nil {
		return nil, err
	}
	return &Chain{L1: l1, L2: l2}, nil
}

// L1Genesis is the L1 genesis specification.
func (c *Chain) L1Genesis() *core.Genesis { return c.L1.Genesis }

// L1Block returns L1 block n, nil past the head.
func (c *Chain) L1Block(n uint64) *types.Block {
	if n >= uint64(len(c.L1.Blocks)) {
		return nil
	}
	return c.L1.Blocks[n]
}

// L2Genesis is the L2 genesis specification.
func (c *Chain) L2Genesis() *core.Genesis { return c.L2.Genesis() }

// L2Block returns L2 block n, nil past the head.
func (c *Chain) L2Block(n uint64) *types.Block {
	if n > c.L2.Head().NumberU64() {
		return nil
	}
	return c.L2.Block(n)
}

// Blob returns an L1 blob by versioned hash.
func (c *Chain) Blob(vh common.Hash) (*kzg4844.Blob, kzg4844.Commitment, uint64, bool) {
	for _, ref := range c.L1.Blobs {
		if ref.VersionedHash == vh {
			return ref.Blob, ref.Commitment, ref.Block, true
		}
	}
	return nil, kzg4844.Commitment{}, 0, false
}

// Serve serves the test chains on a new server, stopped when the test ends.
func Serve(t testing.TB) (*Chain, *devnet.Server) {
	t.Helper()
	c, err := Chains()
	if err != nil {
		t.Fatal(err)
	}
	s, err := devnet.Serve(context.Background(), c, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return c, s
}

// Edit is a tamper that decodes the results of method into a T (a map[string]any for an object,
// []map[string]any for a list of them...), lets edit change it, and sends the change. Other answers, and
// results that do not decode into a T, pass unchanged.
func Edit[T any](method string, edit func(v *T)) devnet.Tamper {
	return func(a *devnet.Answer) {
		if a.Name != method || a.Result == nil {
			return
		}
		var v T
		if json.Unmarshal(a.Result, &v) != nil {
			return
		}
		edit(&v)
		if out, err := json.Marshal(v); err == nil {
			a.Result = out
		}
	}
}

// Replace is a tamper that answers method with result.
func Replace(method string, result json.RawMessage) devnet.Tamper {
	return func(a *devnet.Answer) {
		if a.Name == method {
			a.Result, a.Error = result, nil
		}
	}
}

// TamperBlobs is a beacon tamper that lets edit change every blob the node serves, from its sidecars or
// its blobs endpoint, given the blob's commitment (computed, for the blobs endpoint).
func TamperBlobs(edit func(commitment kzg4844.Commitment, blob *kzg4844.Blob)) devnet.Tamper {
	return func(a *devnet.Answer) {
		switch a.Name {
		case "blob_sidecars":
			var resp wire.BlockResponse[[]wire.BlobSidecar]
			if json.Unmarshal(a.Result, &resp) != nil {
				return
			}
			for _, sc := range resp.Data {
				edit(sc.KZGCommitment, sc.Blob)
			}
			a.Result, _ = json.Marshal(resp)
		case "blobs":
			var resp wire.BlockResponse[[]*kzg4844.Blob]
			if json.Unmarshal(a.Result, &resp) != nil {
				return
			}
			for _, b := range resp.Data {
				if c, err := kzg4844.BlobToCommitment(b); err == nil {
					edit(c, b)
				}
			}
			a.Result, _ = json.Marshal(resp)
		}
	}
}
