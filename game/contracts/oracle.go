package contracts

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The PreimageOracle's loaders, as a challenger calls them before a step that reads a pre-image.

// LoadKeccak256PreimagePart loads the part at partOffset of a keccak256 pre-image.
func (s *System) LoadKeccak256PreimagePart(from common.Address, partOffset uint64, preimage []byte) (*Receipt, error) {
	return s.Oracle.Send(from, nil, "loadKeccak256PreimagePart", new(big.Int).SetUint64(partOffset), preimage)
}

// LoadSha256PreimagePart loads the part at partOffset of a sha256 pre-image.
func (s *System) LoadSha256PreimagePart(from common.Address, partOffset uint64, preimage []byte) (*Receipt, error) {
	return s.Oracle.Send(from, nil, "loadSha256PreimagePart", new(big.Int).SetUint64(partOffset), preimage)
}

// LoadBlobPreimagePart loads field element y at point z of the blob with a KZG commitment, proven by a
// KZG proof (the oracle checks it with the point evaluation precompile).
func (s *System) LoadBlobPreimagePart(from common.Address, z, y [32]byte, commitment, proof []byte, partOffset uint64) (*Receipt, error) {
	return s.Oracle.Send(from, nil, "loadBlobPreimagePart", new(big.Int).SetBytes(z[:]), new(big.Int).SetBytes(y[:]),
		commitment, proof, new(big.Int).SetUint64(partOffset))
}

// LoadPrecompilePreimagePart has the oracle run a precompile on input and loads the part of its answer.
func (s *System) LoadPrecompilePreimagePart(from common.Address, partOffset uint64, precompile common.Address, requiredGas uint64, input []byte) (*Receipt, error) {
	return s.Oracle.Send(from, nil, "loadPrecompilePreimagePart", new(big.Int).SetUint64(partOffset), precompile, requiredGas, input)
}

// PreimagePartOk says whether the oracle holds the part at offset of a key.
func (s *System) PreimagePartOk(key common.Hash, offset uint64) (bool, error) {
	out, err := s.Oracle.Call("preimagePartOk", key, new(big.Int).SetUint64(offset))
	if err != nil {
		return false, err
	}
	return out[0].(bool), nil
}

// ReadPreimage reads a part as the VM would.
func (s *System) ReadPreimage(key common.Hash, offset uint64) (common.Hash, uint64, error) {
	out, err := s.Oracle.Call("readPreimage", key, new(big.Int).SetUint64(offset))
	if err != nil {
		return common.Hash{}, 0, err
	}
	return out[0].([32]byte), out[1].(*big.Int).Uint64(), nil
}

// LPPUUID is the proposal ID a challenger uses for the part at partOffset of a pre-image: any number
// unique per proposer works.
func LPPUUID(key common.Hash, partOffset uint64) *big.Int {
	return new(big.Int).SetBytes(crypto.Keccak256([]byte("faultproof large preimage proposal"), key[:], new(big.Int).SetUint64(partOffset).Bytes()))
}

// LPPReceipts are the transactions of one large-preimage proposal.
type LPPReceipts struct {
	Init, Squeeze *Receipt
	Leaves        []*Receipt
}

// GasUsed is the gas of every transaction of the proposal.
func (r *LPPReceipts) GasUsed() uint64 {
	var n uint64
	for _, x := range append([]*Receipt{r.Init, r.Squeeze}, r.Leaves...) {
		if x != nil {
			n += x.GasUsed
		}
	}
	return n
}

// ProposeLargePreimage does the first half of a proposal: initLPP with the bond, then addLeavesLPP in
// chunks of at most maxBlocks blocks, the last one finalizing (which starts the challenge period). The
// caller waits out the period and calls SqueezeLargePreimage.
func (s *System) ProposeLargePreimage(from common.Address, uuid *big.Int, p *LargePreimage, partOffset uint64, maxBlocks int) (*LPPReceipts, error) {
	var r LPPReceipts
	var err error
	if r.Init, err = s.Oracle.Send(from, LPPMinBond, "initLPP", uuid, uint32(partOffset), uint32(len(p.Data))); err != nil {
		return &r, err
	}
	chunks, err := p.Chunks(maxBlocks, partOffset)
	if err != nil {
		return &r, err
	}
	for _, c := range chunks {
		rcpt, err := s.Oracle.Send(from, nil, "addLeavesLPP", uuid, big.NewInt(int64(c.Start)), c.Input, c.Commitments, c.Final)
		r.Leaves = append(r.Leaves, rcpt)
		if err != nil {
			return &r, fmt.Errorf("leaves from block %d: %w", c.Start, err)
		}
	}
	out, err := s.Oracle.Call("getTreeRootLPP", from, uuid)
	if err != nil {
		return &r, err
	}
	if root := common.Hash(out[0].([32]byte)); root != p.Root() {
		return &r, fmt.Errorf("the oracle's proposal tree root is %s, the leaves make %s", root, p.Root())
	}
	return &r, nil
}

// SqueezeLargePreimage finishes a proposal after its challenge period: squeezeLPP with the last two
// leaves, which proves the digest and stores the part.
func (s *System) SqueezeLargePreimage(from common.Address, uuid *big.Int, p *LargePreimage) (*Receipt, error) {
	n := len(p.Blocks)
	if n < 2 {
		return nil, fmt.Errorf("a proposal of %d block cannot be squeezed: it needs two leaves", n)
	}
	type stateMatrix struct{ State [25]uint64 }
	pre := stateMatrix{State: p.States[n-2]}
	return s.Oracle.Send(from, nil, "squeezeLPP", from, uuid, pre, p.Leaf(n-2), p.Proof(n-2), p.Leaf(n-1), p.Proof(n-1))
}
