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
)

// maxBeaconResponse bounds a beacon response body: a block's sidecars, hex-encoded, for far more blobs
// than any fork allows.
const maxBeaconResponse = 256 << 20

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
	base  *url.URL
	http  *http.Client
	opts  Options
	trust bool

	mu             sync.Mutex
	genesisTime    uint64
	secondsPerSlot uint64 // zero until read
}

// NewBeaconClient reads blobs from the beacon API at baseURL. With trust, a sidecar's blob is not checked
// against its commitment (the commitment is still checked against the versioned hash).
func NewBeaconClient(baseURL string, trust bool, opts Options) (*BeaconClient, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("beacon URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	return &BeaconClient{base: u, http: &http.Client{}, opts: opts, trust: trust}, nil
}

// get fetches path (below the base URL) and decodes the JSON answer into dest.
func (c *BeaconClient) get(ctx context.Context, method, path string, query url.Values, dest any) error {
	c.opts.count(method)
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout())
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + "/" + path
	u.RawQuery = query.Encode()
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
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBeaconResponse)).Decode(dest); err != nil {
		return invalid("beacon %s: %v", path, err)
	}
	return nil
}

// quotedUint64 is a beacon API integer: a decimal string.
type quotedUint64 uint64

func (q *quotedUint64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*q = quotedUint64(v)
	return nil
}

// slotClock reads (once) the genesis time and slot length.
func (c *BeaconClient) slotClock(ctx context.Context) (genesis, perSlot uint64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secondsPerSlot != 0 {
		return c.genesisTime, c.secondsPerSlot, nil
	}
	var g struct {
		Data struct {
			GenesisTime quotedUint64 `json:"genesis_time"`
		} `json:"data"`
	}
	if err := c.get(ctx, "beacon_genesis", "eth/v1/beacon/genesis", nil, &g); err != nil {
		return 0, 0, err
	}
	var spec struct {
		Data struct {
			SecondsPerSlot quotedUint64 `json:"SECONDS_PER_SLOT"`
		} `json:"data"`
	}
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
	slot, err := c.SlotAt(ctx, timestamp)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", vh, err)
	}
	blob, err := c.blobFromBlobs(ctx, slot, vh)
	var statusErr *HTTPStatusError
	if errors.As(err, &statusErr) && (statusErr.Status == http.StatusNotFound || statusErr.Status == http.StatusBadRequest ||
		statusErr.Status == http.StatusMethodNotAllowed || statusErr.Status == http.StatusNotImplemented) {
		blob, err = c.blobFromSidecars(ctx, slot, vh)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s at slot %d (L1 time %d): %w", vh, slot, timestamp, err)
	}
	return blob, nil
}

// blobFromBlobs uses GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=vh. The answer carries no
// commitment, so each blob's commitment is computed and must hash to vh.
func (c *BeaconClient) blobFromBlobs(ctx context.Context, slot uint64, vh common.Hash) (*Blob, error) {
	var resp struct {
		Data []*kzg4844.Blob `json:"data"`
	}
	q := url.Values{"versioned_hashes": []string{vh.Hex()}}
	if err := c.get(ctx, "beacon_blobs", "eth/v1/beacon/blobs/"+strconv.FormatUint(slot, 10), q, &resp); err != nil {
		return nil, err
	}
	for i, b := range resp.Data {
		if b == nil {
			return nil, invalid("blobs: entry %d is null", i)
		}
		commitment, err := kzg4844.BlobToCommitment(b)
		if err != nil {
			return nil, invalid("blobs: entry %d: commit: %v", i, err)
		}
		if versionedHash(&commitment) == vh {
			return &Blob{VersionedHash: vh, Commitment: commitment, Blob: b}, nil
		}
	}
	return nil, fmt.Errorf("none of the %d blobs served has this versioned hash: %w", len(resp.Data), ErrNotFound)
}

// blobFromSidecars uses GET /eth/v1/beacon/blob_sidecars/{slot} and picks the sidecar whose commitment
// hashes to vh; its blob is checked against the commitment unless the client trusts the node.
func (c *BeaconClient) blobFromSidecars(ctx context.Context, slot uint64, vh common.Hash) (*Blob, error) {
	var resp struct {
		Data []struct {
			Index      quotedUint64       `json:"index"`
			Blob       *kzg4844.Blob      `json:"blob"`
			Commitment kzg4844.Commitment `json:"kzg_commitment"`
		} `json:"data"`
	}
	if err := c.get(ctx, "beacon_blob_sidecars", "eth/v1/beacon/blob_sidecars/"+strconv.FormatUint(slot, 10), nil, &resp); err != nil {
		return nil, err
	}
	for _, sc := range resp.Data {
		if versionedHash(&sc.Commitment) != vh {
			continue
		}
		if sc.Blob == nil {
			return nil, invalid("sidecar %d has no blob", sc.Index)
		}
		if !c.trust {
			got, err := kzg4844.BlobToCommitment(sc.Blob)
			if err != nil {
				return nil, invalid("sidecar %d: commit: %v", sc.Index, err)
			}
			if got != sc.Commitment {
				return nil, invalid("sidecar %d: blob commits to %x, not to the sidecar's commitment %x", sc.Index, got, sc.Commitment)
			}
		}
		return &Blob{VersionedHash: vh, Commitment: sc.Commitment, Blob: sc.Blob}, nil
	}
	return nil, fmt.Errorf("none of the %d sidecars has this versioned hash: %w", len(resp.Data), ErrNotFound)
}
