package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/preimage/layout"
)

// fakeNode is an http.RoundTripper that answers JSON-RPC and beacon API requests in process: the answer
// of one method (or beacon endpoint) is the fuzzer's input, the others are fixed.
type fakeNode struct {
	fuzzed string
	input  []byte
	fixed  map[string][]byte // JSON-RPC results, or beacon bodies; a missing beacon endpoint answers 404
}

type rpcMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

func (n *fakeNode) answer(name string) ([]byte, bool) {
	if name == n.fuzzed {
		return n.input, true
	}
	v, ok := n.fixed[name]
	return v, ok
}

func (n *fakeNode) RoundTrip(req *http.Request) (*http.Response, error) {
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: req}
	if req.Method == http.MethodGet {
		parts := strings.Split(strings.TrimSuffix(req.URL.Path, "/"), "/")
		name := parts[len(parts)-1]
		if _, err := strconv.ParseUint(name, 10, 64); err == nil && len(parts) > 1 {
			name = parts[len(parts)-2] // blobs/{slot}, blob_sidecars/{slot}
		}
		body, ok := n.answer(name)
		if !ok {
			resp.StatusCode, body = http.StatusNotFound, []byte(`{"code":404,"message":"not found"}`)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	reqBody, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	one := func(m rpcMsg, i int) []byte {
		result, ok := n.answer(m.Method)
		if !ok {
			result = []byte("null")
		}
		// A batch of the fuzzed method takes element i of the input, if the input is a list.
		var list []json.RawMessage
		if i >= 0 && m.Method == n.fuzzed && json.Unmarshal(result, &list) == nil && i < len(list) {
			result = list[i]
		}
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, result)
	}
	var body []byte
	if bytes.HasPrefix(bytes.TrimSpace(reqBody), []byte("[")) {
		var msgs []rpcMsg
		if err := json.Unmarshal(reqBody, &msgs); err != nil {
			return nil, err
		}
		parts := make([][]byte, len(msgs))
		for i, m := range msgs {
			parts[i] = one(m, i)
		}
		body = append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
	} else {
		var m rpcMsg
		if err := json.Unmarshal(reqBody, &m); err != nil {
			return nil, err
		}
		body = one(m, -1)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// decodeFixture holds real answers of the test nodes for the fuzzer's seeds and fixed answers.
type decodeFixture struct {
	l1Block, l1BlockHashes, l2Block *types.Block
	blob                            devnettest.BlobRef
	blobTime                        uint64
	answers                         map[string][]byte // by case name
	fixed                           map[string][]byte // by method or endpoint
}

var (
	decodeFixOnce sync.Once
	decodeFix     *decodeFixture
	decodeFixErr  error
)

// loadDecodeFixture asks the test nodes (on 127.0.0.1) once for the real answers the fuzzer starts from.
func loadDecodeFixture() (*decodeFixture, error) {
	decodeFixOnce.Do(func() { decodeFix, decodeFixErr = makeDecodeFixture() })
	return decodeFix, decodeFixErr
}

func makeDecodeFixture() (*decodeFixture, error) {
	chain, err := devnettest.Chains()
	if err != nil {
		return nil, err
	}
	srv, err := devnet.Serve(context.Background(), chain, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	l1, b := chain.L1, chain.L2

	f := &decodeFixture{l1Block: l1.Blocks[1], l2Block: b.Block(3), blob: l1.Blobs[0], answers: map[string][]byte{}, fixed: map[string][]byte{}}
	f.blobTime = l1.Blocks[f.blob.Block].Time()
	f.l1BlockHashes = l1.Blocks[2]
	ctx := context.Background()
	call := func(url string, method string, args ...any) ([]byte, error) {
		c, err := rpc.DialContext(ctx, url)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		var raw json.RawMessage
		if err := c.CallContext(ctx, &raw, method, args...); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		return raw, nil
	}
	get := func(path string) ([]byte, error) {
		resp, err := http.Get(srv.BeaconURL() + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	for _, q := range []struct {
		name, url, method string
		args              []any
	}{
		{"chain id", srv.L1URL(), "eth_chainId", nil},
		{"block", srv.L1URL(), "eth_getBlockByHash", []any{f.l1Block.Hash(), true}},
		{"block receipts", srv.L1URL(), "eth_getBlockReceipts", []any{f.l1Block.Hash()}},
		{"raw receipts", srv.L1URL(), "debug_getRawReceipts", []any{f.l1Block.Hash()}},
		{"l2 header", srv.L2URL(), "eth_getBlockByHash", []any{f.l2Block.Hash(), false}},
		{"proof", srv.L2URL(), "eth_getProof", []any{params.OptimismL2ToL1MessagePasser, []string{common.Hash{}.Hex()}, f.l2Block.Hash()}},
		{"witness", srv.L2URL(), "debug_executePayload", []any{b.Block(3).Hash(), b.Attributes(4)}},
		{"db get", srv.L2URL(), "debug_dbGet", []any{f.l2Block.Root().Hex()}},
	} {
		if f.answers[q.name], err = call(q.url, q.method, q.args...); err != nil {
			return nil, err
		}
	}
	// Per-transaction receipts: the list of the block's receipts, one per batch element.
	var receipts []json.RawMessage
	for _, tx := range f.l1BlockHashes.Transactions() {
		r, err := call(srv.L1URL(), "eth_getTransactionReceipt", tx.Hash())
		if err != nil {
			return nil, err
		}
		receipts = append(receipts, r)
	}
	if f.answers["transaction receipts"], err = json.Marshal(receipts); err != nil {
		return nil, err
	}
	if f.fixed["eth_getBlockByHash"], err = call(srv.L1URL(), "eth_getBlockByHash", f.l1BlockHashes.Hash(), false); err != nil {
		return nil, err
	}
	for name, path := range map[string]string{
		"genesis": "/eth/v1/beacon/genesis", "spec": "/eth/v1/config/spec",
		"blob_sidecars": fmt.Sprintf("/eth/v1/beacon/blob_sidecars/%d", f.blob.Slot),
		"blobs":         fmt.Sprintf("/eth/v1/beacon/blobs/%d?versioned_hashes=%s", f.blob.Slot, f.blob.VersionedHash),
	} {
		if f.answers[name], err = get(path); err != nil {
			return nil, err
		}
	}
	f.fixed["genesis"], f.fixed["spec"] = f.answers["genesis"], f.answers["spec"]
	return f, nil
}

// errBrokenPromise marks a client result that fails a check the client promises: a fuzzing failure.
var errBrokenPromise = errors.New("the client returned what it should have refused")

// decodeCase is one answer decoder: the method (or beacon endpoint) whose answer is fuzzed, and the client
// call that reads it, which checks what it returns as far as the result allows.
type decodeCase struct {
	name   string // the seed's answer in decodeFixture.answers
	method string
	call   func(ctx context.Context, f *decodeFixture, c *rpc.Client, beacon *BeaconClient, input []byte) error
}

var decodeCases = []decodeCase{
	{"chain id", "eth_chainId", func(ctx context.Context, _ *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		_, err := NewL1Client(c, RPCKindStandard, Options{}).ChainID(ctx)
		return err
	}},
	{"block", "eth_getBlockByHash", func(ctx context.Context, _ *decodeFixture, c *rpc.Client, _ *BeaconClient, input []byte) error {
		// Ask for the block the answer's header claims to be, so that decoding goes past the hash check.
		var h types.Header
		hash := common.Hash{1}
		if json.Unmarshal(input, &h) == nil {
			if enc, err := rlp.EncodeToBytes(&h); err == nil {
				hash = crypto.Keccak256Hash(enc)
			}
		}
		blk, err := NewL1Client(c, RPCKindStandard, Options{}).BlockByHash(ctx, hash)
		if err != nil {
			return err
		}
		if blk.Hash() != hash || layout.ListRoot(blk.Transactions) != blk.Header.TxHash {
			return fmt.Errorf("%w: block %s with hash %s, transactions root %s", errBrokenPromise, hash, blk.Hash(), layout.ListRoot(blk.Transactions))
		}
		return nil
	}},
	{"block receipts", "eth_getBlockReceipts", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		return checkReceipts(NewL1Client(c, RPCKindStandard, Options{}).ReceiptsOf(ctx, f.l1Block.Header()))
	}},
	{"raw receipts", "debug_getRawReceipts", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		return checkReceipts(NewL1Client(c, RPCKindDebugGeth, Options{}).ReceiptsOf(ctx, f.l1Block.Header()))
	}},
	{"transaction receipts", "eth_getTransactionReceipt", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		return checkReceipts(NewL1Client(c, RPCKindBasic, Options{}).ReceiptsByHash(ctx, f.l1BlockHashes.Hash()))
	}},
	{"proof", "eth_getProof", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		p, err := NewL2Client(c, Options{}).GetProof(ctx, params.OptimismL2ToL1MessagePasser, []common.Hash{{}}, f.l2Block.Hash())
		if err != nil {
			return err
		}
		db := proofDB(nil)
		for _, n := range p.AccountProof {
			_ = db.Put(crypto.Keccak256(n), n)
		}
		if _, err := trie.VerifyProof(f.l2Block.Root(), crypto.Keccak256(p.Address[:]), db); err != nil {
			return fmt.Errorf("%w: a proof that does not verify: %w", errBrokenPromise, err)
		}
		return nil
	}},
	{"witness", "debug_executePayload", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		_, err := NewL2Client(c, Options{}).ExecutePayload(ctx, f.l2Block.Hash(), []byte(`{}`))
		return err
	}},
	{"db get", "debug_dbGet", func(ctx context.Context, f *decodeFixture, c *rpc.Client, _ *BeaconClient, _ []byte) error {
		node, err := NewL2Client(c, Options{}).NodeByHash(ctx, f.l2Block.Root())
		if err == nil && crypto.Keccak256Hash(node) != f.l2Block.Root() {
			return fmt.Errorf("%w: node %x for %s", errBrokenPromise, node, f.l2Block.Root())
		}
		return err
	}},
}

// beaconCases are the answers of a beacon node, apart because a blob's answer is large (256 KiB of hex):
// the fuzzer works slowly on such inputs.
var beaconCases = []decodeCase{
	{"blob_sidecars", "blob_sidecars", checkBlob},
	{"blobs", "blobs", checkBlob},
	{"genesis", "genesis", func(ctx context.Context, _ *decodeFixture, _ *rpc.Client, beacon *BeaconClient, _ []byte) error {
		_, err := beacon.SlotAt(ctx, devnettest.L1GenesisTime+100)
		return err
	}},
}

func checkReceipts(r *Receipts, err error) error {
	if err != nil {
		return err
	}
	if root := layout.ListRoot(r.Encoded); root != r.Header.ReceiptHash {
		return fmt.Errorf("%w: receipts with root %s, header has %s", errBrokenPromise, root, r.Header.ReceiptHash)
	}
	return nil
}

func checkBlob(ctx context.Context, f *decodeFixture, _ *rpc.Client, beacon *BeaconClient, _ []byte) error {
	blobs, err := beacon.BlobsByHashes(ctx, f.blobTime, []common.Hash{f.blob.VersionedHash})
	if err != nil {
		return err
	}
	for _, b := range blobs {
		c, err := kzg4844.BlobToCommitment(b.Blob)
		if err != nil || c != b.Commitment || versionedHash(&c) != b.VersionedHash {
			return fmt.Errorf("%w: blob %s does not match its commitment", errBrokenPromise, b.VersionedHash)
		}
	}
	return nil
}

// fuzzDecode runs the case of cases chosen by which on input.
func fuzzDecode(t *testing.T, fix *decodeFixture, cases []decodeCase, which uint8, input []byte) {
	c := cases[int(which)%len(cases)]
	node := &fakeNode{fuzzed: c.method, input: input, fixed: fix.fixed}
	if c.method == "eth_getProof" {
		node.fixed = map[string][]byte{"eth_getBlockByHash": fix.answers["l2 header"]}
	}
	ctx := context.Background()
	rc, err := rpc.DialOptions(ctx, "http://fake.node", rpc.WithHTTPClient(&http.Client{Transport: limitTransport{node}}))
	require.NoError(t, err)
	defer rc.Close()
	beacon, err := NewBeaconClient("http://fake.beacon", Options{})
	require.NoError(t, err)
	beacon.http = &http.Client{Transport: limitTransport{node}}
	err = c.call(ctx, fix, rc, beacon, input)
	require.NotErrorIs(t, err, errBrokenPromise, "%s: %v", c.name, err)
}

// FuzzDecodeAnswers gives the host's L1 and L2 clients any answer for one JSON-RPC request (chosen by
// which), over an in-process transport: decoding must not panic, and what a client returns must pass the
// checks it promises (hash, roots, proof). The seeds are the test nodes' real answers. For a long run:
//
//	go test ./host/sources -run '^$' -fuzz 'FuzzDecodeAnswers$' -fuzztime 30m -fuzzminimizetime 200x
//
// (The default minimization, a minute for each new input, takes most of the time on JSON inputs.)
func FuzzDecodeAnswers(f *testing.F) {
	fix, err := loadDecodeFixture()
	require.NoError(f, err)
	for i, c := range decodeCases {
		f.Add(uint8(i), fix.answers[c.name])
	}
	f.Fuzz(func(t *testing.T, which uint8, input []byte) { fuzzDecode(t, fix, decodeCases, which, input) })
}

// FuzzBeaconAnswers is FuzzDecodeAnswers for the beacon client: genesis, blob sidecars and blobs, each blob
// checked against its commitment. For a long run:
//
//	go test ./host/sources -run '^$' -fuzz 'FuzzBeaconAnswers$' -fuzztime 30m -fuzzminimizetime 50x
func FuzzBeaconAnswers(f *testing.F) {
	fix, err := loadDecodeFixture()
	require.NoError(f, err)
	for i, c := range beaconCases {
		f.Add(uint8(i), fix.answers[c.name])
	}
	f.Fuzz(func(t *testing.T, which uint8, input []byte) { fuzzDecode(t, fix, beaconCases, which, input) })
}

// TestDecodeSeedsAccepted checks that every seed of FuzzDecodeAnswers and FuzzBeaconAnswers is a real answer the client takes, so
// the fuzzer starts from the decoders' success paths.
func TestDecodeSeedsAccepted(t *testing.T) {
	fix, err := loadDecodeFixture()
	require.NoError(t, err)
	for _, c := range append(append([]decodeCase(nil), decodeCases...), beaconCases...) {
		node := &fakeNode{fuzzed: c.method, input: fix.answers[c.name], fixed: fix.fixed}
		if c.method == "eth_getProof" {
			node.fixed = map[string][]byte{"eth_getBlockByHash": fix.answers["l2 header"]}
		}
		rc, err := rpc.DialOptions(context.Background(), "http://fake.node", rpc.WithHTTPClient(&http.Client{Transport: node}))
		require.NoError(t, err)
		beacon, _ := NewBeaconClient("http://fake.beacon", Options{})
		beacon.http = &http.Client{Transport: node}
		require.NoError(t, c.call(context.Background(), fix, rc, beacon, fix.answers[c.name]), "%s: the real answer is refused", c.name)
		rc.Close()
	}
}
