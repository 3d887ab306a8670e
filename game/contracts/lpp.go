package contracts

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The large-preimage proposal (LPP) puts a keccak256 pre-image too large for one transaction into the
// PreimageOracle: the proposer posts the padded pre-image block by block with the keccak state after
// each block (addLeavesLPP), the oracle keeps a Merkle tree of the leaves (input, index, state
// commitment), anyone may show a wrong state transition (challengeLPP) during the challenge period, and
// after it the proposer squeezes the last leaf to prove the digest and store the part (squeezeLPP).

// LPPTreeDepth is the depth of the oracle's leaf tree (KECCAK_TREE_DEPTH).
const LPPTreeDepth = 16

// LPPMinBond is the bond initLPP takes (MIN_BOND_SIZE): 0.25 ether.
var LPPMinBond = new(big.Int).Div(big.NewInt(1e18), big.NewInt(4))

// LPPLeaf is one leaf of a proposal, as the oracle's Leaf struct.
type LPPLeaf struct {
	Input           []byte
	Index           *big.Int
	StateCommitment [32]byte
}

// Hash is the leaf's node in the tree: keccak256(input ++ uint256(index) ++ commitment).
func (l LPPLeaf) Hash() common.Hash {
	return crypto.Keccak256Hash(l.Input, common.BigToHash(l.Index).Bytes(), l.StateCommitment[:])
}

// LargePreimage is a pre-image cut into a proposal's leaves.
type LargePreimage struct {
	Data   []byte        // the pre-image
	Blocks [][]byte      // its padded blocks
	States []StateMatrix // the keccak state after each block
	tree   [][]common.Hash
}

// NewLargePreimage cuts data into blocks and computes the states and the leaf tree.
func NewLargePreimage(data []byte) (*LargePreimage, error) {
	padded := KeccakPad(data)
	n := len(padded) / KeccakBlockSize
	if n >= 1<<LPPTreeDepth {
		return nil, fmt.Errorf("pre-image of %d bytes: %d blocks, the oracle's tree holds %d", len(data), n, 1<<LPPTreeDepth-1)
	}
	p := &LargePreimage{Data: data}
	var s StateMatrix
	for i := range n {
		b := padded[i*KeccakBlockSize : (i+1)*KeccakBlockSize]
		s.Absorb(b)
		p.Blocks = append(p.Blocks, b)
		p.States = append(p.States, s)
	}
	// The tree, level by level over the leaves present; missing nodes are the zero subtrees.
	level := make([]common.Hash, n)
	for i := range level {
		level[i] = p.Leaf(i).Hash()
	}
	zero := common.Hash{}
	for range LPPTreeDepth {
		p.tree = append(p.tree, level)
		next := make([]common.Hash, (len(level)+1)/2)
		for i := range next {
			right := zero
			if 2*i+1 < len(level) {
				right = level[2*i+1]
			}
			next[i] = crypto.Keccak256Hash(level[2*i][:], right[:])
		}
		level = next
		zero = crypto.Keccak256Hash(zero[:], zero[:])
	}
	p.tree = append(p.tree, level)
	return p, nil
}

// Digest is keccak256 of the pre-image, from the last state.
func (p *LargePreimage) Digest() common.Hash { return p.States[len(p.States)-1].Squeeze() }

// Leaf returns leaf i.
func (p *LargePreimage) Leaf(i int) LPPLeaf {
	return LPPLeaf{Input: p.Blocks[i], Index: big.NewInt(int64(i)), StateCommitment: StateCommitment(&p.States[i])}
}

// Root is the tree root the oracle computes (getTreeRootLPP) once every leaf is added.
func (p *LargePreimage) Root() common.Hash { return p.tree[LPPTreeDepth][0] }

// Proof is the Merkle proof of leaf i: the sibling at each level, bottom up.
func (p *LargePreimage) Proof(i int) [][32]byte {
	proof := make([][32]byte, LPPTreeDepth)
	zero := common.Hash{}
	for h := range LPPTreeDepth {
		sib := i ^ 1
		if sib < len(p.tree[h]) {
			proof[h] = p.tree[h][sib]
		} else {
			proof[h] = zero
		}
		zero = crypto.Keccak256Hash(zero[:], zero[:])
		i >>= 1
	}
	return proof
}

// LPPChunk is one addLeavesLPP call: the raw pre-image bytes from block Start (the last chunk unpadded,
// the oracle pads it) and the commitments of the blocks they make.
type LPPChunk struct {
	Start       int
	Input       []byte
	Commitments [][32]byte
	Final       bool
}

// Chunks cuts the proposal into calls of at most maxBlocks blocks. A chunk other than the last may not
// end inside the 32-byte part at partOffset (counting the 8-byte length prefix): the oracle only takes a
// part whole from one call.
func (p *LargePreimage) Chunks(maxBlocks int, partOffset uint64) ([]LPPChunk, error) {
	if maxBlocks < 1 {
		return nil, errors.New("chunks of no blocks")
	}
	var chunks []LPPChunk
	n := len(p.Blocks)
	for start := 0; start < n; {
		end := min(start+maxBlocks, n)
		if end < n && partOffset >= 8 {
			// The part at [o, o+32) of the data: it must lie inside a non-final chunk or after it.
			o := partOffset - 8
			from, to := uint64(start*KeccakBlockSize), uint64(end*KeccakBlockSize)
			if o >= from && o < to && o+32 >= to {
				end = int(o / KeccakBlockSize)
				if end <= start { // the part starts in the first block of the chunk: take it with the next
					end = min(start+maxBlocks+1, n)
				}
			}
		}
		c := LPPChunk{Start: start, Final: end == n}
		lo := start * KeccakBlockSize
		if c.Final {
			c.Input = p.Data[min(lo, len(p.Data)):]
		} else {
			c.Input = p.Data[lo : end*KeccakBlockSize]
		}
		for i := start; i < end; i++ {
			c.Commitments = append(c.Commitments, StateCommitment(&p.States[i]))
		}
		chunks = append(chunks, c)
		start = end
	}
	return chunks, nil
}
