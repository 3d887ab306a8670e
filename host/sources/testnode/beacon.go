package testnode

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// Sidecar is one blob sidecar as served.
type Sidecar struct {
	Index      uint64
	Blob       kzg4844.Blob
	Commitment kzg4844.Commitment
}

// Beacon serves the blobs of an L1Chain over the beacon API on 127.0.0.1: genesis, spec, blob_sidecars
// and (unless disabled) blobs.
type Beacon struct {
	URL   string
	chain *L1Chain
	srv   *httptest.Server

	mu            sync.Mutex
	failHTTP      int
	noBlobsMethod bool
	tamper        func(slot uint64, sidecars []Sidecar) []Sidecar
	requests      map[string]int
}

// NewBeacon starts a beacon server for c.
func NewBeacon(c *L1Chain) (*Beacon, error) {
	b := &Beacon{chain: c, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eth/v1/beacon/genesis", b.wrap("genesis", b.genesis))
	mux.HandleFunc("GET /eth/v1/config/spec", b.wrap("spec", b.spec))
	mux.HandleFunc("GET /eth/v1/beacon/blob_sidecars/{slot}", b.wrap("blob_sidecars", b.sidecars))
	mux.HandleFunc("GET /eth/v1/beacon/blobs/{slot}", b.wrap("blobs", b.blobs))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	b.srv.Start()
	b.URL = b.srv.URL
	return b, nil
}

// Close stops the server.
func (b *Beacon) Close() { b.srv.Close() }

// FailHTTP makes the next k requests fail with status 500.
func (b *Beacon) FailHTTP(k int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failHTTP = k
}

// DisableBlobsEndpoint makes /eth/v1/beacon/blobs answer 404, as nodes before the endpoint existed do.
func (b *Beacon) DisableBlobsEndpoint() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.noBlobsMethod = true
}

// SetTamper installs a rewriter of the sidecars (or blobs) served for a slot.
func (b *Beacon) SetTamper(t func(slot uint64, sidecars []Sidecar) []Sidecar) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tamper = t
}

// Requests counts requests by endpoint: genesis, spec, blob_sidecars, blobs.
func (b *Beacon) Requests(endpoint string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests[endpoint]
}

func (b *Beacon) wrap(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.requests[name]++
		fail := b.failHTTP > 0
		if fail {
			b.failHTTP--
		}
		disabled := name == "blobs" && b.noBlobsMethod
		b.mu.Unlock()
		switch {
		case fail:
			http.Error(w, `{"code":500,"message":"injected failure"}`, http.StatusInternalServerError)
		case disabled:
			http.Error(w, `{"code":404,"message":"endpoint not found"}`, http.StatusNotFound)
		default:
			h(w, r)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (b *Beacon) genesis(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"data": map[string]string{
		"genesis_time":            strconv.Itoa(L1GenesisTime),
		"genesis_validators_root": common.Hash{0x01}.Hex(),
		"genesis_fork_version":    "0x00000000",
	}})
}

func (b *Beacon) spec(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"data": map[string]string{
		"SECONDS_PER_SLOT": strconv.Itoa(SecondsPerSlot), "SLOTS_PER_EPOCH": "32", "CONFIG_NAME": "faultproof-test",
	}})
}

// slotSidecars returns the (possibly tampered) sidecars of a slot.
func (b *Beacon) slotSidecars(r *http.Request) (uint64, []Sidecar, bool) {
	slot, err := strconv.ParseUint(r.PathValue("slot"), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	var out []Sidecar
	for _, ref := range b.chain.Blobs {
		if ref.Slot == slot {
			out = append(out, Sidecar{Index: uint64(ref.Index), Blob: *ref.Blob, Commitment: ref.Commitment})
		}
	}
	b.mu.Lock()
	t := b.tamper
	b.mu.Unlock()
	if t != nil {
		out = t(slot, out)
	}
	return slot, out, true
}

func (b *Beacon) sidecars(w http.ResponseWriter, r *http.Request) {
	_, scs, ok := b.slotSidecars(r)
	if !ok {
		http.Error(w, `{"code":400,"message":"bad slot"}`, http.StatusBadRequest)
		return
	}
	data := make([]map[string]any, 0, len(scs))
	for _, sc := range scs {
		data = append(data, map[string]any{
			"index":                          strconv.FormatUint(sc.Index, 10),
			"blob":                           hexutil.Encode(sc.Blob[:]),
			"kzg_commitment":                 hexutil.Encode(sc.Commitment[:]),
			"kzg_proof":                      hexutil.Encode(make([]byte, 48)),
			"signed_block_header":            map[string]any{},
			"kzg_commitment_inclusion_proof": []string{},
		})
	}
	writeJSON(w, map[string]any{"data": data})
}

func (b *Beacon) blobs(w http.ResponseWriter, r *http.Request) {
	_, scs, ok := b.slotSidecars(r)
	if !ok {
		http.Error(w, `{"code":400,"message":"bad slot"}`, http.StatusBadRequest)
		return
	}
	want := map[common.Hash]bool{}
	for _, h := range r.URL.Query()["versioned_hashes"] {
		want[common.HexToHash(h)] = true
	}
	data := []string{}
	for _, sc := range scs {
		ref := b.refByCommitment(sc.Commitment)
		if len(want) > 0 && (ref == nil || !want[ref.VersionedHash]) {
			continue
		}
		data = append(data, hexutil.Encode(sc.Blob[:]))
	}
	writeJSON(w, map[string]any{"execution_optimistic": false, "finalized": true, "data": data})
}

func (b *Beacon) refByCommitment(c kzg4844.Commitment) *BlobRef {
	for i := range b.chain.Blobs {
		if b.chain.Blobs[i].Commitment == c {
			return &b.chain.Blobs[i]
		}
	}
	return nil
}
