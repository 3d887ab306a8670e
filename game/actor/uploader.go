package actor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// LPPMaxBlocks is the most keccak blocks one addLeavesLPP call carries (as op-challenger cuts them).
const LPPMaxBlocks = 300

// Upload is how a step's pre-image part got into the oracle.
type Upload struct {
	Route string // "addLocalData", "loadKeccak256PreimagePart", "large preimage proposal", ...
	Key   common.Hash
	Size  int // pre-image bytes (without the length prefix)
	// Receipts of the transactions, in order, and their calls.
	Receipts []*contracts.Receipt
	Calls    []string
	// Reported counts the receipts a caller has accounted for (a proposal's squeeze comes later).
	Reported int
}

// GasUsed is the gas of the upload's transactions.
func (u *Upload) GasUsed() uint64 {
	var n uint64
	for _, r := range u.Receipts {
		if r != nil {
			n += r.GasUsed
		}
	}
	return n
}

func (u *Upload) add(call string, r *contracts.Receipt) {
	u.Calls = append(u.Calls, call)
	u.Receipts = append(u.Receipts, r)
}

// pendingLPP is a large-preimage proposal waiting out its challenge period.
type pendingLPP struct {
	uuid    *big.Int
	p       *contracts.LargePreimage
	readyAt uint64
	upload  *Upload
}

// Uploader puts the pre-image part a step reads into the PreimageOracle, by the route its key type takes
// (as op-challenger routes them): local keys through the game's addLocalData, keccak256 pre-images through
// loadKeccak256PreimagePart or, from the oracle's minimum proposal size, a large-preimage proposal;
// sha256 through loadSha256PreimagePart; blob field elements through loadBlobPreimagePart with a KZG proof
// of the element (the blob is rebuilt from its elements' pre-images); precompile answers through
// loadPrecompilePreimagePart with the call, from its keccak256 pre-image.
type Uploader struct {
	Source  trace.PreimageSource
	From    common.Address
	pending map[common.Hash]*pendingLPP
}

// ErrWaiting means a large-preimage proposal is in its challenge period: upload again after ReadyAt.
type ErrWaiting struct{ ReadyAt uint64 }

func (e *ErrWaiting) Error() string {
	return fmt.Sprintf("large pre-image proposal in its challenge period until %d", e.ReadyAt)
}

// Upload loads the part of d's pre-image for a step against the leaf at leafIndex. It returns
// *ErrWaiting while a large-preimage proposal waits out its challenge period.
func (u *Uploader) Upload(g *contracts.Game, leafIndex int, d *trace.StepData) (*Upload, error) {
	key, value, offset := d.OracleKey, d.OracleValue, d.OracleOffset
	if len(value) < 8 || binary.BigEndian.Uint64(value[:8]) != uint64(len(value)-8) {
		return nil, errors.New("step pre-image does not start with its length")
	}
	data := value[8:]
	s := g.System
	up := &Upload{Key: key, Size: len(data)}
	if preimage.KeyType(key[0]) == preimage.LocalKeyType {
		ident := binary.BigEndian.Uint64(key[24:])
		up.Route = "addLocalData"
		r, err := g.AddLocalData(u.From, ident, leafIndex, offset)
		up.add(fmt.Sprintf("addLocalData(%d)", ident), r)
		return up, err
	}
	if ok, err := s.PreimagePartOk(key, offset); err != nil {
		return nil, err
	} else if ok {
		up.Route = "already in the oracle"
		return up, nil
	}
	switch preimage.KeyType(key[0]) {
	case preimage.Keccak256KeyType:
		if uint64(len(data)) >= s.Params.OracleMinProposalSize {
			return u.proposeLarge(s, key, data, offset)
		}
		up.Route = "loadKeccak256PreimagePart"
		r, err := s.LoadKeccak256PreimagePart(u.From, offset, data)
		up.add(up.Route, r)
		return up, err
	case preimage.Sha256KeyType:
		up.Route = "loadSha256PreimagePart"
		r, err := s.LoadSha256PreimagePart(u.From, offset, data)
		up.add(up.Route, r)
		return up, err
	case preimage.BlobKeyType:
		commitment, z, proof, err := u.blobProof(key, data)
		if err != nil {
			return nil, err
		}
		up.Route = "loadBlobPreimagePart"
		r, err := s.LoadBlobPreimagePart(u.From, z, [32]byte(data), commitment[:], proof[:], offset)
		up.add(up.Route, r)
		return up, err
	case preimage.PrecompileKeyType:
		call, err := u.keccakPreimage(key)
		if err != nil {
			return nil, fmt.Errorf("precompile call of key %x: %w", key, err)
		}
		if len(call) < 28 {
			return nil, fmt.Errorf("precompile call of key %x: %d bytes", key, len(call))
		}
		up.Route = "loadPrecompilePreimagePart"
		r, err := s.LoadPrecompilePreimagePart(u.From, offset, common.Address(call[:20]), binary.BigEndian.Uint64(call[20:28]), call[28:])
		up.add(up.Route, r)
		return up, err
	}
	return nil, fmt.Errorf("pre-image key of type %d: no route into the oracle", key[0])
}

// keccakPreimage finds the data a blob or precompile key hashes: hosts store it under the keccak256 key
// of the same hash.
func (u *Uploader) keccakPreimage(key common.Hash) ([]byte, error) {
	k := key
	k[0] = byte(preimage.Keccak256KeyType)
	data, err := u.Source.Get(k)
	if err != nil {
		return nil, err
	}
	if h := crypto.Keccak256Hash(data); !bytes.Equal(h[1:], key[1:]) {
		return nil, fmt.Errorf("pre-image of %x does not hash to it", k)
	}
	return data, nil
}

// blobProof recovers the commitment and point of a blob key, rebuilds the blob from its elements' pre-images
// and proves the element's value at the point.
func (u *Uploader) blobProof(key common.Hash, value []byte) (kzg4844.Commitment, [32]byte, kzg4844.Proof, error) {
	var c kzg4844.Commitment
	var z [32]byte
	var proof kzg4844.Proof
	in, err := u.keccakPreimage(key)
	if err != nil || len(in) != 80 {
		return c, z, proof, fmt.Errorf("commitment and point of blob key %x: %v (%d bytes)", key, err, len(in))
	}
	copy(c[:], in[:48])
	copy(z[:], in[48:])
	var blob kzg4844.Blob
	for i := range params.BlobTxFieldElementsPerBlob {
		k, _ := layout.FieldElementKey(&c, i)
		e, err := u.Source.Get(k.PreimageKey())
		if err != nil {
			return c, z, proof, fmt.Errorf("blob of commitment %x, element %d: %w", c, i, err)
		}
		copy(blob[i*32:], e)
	}
	if got, err := kzg4844.BlobToCommitment(&blob); err != nil || got != c {
		return c, z, proof, fmt.Errorf("the blob rebuilt from its elements does not match commitment %x", c)
	}
	proof, y, err := kzg4844.ComputeProof(&blob, kzg4844.Point(z))
	if err != nil {
		return c, z, proof, err
	}
	if !bytes.Equal(y[:], value) {
		return c, z, proof, fmt.Errorf("the blob's value at %x is %x, the step reads %x", z, y, value)
	}
	return c, z, proof, nil
}

// proposeLarge runs a large-preimage proposal: the first call proposes and returns *ErrWaiting; a call
// after the challenge period squeezes it.
func (u *Uploader) proposeLarge(s *contracts.System, key common.Hash, data []byte, offset uint64) (*Upload, error) {
	if u.pending == nil {
		u.pending = map[common.Hash]*pendingLPP{}
	}
	id := crypto.Keccak256Hash(key[:], binary.BigEndian.AppendUint64(nil, offset))
	if p, ok := u.pending[id]; ok {
		if s.Chain.Time() <= p.readyAt {
			return nil, &ErrWaiting{ReadyAt: p.readyAt}
		}
		r, err := s.SqueezeLargePreimage(u.From, p.uuid, p.p)
		p.upload.add("squeezeLPP", r)
		if err != nil {
			return p.upload, err
		}
		delete(u.pending, id)
		return p.upload, nil
	}
	p, err := contracts.NewLargePreimage(data)
	if err != nil {
		return nil, err
	}
	if p.Digest() != crypto.Keccak256Hash(data) {
		return nil, errors.New("keccak state matrix does not squeeze to the digest")
	}
	up := &Upload{Route: "large preimage proposal", Key: key, Size: len(data)}
	uuid := contracts.LPPUUID(key, offset)
	rs, err := s.ProposeLargePreimage(u.From, uuid, p, offset, LPPMaxBlocks)
	up.add("initLPP", rs.Init)
	for _, r := range rs.Leaves {
		up.add("addLeavesLPP", r)
	}
	if err != nil {
		return up, err
	}
	readyAt := s.Chain.Time() + s.Params.OracleChallengePeriod + 1
	u.pending[id] = &pendingLPP{uuid: uuid, p: p, readyAt: readyAt, upload: up}
	return up, &ErrWaiting{ReadyAt: readyAt}
}
