package blobkzg

import (
	"errors"
	"fmt"
	"math/big"
	"sync"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// tauG2Hex is [tau]G2 of Ethereum's KZG trusted setup (g2_monomial[1] of the trusted_setup.json op-geth
// embeds), compressed: the only point of the setup a proof's verification needs besides the generators.
const tauG2Hex = "0xb5bfd7dd8cdeb128843bc287230af38926187075cbfbefa81009a2ce615ac53d2914e5870cb452d2afaaab24f3499f72185cbfee53492714734429b7b38608e23926c911cceceac9a36851477ba4c60b087041de621000edc98edada20c1def2"

// ErrProof is the error of a well-formed proof that does not open the commitment to the claimed value.
var ErrProof = errors.New("KZG proof does not verify")

var tauG2 = sync.OnceValues(func() (bls12381.G2Affine, error) {
	var p bls12381.G2Affine
	if _, err := p.SetBytes(common.FromHex(tauG2Hex)); err != nil {
		return p, fmt.Errorf("KZG setup's [tau]G2: %w", err)
	}
	return p, nil
})

// VerifyProof checks that proof opens commitment to claim at point, as kzg4844.VerifyProof does: point
// and claim must be canonical field elements and commitment and proof compressed G1 points in the
// subgroup, and then e(commitment - [claim]G1, G2) = e(proof, [tau - point]G2).
func VerifyProof(commitment kzg4844.Commitment, point kzg4844.Point, claim kzg4844.Claim, proof kzg4844.Proof) error {
	var z, y fr.Element
	if err := y.SetBytesCanonical(claim[:]); err != nil {
		return fmt.Errorf("claimed value: %w", err)
	}
	if err := z.SetBytesCanonical(point[:]); err != nil {
		return fmt.Errorf("point: %w", err)
	}
	var c, pi bls12381.G1Affine
	if _, err := c.SetBytes(commitment[:]); err != nil {
		return fmt.Errorf("commitment: %w", err)
	}
	if _, err := pi.SetBytes(proof[:]); err != nil {
		return fmt.Errorf("proof: %w", err)
	}
	tau, err := tauG2()
	if err != nil {
		return err
	}
	_, _, g1, g2 := bls12381.Generators()

	// commitment - [y]G1
	var yBig big.Int
	var yG1 bls12381.G1Affine
	yG1.ScalarMultiplication(&g1, y.BigInt(&yBig))
	var lhs bls12381.G1Affine
	lhs.Sub(&c, &yG1)

	// [tau - z]G2
	var zBig big.Int
	var zG2 bls12381.G2Affine
	zG2.ScalarMultiplication(&g2, z.BigInt(&zBig))
	var tauMinusZ bls12381.G2Affine
	tauMinusZ.Sub(&tau, &zG2)

	// e(lhs, G2) * e(-proof, [tau - z]G2) == 1
	var negPi bls12381.G1Affine
	negPi.Neg(&pi)
	ok, err := bls12381.PairingCheck([]bls12381.G1Affine{lhs, negPi}, []bls12381.G2Affine{g2, tauMinusZ})
	if err != nil {
		return fmt.Errorf("pairing: %w", err)
	}
	if !ok {
		return ErrProof
	}
	return nil
}
