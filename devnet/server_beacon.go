package devnet

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/faultproof/faultproof/host/sources/wire"
)

// SecondsPerSlot is the beacon chain's slot time: the L1 block time, so L1 block n is in slot n.
const SecondsPerSlot = L1BlockTime

// kzgInclusionProofDepth is the length of a sidecar's commitment inclusion proof (Deneb).
const kzgInclusionProofDepth = 17

// beaconAPI serves the devnet's blobs over the beacon node REST API. The devnet has no consensus layer:
// its genesis is the L1 genesis, slot s holds the L1 block at genesis + 12s, and a sidecar's signed block
// header and inclusion proof are placeholders (the header has the slot and, as parent root, the L1
// block's parent beacon block root; roots, proof and signature are zero). Blobs, commitments, KZG proofs
// and indices are real.
type beaconAPI struct {
	b           Backend
	genesisTime uint64
	slots       map[uint64]uint64 // slot → L1 block number
	headSlot    uint64
}

// blobProofs holds the KZG proof of each blob served, by versioned hash: a proof takes a quarter of a
// second, and is a function of the blob, so every server of the process shares them.
var blobProofs sync.Map

func newBeaconAPI(backend Backend) *beaconAPI {
	b := &beaconAPI{b: backend, genesisTime: backend.L1Block(0).Time(), slots: map[uint64]uint64{}}
	for n := uint64(0); backend.L1Block(n) != nil; n++ {
		slot := (backend.L1Block(n).Time() - b.genesisTime) / SecondsPerSlot
		b.slots[slot] = n
		b.headSlot = max(b.headSlot, slot)
	}
	return b
}

// handler is the API's HTTP handler, and a function that names a request by its endpoint (genesis, spec,
// version, blob_sidecars, blobs; "" for a path the API does not have).
func (b *beaconAPI) handler() (http.Handler, func(*http.Request) string) {
	mux := http.NewServeMux()
	names := map[string]string{}
	handle := func(pattern, name string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, h)
		names[pattern] = name
	}
	handle("GET /eth/v1/beacon/genesis", "genesis", b.genesis)
	handle("GET /eth/v1/config/spec", "spec", b.spec)
	handle("GET /eth/v1/node/version", "version", b.version)
	handle("GET /eth/v1/beacon/blob_sidecars/{block_id}", "blob_sidecars", b.blobSidecars)
	handle("GET /eth/v1/beacon/blobs/{block_id}", "blobs", b.blobs)
	name := func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return names[pattern]
	}
	return mux, name
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the beacon API's error object.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, wire.BeaconError{Code: status, Message: fmt.Sprintf(format, args...)})
}

func (b *beaconAPI) genesis(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, wire.BeaconResponse[wire.Genesis]{Data: wire.Genesis{
		GenesisTime: wire.QuotedUint64(b.genesisTime), GenesisForkVersion: make([]byte, 4),
	}})
}

func (b *beaconAPI) spec(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, wire.BeaconResponse[wire.Spec]{Data: wire.Spec{
		ConfigName: "faultproof-devnet", PresetBase: "mainnet", SecondsPerSlot: SecondsPerSlot, SlotsPerEpoch: 32,
		DepositChainID: b.b.L1Genesis().Config.ChainID.String(),
	}})
}

func (b *beaconAPI) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"version": "faultproof-devnet"}})
}

// l1Block resolves a block ID (a slot, head, finalized, justified or genesis) to an L1 block number,
// or writes the error: 400 for a malformed ID, 404 for a slot without a block or a block root.
func (b *beaconAPI) l1Block(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id := r.PathValue("block_id")
	var slot uint64
	switch {
	case id == "head" || id == "finalized" || id == "justified":
		slot = b.headSlot
	case id == "genesis":
		slot = 0
	case strings.HasPrefix(id, "0x"):
		if len(id) != 66 {
			writeError(w, http.StatusBadRequest, "invalid block ID %q", id)
			return 0, false
		}
		writeError(w, http.StatusNotFound, "block %s not found: the devnet serves blocks by slot only", id)
		return 0, false
	default:
		s, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid block ID %q", id)
			return 0, false
		}
		slot = s
	}
	n, ok := b.slots[slot]
	if !ok {
		writeError(w, http.StatusNotFound, "block not found: no block at slot %d (head slot %d)", slot, b.headSlot)
		return 0, false
	}
	return n, true
}

// blobRef is a blob of an L1 block, at its index among the block's blobs.
type blobRef struct {
	index         uint64
	versionedHash common.Hash
	blob          *kzg4844.Blob
	commitment    kzg4844.Commitment
}

// blockBlobs lists the blobs of L1 block n, in the order of the block's transactions and their hashes.
func (b *beaconAPI) blockBlobs(n uint64) []blobRef {
	var out []blobRef
	for _, tx := range b.b.L1Block(n).Transactions() {
		for _, vh := range tx.BlobHashes() {
			blob, c, _, ok := b.b.Blob(vh)
			if !ok {
				continue // not a blob of the devnet's: never the case
			}
			out = append(out, blobRef{index: uint64(len(out)), versionedHash: vh, blob: blob, commitment: c})
		}
	}
	return out
}

func (b *beaconAPI) proof(ref blobRef) (kzg4844.Proof, error) {
	if p, ok := blobProofs.Load(ref.versionedHash); ok {
		return p.(kzg4844.Proof), nil
	}
	p, err := kzg4844.ComputeBlobProof(ref.blob, ref.commitment)
	if err != nil {
		return kzg4844.Proof{}, err
	}
	blobProofs.Store(ref.versionedHash, p)
	return p, nil
}

// queryList reads a repeatable query parameter whose values may also be comma-separated.
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// blobSidecars is GET /eth/v1/beacon/blob_sidecars/{block_id}[?indices=i,j].
func (b *beaconAPI) blobSidecars(w http.ResponseWriter, r *http.Request) {
	n, ok := b.l1Block(w, r)
	if !ok {
		return
	}
	want := map[uint64]bool{}
	for _, s := range queryList(r, "indices") {
		i, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid blob index %q", s)
			return
		}
		want[i] = true
	}
	block := b.b.L1Block(n)
	header := wire.SignedBeaconBlockHeader{
		Message:   wire.BeaconBlockHeader{Slot: wire.QuotedUint64((block.Time() - b.genesisTime) / SecondsPerSlot)},
		Signature: make([]byte, 96),
	}
	if root := block.BeaconRoot(); root != nil {
		header.Message.ParentRoot = *root
	}
	data := []wire.BlobSidecar{}
	for _, ref := range b.blockBlobs(n) {
		if len(want) > 0 && !want[ref.index] {
			continue
		}
		proof, err := b.proof(ref)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "KZG proof of blob %s: %v", ref.versionedHash, err)
			return
		}
		data = append(data, wire.BlobSidecar{
			Index: wire.QuotedUint64(ref.index), Blob: ref.blob, KZGCommitment: ref.commitment, KZGProof: proof,
			SignedBlockHeader: header, KZGCommitmentInclusionProof: make([]common.Hash, kzgInclusionProofDepth),
		})
	}
	writeJSON(w, http.StatusOK, wire.BlockResponse[[]wire.BlobSidecar]{Version: "fulu", Finalized: true, Data: data})
}

// blobs is GET /eth/v1/beacon/blobs/{block_id}[?versioned_hashes=h1,h2]: the blobs of the block, in index
// order, only those with the given versioned hashes if any are given.
func (b *beaconAPI) blobs(w http.ResponseWriter, r *http.Request) {
	n, ok := b.l1Block(w, r)
	if !ok {
		return
	}
	want := map[common.Hash]bool{}
	for _, s := range queryList(r, "versioned_hashes") {
		raw, err := hexutil.Decode(s)
		if err != nil || len(raw) != common.HashLength {
			writeError(w, http.StatusBadRequest, "invalid versioned hash %q", s)
			return
		}
		want[common.Hash(raw)] = true
	}
	data := []*kzg4844.Blob{}
	for _, ref := range b.blockBlobs(n) {
		if len(want) == 0 || want[ref.versionedHash] {
			data = append(data, ref.blob)
		}
	}
	writeJSON(w, http.StatusOK, wire.BlockResponse[[]*kzg4844.Blob]{Version: "fulu", Finalized: true, Data: data})
}
