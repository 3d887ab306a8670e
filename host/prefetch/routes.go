package prefetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// ErrUnknownHint is returned when a missing preimage was announced by a hint type this host does not know.
var ErrUnknownHint = errors.New("unknown hint type")

// route fetches what a hint announces into b.
func (p *Prefetcher) route(ctx context.Context, typ string, data []byte, b *batch) error {
	switch typ {
	case preimage.HintL1BlockHeader:
		return p.l1Header(ctx, data, b)
	case preimage.HintL1Transactions:
		return p.l1Transactions(ctx, data, b)
	case preimage.HintL1Receipts:
		return p.l1Receipts(ctx, data, b)
	case preimage.HintL1Blob:
		return p.l1Blob(ctx, data, b)
	case preimage.HintL1Precompile, preimage.HintL1PrecompileV2:
		return p.precompile(typ, data, b)
	case preimage.HintL2BlockHeader, preimage.HintL2Transactions:
		return p.l2Block(ctx, data, b)
	case preimage.HintL2Receipts:
		return p.l2Receipts(ctx, data, b)
	case preimage.HintL2Code:
		return p.l2Code(ctx, data, b)
	case preimage.HintL2StateNode:
		return p.l2StateNode(ctx, data, b)
	case preimage.HintL2Output, preimage.HintL2OutputRoot:
		if p.cfg.Interop != nil {
			return p.l2OutputAtPrestate(ctx, typ, data, b)
		}
		return p.l2Output(ctx, data, b)
	case preimage.HintL2AccountProof:
		return p.l2AccountProof(ctx, data, b)
	case preimage.HintL2AccountStorageProof:
		return p.l2AccountStorageProof(ctx, data, b)
	case preimage.HintL2PayloadWitness:
		return p.l2PayloadWitness(ctx, data, b)
	case preimage.HintAgreedPreState:
		return p.agreedPreState(data, b)
	case preimage.HintL2BlockData:
		return p.blockData(ctx, data, b)
	default:
		return Permanent(fmt.Errorf("%w %q", ErrUnknownHint, typ))
	}
}

func blockHash(typ string, data []byte) (common.Hash, error) {
	if len(data) != 32 {
		return common.Hash{}, Permanent(fmt.Errorf("%s hint: %d bytes of data, want a 32-byte block hash", typ, len(data)))
	}
	return common.Hash(data), nil
}

func (p *Prefetcher) l1Header(ctx context.Context, data []byte, b *batch) error {
	hash, err := blockHash(preimage.HintL1BlockHeader, data)
	if err != nil {
		return err
	}
	return p.l1HeaderWalk(ctx, hash, b)
}

func (p *Prefetcher) l1Transactions(ctx context.Context, data []byte, b *batch) error {
	hash, err := blockHash(preimage.HintL1Transactions, data)
	if err != nil {
		return err
	}
	blk, err := p.src.L1.BlockByHash(ctx, hash)
	if err != nil {
		return err
	}
	layout.Header(b.add, hash, blk.HeaderRLP)
	if err := layout.List(b.add, fmt.Sprintf("transactions of L1 block %s", hash), blk.Transactions, blk.Header.TxHash); err != nil {
		return err
	}
	p.blobs.plan(p.cfg.Rollup, blk.Header.Time, blk.Transactions)
	return nil
}

func (p *Prefetcher) l1Receipts(ctx context.Context, data []byte, b *batch) error {
	hash, err := blockHash(preimage.HintL1Receipts, data)
	if err != nil {
		return err
	}
	return p.receipts(ctx, p.src.L1, "L1", hash, b)
}

// receiptSource is what the L1 and L2 sources offer for receipts.
type receiptSource interface {
	ReceiptsByHash(ctx context.Context, hash common.Hash) (*sources.Receipts, error)
	ReceiptsOf(ctx context.Context, header *types.Header) (*sources.Receipts, error)
}

// receipts fetches a block's receipts, with the header already stored (and intact) when there is one, so
// that the node is not asked for the block again.
func (p *Prefetcher) receipts(ctx context.Context, src receiptSource, chain string, hash common.Hash, b *batch) error {
	var (
		r   *sources.Receipts
		err error
	)
	if header := p.storedHeader(hash); header != nil {
		r, err = src.ReceiptsOf(ctx, header)
	} else {
		r, err = src.ReceiptsByHash(ctx, hash)
	}
	if err != nil {
		return err
	}
	return addReceipts(b, chain, hash, r)
}

// addReceipts adds a block's receipts trie after checking that they came for the block asked for.
func addReceipts(b *batch, chain string, hash common.Hash, r *sources.Receipts) error {
	if r.Header.Hash() != hash {
		return fmt.Errorf("receipts of %s block %s came with the header of block %s", chain, hash, r.Header.Hash())
	}
	return layout.List(b.add, fmt.Sprintf("receipts of %s block %s", chain, hash), r.Encoded, r.Header.ReceiptHash)
}

// storedHeader returns the header stored as the preimage of a block hash, or nil if it is not stored
// intact (or does not decode to a header with that hash).
func (p *Prefetcher) storedHeader(hash common.Hash) *types.Header {
	enc, err := p.stored(preimage.Keccak256Key(hash).PreimageKey(), true)
	if err != nil {
		return nil
	}
	var h types.Header
	if err := rlp.DecodeBytes(enc, &h); err != nil || h.Hash() != hash {
		return nil
	}
	return &h
}

func (p *Prefetcher) l1Blob(ctx context.Context, data []byte, b *batch) error {
	var vh common.Hash
	var ts uint64
	switch len(data) {
	case 40:
		vh, ts = common.Hash(data[:32]), binary.BigEndian.Uint64(data[32:])
	case 48: // legacy: the blob index sits between the two and is not needed
		vh, ts = common.Hash(data[:32]), binary.BigEndian.Uint64(data[40:])
	default:
		return Permanent(fmt.Errorf("%s hint: %d bytes of data, want 40 (or legacy 48)", preimage.HintL1Blob, len(data)))
	}
	blob, err := p.blob(ctx, ts, vh)
	if err != nil {
		return err
	}
	c := blob.Commitment
	if got := common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &c)); got != vh {
		return fmt.Errorf("blob %s: commitment %x has versioned hash %s", vh, c, got)
	}
	// The source checked the blob against its commitment: serving its elements need not check it again.
	p.check.remember(c, blob.Blob)
	layout.Blob(b.add, &c, blob.Blob)
	return nil
}

// precompile answers an l1-precompile(-v2) hint with the precompile run here (RunPrecompile); the call
// is stored too, as the preimage of the key's hash, for loading the call into the on-chain oracle.
func (p *Prefetcher) precompile(typ string, data []byte, b *batch) error {
	res, err := RunPrecompile(typ, data)
	if err != nil {
		return Permanent(err)
	}
	layout.Precompile(b.add, res.Call, res.Answer)
	return nil
}

func (p *Prefetcher) l2Block(ctx context.Context, data []byte, b *batch) error {
	hash, src, err := p.l2HashSource("L2 block", data)
	if err != nil {
		return err
	}
	blk, err := src.BlockByHash(ctx, hash)
	if err != nil {
		return err
	}
	layout.Header(b.add, hash, blk.HeaderRLP)
	return layout.List(b.add, fmt.Sprintf("transactions of L2 block %s", hash), blk.Transactions, blk.Header.TxHash)
}

func (p *Prefetcher) l2Receipts(ctx context.Context, data []byte, b *batch) error {
	hash, src, err := p.l2HashSource(preimage.HintL2Receipts, data)
	if err != nil {
		return err
	}
	return p.receipts(ctx, src, "L2", hash, b)
}

func (p *Prefetcher) l2Code(ctx context.Context, data []byte, b *batch) error {
	hash, src, err := p.l2HashSource(preimage.HintL2Code, data)
	if err != nil {
		return err
	}
	code, err := src.CodeByHash(ctx, hash)
	if err != nil {
		return err
	}
	b.add(preimage.Keccak256Key(hash), code)
	return nil
}

func (p *Prefetcher) l2StateNode(ctx context.Context, data []byte, b *batch) error {
	hash, src, err := p.l2HashSource(preimage.HintL2StateNode, data)
	if err != nil {
		return err
	}
	node, err := src.NodeByHash(ctx, hash)
	if err != nil {
		return err
	}
	b.add(preimage.Keccak256Key(hash), node)
	return nil
}

// l2Output answers with the output of the agreed L2 head; it must be the requested root.
func (p *Prefetcher) l2Output(ctx context.Context, data []byte, b *batch) error {
	root, src, err := p.l2HashSource(preimage.HintL2Output, data)
	if err != nil {
		return err
	}
	if p.cfg.L2Head == (common.Hash{}) {
		return Permanent(errors.New("l2-output hint, but no L2 head is configured"))
	}
	out, header, err := src.OutputAt(ctx, p.cfg.L2Head)
	if err != nil {
		return err
	}
	// From Isthmus the header commits to the message passer's storage root as its withdrawals root.
	if r := p.cfg.Rollup; r != nil && r.IsIsthmus(header.Time) && header.WithdrawalsHash != nil &&
		*header.WithdrawalsHash != out.MessagePasserStorageRoot {
		return fmt.Errorf("L2 block %s: message passer storage root %s, but the header's withdrawals root is %s",
			p.cfg.L2Head, out.MessagePasserStorageRoot, *header.WithdrawalsHash)
	}
	if got := out.Root(); got != root {
		return Permanent(fmt.Errorf("output root of the L2 head %s is %s, not the requested %s", p.cfg.L2Head, got, root))
	}
	layout.Output(b.add, out)
	return nil
}

// l2AccountProof stores the proof of an account and of its storage slot 0: the account's path in the
// state trie and the root of its storage trie, which is what the program walks first. The block is named by
// hash (op-program, kona) or, from older kona programs, by number.
func (p *Prefetcher) l2AccountProof(ctx context.Context, data []byte, b *batch) error {
	typ := preimage.HintL2AccountProof
	block, rest, src, err := p.l2ProofBlock(ctx, typ, data, 20)
	if err != nil {
		return err
	}
	chainID := binary.BigEndian.Uint64(data[len(data)-8:])
	if exp, _ := p.l2For(typ, chainID, true, true); exp != nil {
		src = exp
	}
	return p.l2Proof(ctx, src, common.BytesToAddress(rest[:20]), common.Hash{}, block, b)
}

// l2AccountStorageProof stores an account's proof and one storage slot's (kona's hint).
func (p *Prefetcher) l2AccountStorageProof(ctx context.Context, data []byte, b *batch) error {
	block, rest, src, err := p.l2ProofBlock(ctx, preimage.HintL2AccountStorageProof, data, 20+32)
	if err != nil {
		return err
	}
	return p.l2Proof(ctx, src, common.BytesToAddress(rest[:20]), common.Hash(rest[20:52]), block, b)
}

// l2ProofBlock reads a proof hint: a block hash (32 bytes) or number (8), size bytes of arguments, and a
// chain ID (8). It returns the block's hash, the arguments and the chain's source.
func (p *Prefetcher) l2ProofBlock(ctx context.Context, typ string, data []byte, size int) (common.Hash, []byte, L2Source, error) {
	if len(data) != 32+size+8 && len(data) != 8+size+8 {
		return common.Hash{}, nil, nil, Permanent(fmt.Errorf("%s hint: %d bytes of data, want %d (block hash) or %d (block number)", typ, len(data), 32+size+8, 8+size+8))
	}
	src, err := p.l2For(typ, binary.BigEndian.Uint64(data[len(data)-8:]), true, false)
	if err != nil {
		return common.Hash{}, nil, nil, err
	}
	if len(data) == 32+size+8 {
		return common.Hash(data[:32]), data[32 : 32+size], src, nil
	}
	hash, err := src.BlockHashByNumber(ctx, binary.BigEndian.Uint64(data[:8]))
	if err != nil {
		return common.Hash{}, nil, nil, err
	}
	return hash, data[8 : 8+size], src, nil
}

// l2Proof stores the nodes of an account's proof and of one of its storage slots' at a block. The nodes
// are stored under their hashes; the program checks the paths it walks.
func (p *Prefetcher) l2Proof(ctx context.Context, src L2Source, addr common.Address, slot, block common.Hash, b *batch) error {
	proof, err := src.GetProof(ctx, addr, []common.Hash{slot}, block)
	if err != nil {
		return err
	}
	for _, n := range proof.AccountProof {
		b.addNode(n)
	}
	for _, sp := range proof.StorageProof {
		for _, n := range sp.Proof {
			b.addNode(n)
		}
	}
	return nil
}

// errNoExperimental is returned for a payload witness hint without an experimental L2 source.
var errNoExperimental = errors.New("no experimental L2 source (--l2.experimental) to execute payloads")

// payloadWitnessHint is the l2-payload-witness data: a JSON object.
type payloadWitnessHint struct {
	ParentBlockHash   common.Hash     `json:"parentBlockHash"`
	PayloadAttributes json.RawMessage `json:"payloadAttributes"`
	ChainID           json.RawMessage `json:"chainID,omitempty"`
}

// parseChainID reads a JSON chain ID: a number, or a decimal or 0x-hex string.
func parseChainID(raw json.RawMessage) (uint64, error) {
	s := strings.Trim(string(raw), `"`)
	var v *big.Int
	var ok bool
	if strings.HasPrefix(s, "0x") {
		b, err := hexutil.DecodeBig(s)
		v, ok = b, err == nil
	} else {
		v, ok = new(big.Int).SetString(s, 10)
	}
	if !ok || !v.IsUint64() {
		return 0, fmt.Errorf("chain ID %s", raw)
	}
	return v.Uint64(), nil
}

// parsePayloadWitnessHint reads the hint in op-program's form (a JSON object) or in kona's: the parent
// block hash (32 bytes), the JSON payload attributes, and optionally the chain ID (8 bytes, big-endian).
func parsePayloadWitnessHint(data []byte) (*payloadWitnessHint, error) {
	var h payloadWitnessHint
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, err
		}
		return &h, nil
	}
	if len(data) < common.HashLength+2 {
		return nil, fmt.Errorf("%d bytes: neither a JSON object nor a parent hash with attributes", len(data))
	}
	h.ParentBlockHash = common.BytesToHash(data[:common.HashLength])
	dec := json.NewDecoder(bytes.NewReader(data[common.HashLength:]))
	if err := dec.Decode(&h.PayloadAttributes); err != nil {
		return nil, fmt.Errorf("payload attributes: %w", err)
	}
	switch rest := data[common.HashLength+int(dec.InputOffset()):]; len(rest) {
	case 0:
	case 8:
		h.ChainID = json.RawMessage(strconv.FormatUint(binary.BigEndian.Uint64(rest), 10))
	default:
		return nil, fmt.Errorf("%d bytes after the payload attributes, want none or an 8-byte chain ID", len(rest))
	}
	return &h, nil
}

func (p *Prefetcher) l2PayloadWitness(ctx context.Context, data []byte, b *batch) error {
	h, err := parsePayloadWitnessHint(data)
	if err != nil {
		return Permanent(fmt.Errorf("%s hint: %w", preimage.HintL2PayloadWitness, err))
	}
	if len(h.PayloadAttributes) == 0 || string(h.PayloadAttributes) == "null" {
		return Permanent(fmt.Errorf("%s hint: no payload attributes", preimage.HintL2PayloadWitness))
	}
	var id uint64
	hasID := len(h.ChainID) > 0 && string(h.ChainID) != "null"
	if hasID {
		if id, err = parseChainID(h.ChainID); err != nil {
			return Permanent(fmt.Errorf("%s hint: %w", preimage.HintL2PayloadWitness, err))
		}
		// The chain must have a node at all; only then does a missing experimental one matter.
		if _, err := p.l2For(preimage.HintL2PayloadWitness, id, true, false); err != nil {
			return err
		}
	}
	src, err := p.l2For(preimage.HintL2PayloadWitness, id, hasID, true)
	if err != nil {
		return err
	}
	if src == nil {
		return Permanent(errNoExperimental)
	}
	w, err := src.ExecutePayload(ctx, h.ParentBlockHash, h.PayloadAttributes)
	if err != nil {
		return err
	}
	for _, list := range [][][]byte{w.State, w.Codes} {
		for _, v := range list {
			if len(v) > 0 {
				b.addNode(v)
			}
		}
	}
	return nil
}
