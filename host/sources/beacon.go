package sources

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/internal/blobkzg"
)

// Blob is a blob with its KZG commitment, matched to the versioned hash it was asked for.
type Blob struct {
	VersionedHash common.Hash
	Commitment    kzg4844.Commitment
	Blob          *kzg4844.Blob
}

// HTTPStatusError is a beacon API answer with a status other than 200.
type HTTPStatusError struct {
	Path   string
	Status int
	Body   string
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("beacon %s: HTTP %d: %s", e.Path, e.Status, e.Body)
}

// Is makes a 404 match ErrNotFound.
func (e *HTTPStatusError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// BeaconClient reads blobs from a beacon node's REST API.
type BeaconClient struct {
	base *url.URL
	http *http.Client
	opts Options

	mu             sync.Mutex
	genesisTime    uint64
	secondsPerSlot uint64 // zero until read
}

// NewBeaconClient reads blobs from the beacon API at baseURL. Every blob is checked against its KZG
// commitment, and the commitment against the versioned hash: trusting the L1 (--l1.trustrpc) concerns the
// execution RPC only, and the program inside the VM does not recompute commitments, so this is the only
// place where a wrong blob can be caught before a dispute's trace is built on it.
func NewBeaconClient(baseURL string, opts Options) (*BeaconClient, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("beacon URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	return &BeaconClient{base: u, http: &http.Client{Transport: limitTransport{http.DefaultTransport}}, opts: opts}, nil
}

// get fetches path (below the base URL) and decodes the JSON answer into dest.
func (c *BeaconClient) get(ctx context.Context, method, path string, query url.Values, dest any) error {
	c.opts.count(method)
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout())
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + "/" + path
	u.RawQuery = query.Encode()
	ctx = WithResponseLimit(ctx, c.opts.maxResponse(DefaultMaxResponseSize))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("beacon %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("beacon %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &HTTPStatusError{Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	if err := json.NewDecoder(resp.Body).Decode(dest); err != nil {
		if errors.Is(err, ErrResponseTooLarge) {
			return fmt.Errorf("beacon %s: %w", path, err)
		}
		return invalid("beacon %s: %v", path, err)
	}
	return nil
}

// slotClock reads (once) the genesis time and slot length.
func (c *BeaconClient) slotClock(ctx context.Context) (genesis, perSlot uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secondsPerSlot != 0 {
		return c.genesisTime, c.secondsPerSlot, nil
	}
	var g wire.BeaconResponse[wire.Genesis]
	if err := c.get(ctx, "beacon_genesis", "eth/v1/beacon/genesis", nil, &g); err != nil {
		return 0, 0, err
	}
	var spec wire.BeaconResponse[wire.Spec]
	if err := c.get(ctx, "beacon_spec", "eth/v1/config/spec", nil, &spec); err != nil {
		return 0, 0, err
	}
	if spec.Data.SecondsPerSlot == 0 {
		return 0, 0, invalid("beacon spec: SECONDS_PER_SLOT is zero or missing")
	}
	c.genesisTime, c.secondsPerSlot = uint64(g.Data.GenesisTime), uint64(spec.Data.SecondsPerSlot)
	return c.genesisTime, c.secondsPerSlot, nil
}

// SlotAt is the slot of an L1 block with the given timestamp.
func (c *BeaconClient) SlotAt(ctx context.Context, timestamp uint64) (uint64, error) {
	genesis, perSlot, err := c.slotClock(ctx)
	if err != nil {
		return 0, err
	}
	if timestamp < genesis {
		return 0, fmt.Errorf("L1 timestamp %d is before the beacon genesis at %d", timestamp, genesis)
	}
	return (timestamp - genesis) / perSlot, nil
}

// versionedHash is the EIP-4844 versioned hash of a commitment.
func versionedHash(c *kzg4844.Commitment) common.Hash {
	return common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), c))
}

// BlobByHash returns the blob with versioned hash vh from the L1 block at the given timestamp. It asks the
// blobs endpoint first and falls back to blob sidecars when the node does not serve it.
func (c *BeaconClient) BlobByHash(ctx context.Context, timestamp uint64, vh common.Hash) (*Blob, error) {
	blobs, err := c.BlobsByHashes(ctx, timestamp, []common.Hash{vh})
	if err != nil {
		return nil, err
	}
	return blobs[0], nil
}

// BlobsByHashes returns, in one request, the blobs of the L1 block at the given timestamp that have the
// versioned hashes vhs (duplicates are asked once), each checked as BlobByHash checks it. Hashes the node
// does not have are left out; an error wrapping ErrNotFound says that none was found.
func (c *BeaconClient) BlobsByHashes(ctx context.Context, timestamp uint64, vhs []common.Hash) ([]*Blob, error) {
	want := make(map[common.Hash]bool, len(vhs))
	var uniq []common.Hash
	for _, vh := range vhs {
		if !want[vh] {
			want[vh] = true
			uniq = append(uniq, vh)
		}
	}
	if len(uniq) == 0 {
		return nil, errors.New("no versioned hashes to fetch")
	}
	name := "blob " + uniq[0].Hex()
	if len(uniq) > 1 {
		name = fmt.Sprintf("blobs %s and %d more", uniq[0], len(uniq)-1)
	}
	slot, err := c.SlotAt(ctx, timestamp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	blobs, err := c.blobsFromBlobs(ctx, slot, uniq, want)
	var statusErr *HTTPStatusError
	if errors.As(err, &statusErr) && (statusErr.Status == http.StatusNotFound || statusErr.Status == http.StatusBadRequest ||
		statusErr.Status == http.StatusMethodNotAllowed || statusErr.Status == http.StatusNotImplemented) {
		blobs, err = c.blobsFromSidecars(ctx, slot, want)
	}
	if err == nil && len(blobs) == 0 {
		err = fmt.Errorf("no blob served has the versioned hash asked for: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s at slot %d (L1 time %d): %w", name, slot, timestamp, err)
	}
	// In the order asked for.
	byHash := make(map[common.Hash]*Blob, len(blobs))
	for _, b := range blobs {
		byHash[b.VersionedHash] = b
	}
	out := make([]*Blob, 0, len(blobs))
	for _, vh := range uniq {
		if b := byHash[vh]; b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// blobsFromBlobs uses GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=vh1&versioned_hashes=vh2... The
// answer carries no commitments, so each blob's commitment is computed and must hash to a wanted vh.
func (c *BeaconClient) blobsFromBlobs(ctx context.Context, slot uint64, vhs []common.Hash, want map[common.Hash]bool) ([]*Blob, error) {
	var resp wire.BlockResponse[[]*kzg4844.Blob]
	q := url.Values{}
	for _, vh := range vhs {
		q.Add("versioned_hashes", vh.Hex())
	}
	if err := c.get(ctx, "beacon_blobs", "eth/v1/beacon/blobs/"+strconv.FormatUint(slot, 10), q, &resp); err != nil {
		return nil, err
	}
	var out []*Blob
	found := map[common.Hash]bool{}
	for i, b := range resp.Data {
		if b == nil {
			return nil, invalid("blobs: entry %d is null", i)
		}
		commitment, err := blobkzg.BlobToCommitment(b)
		if err != nil {
			return nil, invalid("blobs: entry %d: commit: %v", i, err)
		}
		if vh := versionedHash(&commitment); want[vh] && !found[vh] {
			found[vh] = true
			out = append(out, &Blob{VersionedHash: vh, Commitment: commitment, Blob: b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("none of the %d blobs served has a versioned hash asked for: %w", len(resp.Data), ErrNotFound)
	}
	return out, nil
}

// blobsFromSidecars uses GET /eth/v1/beacon/blob_sidecars/{slot} and picks the sidecars whose commitment
// hashes to a wanted vh; their blobs are checked against the commitments.
func (c *BeaconClient) blobsFromSidecars(ctx context.Context, slot uint64, want map[common.Hash]bool) ([]*Blob, error) {
	var resp wire.BlockResponse[[]wire.BlobSidecar]
	if err := c.get(ctx, "beacon_blob_sidecars", "eth/v1/beacon/blob_sidecars/"+strconv.FormatUint(slot, 10), nil, &resp); err != nil {
		return nil, err
	}
	var out []*Blob
	found := map[common.Hash]bool{}
	for _, sc := range resp.Data {
		vh := versionedHash(&sc.KZGCommitment)
		if !want[vh] || found[vh] {
			continue
		}
		if sc.Blob == nil {
			return nil, invalid("sidecar %d has no blob", sc.Index)
		}
		got, err := blobkzg.BlobToCommitment(sc.Blob)
		if err != nil {
			return nil, invalid("sidecar %d: commit: %v", sc.Index, err)
		}
		if got != sc.KZGCommitment {
			return nil, invalid("sidecar %d: blob commits to %x, not to the sidecar's commitment %x", sc.Index, got, sc.KZGCommitment)
		}
		found[vh] = true
		out = append(out, &Blob{VersionedHash: vh, Commitment: sc.KZGCommitment, Blob: sc.Blob})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("none of the %d sidecars has a versioned hash asked for: %w", len(resp.Data), ErrNotFound)
	}
	return out, nil
}
