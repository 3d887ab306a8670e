// Package blobkzg does the two KZG computations on blobs that faultproof makes outside the VM, without
// the set-up of op-geth's kzg4844 library: its first call also prepares everything EIP-7594's cell proofs
// need (FK20 tables), which takes seconds of CPU, more than a one-block claim takes altogether.
//
//   - BlobToCommitment, from the trusted setup's 4096 Lagrange points alone: the native client checks a
//     blob it reads, the host a stored blob before it serves one of its field elements.
//   - VerifyProof, a pairing check with the setup's [tau]G2 alone: the host answers the point-evaluation
//     precompile (0x0a) with it.
//
// Both give kzg4844's results, input for input (the tests compare them). The VM's program uses neither:
// there the on-chain oracle proves each field element and runs the precompile.
package blobkzg

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/preimage/layout"
)

//go:generate go run ./internal/kzgsetupgen -out lagrange_g1.bin

// lagrangeG1 holds the Lagrange-basis G1 points of Ethereum's KZG trusted setup, uncompressed, in the
// setup's order (written by internal/kzgsetupgen from op-geth's trusted_setup.json).
//
//go:embed lagrange_g1.bin
var lagrangeG1 []byte

// commitmentKey is the Lagrange points in blob order (bit-reversed, as field element i is the value at
// z_i). Loaded on first use: a claim without blobs never pays for it.
var commitmentKey = sync.OnceValues(func() ([]bls12381.G1Affine, error) {
	const n = params.BlobTxFieldElementsPerBlob
	if len(lagrangeG1) != n*bls12381.SizeOfG1AffineUncompressed {
		return nil, fmt.Errorf("KZG setup has %d bytes, want %d", len(lagrangeG1), n*bls12381.SizeOfG1AffineUncompressed)
	}
	points := make([]bls12381.G1Affine, n)
	// The points were checked to be in the subgroup when the file was written; the curve check stays.
	dec := bls12381.NewDecoder(bytes.NewReader(lagrangeG1), bls12381.NoSubgroupChecks())
	for i := range n {
		if err := dec.Decode(&points[layout.BitReversed(i)]); err != nil {
			return nil, fmt.Errorf("KZG setup point %d: %w", i, err)
		}
	}
	return points, nil
})

// BlobToCommitment computes the KZG commitment of a blob, as kzg4844.BlobToCommitment does. Every field
// element must be canonical (below the BLS12-381 scalar field's modulus), or it is an error.
func BlobToCommitment(blob *kzg4844.Blob) (kzg4844.Commitment, error) {
	points, err := commitmentKey()
	if err != nil {
		return kzg4844.Commitment{}, err
	}
	scalars := make([]fr.Element, params.BlobTxFieldElementsPerBlob)
	for i := range scalars {
		if err := scalars[i].SetBytesCanonical(blob[i*32 : (i+1)*32]); err != nil {
			return kzg4844.Commitment{}, fmt.Errorf("field element %d: %w", i, err)
		}
	}
	var c bls12381.G1Affine
	if _, err := c.MultiExp(points, scalars, ecc.MultiExpConfig{}); err != nil {
		return kzg4844.Commitment{}, err
	}
	return kzg4844.Commitment(c.Bytes()), nil
}
