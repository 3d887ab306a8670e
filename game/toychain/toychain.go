// Package toychain is a miniature chain and fault proof program for testing the game machinery (contracts,
// actors, pre-image uploads, VM traces and proofs) in seconds: the program (./program) decides claims about
// the chain's output roots from the same local keys as the real one and reads one pre-image per block, of
// every type the PreimageOracle serves (keccak256 small and large, sha256, a blob field element, a
// precompile answer), in a few million VM steps.
package toychain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// ChainID is the toy chain's ID (local key 5).
const ChainID = 4242

// Kind is what a block's record reads.
type Kind string

const (
	Keccak      Kind = "keccak"
	LargeKeccak Kind = "large-keccak"
	Sha256      Kind = "sha256"
	Blob        Kind = "blob"
	Precompile  Kind = "precompile"
)

// LargeKeccakSize is the size of a LargeKeccak record's pre-image.
const LargeKeccakSize = 5000

// Chain is a toy chain: block n reads Records[n-1].
type Chain struct {
	Records []Record
	// Outputs are the output roots of blocks 0 (genesis) to len(Records).
	Outputs []common.Hash
	// L1Head is the key of the record list.
	L1Head common.Hash
	// Preimages are every pre-image the program may read, plus what a challenger needs to load them: the
	// commitment and point of the blob key and every element of its blob, the precompile call.
	Preimages map[[32]byte][]byte
}

// Record is one block's pre-image read.
type Record struct {
	Kind  Kind
	Key   [32]byte
	Value []byte
}

// New makes a chain with one block per kind. The same kinds give the same chain.
func New(kinds ...Kind) (*Chain, error) {
	rng := rand.New(rand.NewSource(int64(len(kinds))))
	c := &Chain{Preimages: map[[32]byte][]byte{}}
	putKeccak := func(v []byte) [32]byte {
		k := preimage.KeccakKeyOf(v).PreimageKey()
		c.Preimages[k] = v
		return k
	}
	state := crypto.Keccak256([]byte("toy genesis"))
	output := func(n uint64) common.Hash {
		pre := append(binary.BigEndian.AppendUint64(nil, n), state...)
		putKeccak(pre)
		return crypto.Keccak256Hash(pre)
	}
	c.Outputs = append(c.Outputs, output(0))
	var list []byte
	for i, kind := range kinds {
		r := Record{Kind: kind}
		switch kind {
		case Keccak, LargeKeccak:
			size := 100 + i
			if kind == LargeKeccak {
				size = LargeKeccakSize
			}
			r.Value = make([]byte, size)
			rng.Read(r.Value)
			r.Key = putKeccak(r.Value)
		case Sha256:
			r.Value = []byte(fmt.Sprintf("toy sha256 pre-image of block %d", i+1))
			r.Key = preimage.Sha256Key(sha256.Sum256(r.Value)).PreimageKey()
			c.Preimages[r.Key] = r.Value
		case Blob:
			var blob kzg4844.Blob
			for j := range params.BlobTxFieldElementsPerBlob {
				rng.Read(blob[j*32+1 : j*32+32]) // below the field modulus
			}
			commitment, err := kzg4844.BlobToCommitment(&blob)
			if err != nil {
				return nil, err
			}
			for j := range params.BlobTxFieldElementsPerBlob {
				k, in := layout.FieldElementKey(&commitment, j)
				c.Preimages[k.PreimageKey()] = blob[j*32 : j*32+32]
				putKeccak(in[:])
			}
			k, _ := layout.FieldElementKey(&commitment, 7)
			r.Key = k.PreimageKey()
			r.Value = c.Preimages[r.Key]
		case Precompile:
			// SHA256 precompile, as the program's accelerated precompiles are called: the answer is a status
			// byte and the output, under the key of address ++ required gas ++ input.
			addr := common.BytesToAddress([]byte{2})
			input := []byte(fmt.Sprintf("toy precompile input of block %d", i+1))
			p := vm.PrecompiledContractsCancun[addr]
			call := layout.PrecompileCall(addr, p.RequiredGas(input), input)
			out, err := p.Run(input)
			if err != nil {
				return nil, err
			}
			layout.Precompile(func(k preimage.Key, v []byte) { c.Preimages[k.PreimageKey()] = v }, call, layout.PrecompileAnswer(true, out))
			r.Key = layout.PrecompileKeyOf(call).PreimageKey()
			r.Value = c.Preimages[r.Key]
		default:
			return nil, fmt.Errorf("toy chain: unknown record kind %q", kind)
		}
		c.Records = append(c.Records, r)
		list = append(append(list, r.Key[0]), r.Key[:]...)
		state = crypto.Keccak256(state, r.Value)
		c.Outputs = append(c.Outputs, output(uint64(i+1)))
	}
	putKeccak(list)
	c.L1Head = crypto.Keccak256Hash(list)
	return c, nil
}

// OutputRoot implements trace.OutputSource.
func (c *Chain) OutputRoot(n uint64) (common.Hash, error) {
	if n >= uint64(len(c.Outputs)) {
		return common.Hash{}, fmt.Errorf("toy chain has no block %d", n)
	}
	return c.Outputs[n], nil
}

// BlockHash implements trace.OutputSource: a stand-in, the toy chain has no block hashes.
func (c *Chain) BlockHash(n uint64) (common.Hash, error) {
	return crypto.Keccak256Hash([]byte("toy block"), binary.BigEndian.AppendUint64(nil, n)), nil
}

// BuildProgram builds the toy program for the VM into dir and returns the ELF's path. src is the root of
// the faultproof module.
func BuildProgram(src, dir string) (string, error) {
	out := filepath.Join(dir, "toy-program.elf")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./game/toychain/program")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the toy program: %v: %s", err, b)
	}
	return out, nil
}
