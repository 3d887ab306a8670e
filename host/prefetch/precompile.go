package prefetch

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/faultproof/faultproof/internal/blobkzg"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// ErrUnknownPrecompile is returned for a precompile hint naming an address that is not one of the
// accelerated precompiles.
var ErrUnknownPrecompile = errors.New("not an accelerated precompile")

// acceleratedPrecompiles are the precompiles the program may ask the host to run: op-program's set.
var acceleratedPrecompiles = map[common.Address]bool{
	common.BytesToAddress([]byte{0x01}): true, // ecrecover
	common.BytesToAddress([]byte{0x08}): true, // bn256 pairing
	common.BytesToAddress([]byte{0x0a}): true, // KZG point evaluation
	common.BytesToAddress([]byte{0x0b}): true, // BLS12-381 G1 add
	common.BytesToAddress([]byte{0x0c}): true, // BLS12-381 G1 MSM
	common.BytesToAddress([]byte{0x0d}): true, // BLS12-381 G2 add
	common.BytesToAddress([]byte{0x0e}): true, // BLS12-381 G2 MSM
	common.BytesToAddress([]byte{0x0f}): true, // BLS12-381 pairing
	common.BytesToAddress([]byte{0x10}): true, // BLS12-381 map to G1
	common.BytesToAddress([]byte{0x11}): true, // BLS12-381 map to G2
}

// PrecompileAnswer is the answer to a precompile hint.
type PrecompileAnswer struct {
	// Key is the precompile key the hint announces: keccak256 of the hint's data.
	Key preimage.PrecompileKey
	// Call is the hint's data, the preimage of Key's hash: address ++ [required gas (8 bytes) ++] input.
	Call []byte
	// Answer is the key's preimage (layout.PrecompileAnswer).
	Answer []byte
}

// RunPrecompile computes the answer to an l1-precompile or l1-precompile-v2 hint (typ) with op-geth's
// Prague precompiles, as op-program's host does (the point evaluation's proof checked by blobkzg): v2 data is address ++ required gas (8 bytes) ++ input,
// legacy data is address ++ input. Only the accelerated precompiles run (ErrUnknownPrecompile otherwise).
// The required gas is the on-chain oracle's concern (it runs the call with that much gas); the answer
// does not depend on it, and the program checked the call's gas against its own rules before asking. It
// needs no network, so online and offline hosts give the same answer.
func RunPrecompile(typ string, data []byte) (*PrecompileAnswer, error) {
	head := common.AddressLength
	switch typ {
	case preimage.HintL1Precompile:
	case preimage.HintL1PrecompileV2:
		head += 8
	default:
		return nil, fmt.Errorf("%s hint is not a precompile hint", typ)
	}
	if len(data) < head {
		return nil, fmt.Errorf("%s hint: %d bytes of data, want at least %d", typ, len(data), head)
	}
	addr := common.BytesToAddress(data[:common.AddressLength])
	contract, ok := vm.PrecompiledContractsPrague[addr]
	if !ok || !acceleratedPrecompiles[addr] {
		return nil, fmt.Errorf("%s hint: precompile %s is %w (the host runs 0x01, 0x08, 0x0a-0x11)", typ, addr, ErrUnknownPrecompile)
	}
	run := contract.Run
	if addr == pointEvaluationAddress {
		run = pointEvaluation
	}
	out, err := run(data[head:])
	return &PrecompileAnswer{
		Key:    layout.PrecompileKeyOf(data),
		Call:   common.CopyBytes(data),
		Answer: layout.PrecompileAnswer(err == nil, out),
	}, nil
}

// pointEvaluationAddress is the KZG point-evaluation precompile's.
var pointEvaluationAddress = common.BytesToAddress([]byte{0x0a})

// pointEvaluationOutput is what the point-evaluation precompile returns on success: the field elements
// per blob and the BLS12-381 scalar field's modulus, 32 bytes each (EIP-4844).
var pointEvaluationOutput = common.FromHex("0x000000000000000000000000000000000000000000000000000000000000100073eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")

// pointEvaluation is op-geth's point-evaluation precompile with the proof checked by blobkzg, whose
// verification needs only [tau]G2: op-geth's kzg4844 builds EIP-7594's tables (seconds) on first use.
// Input: versioned hash, z, y, commitment, proof (32+32+32+48+48 bytes).
func pointEvaluation(input []byte) ([]byte, error) {
	if len(input) != 192 {
		return nil, fmt.Errorf("point evaluation: %d bytes of input, want 192", len(input))
	}
	var (
		point      kzg4844.Point
		claim      kzg4844.Claim
		commitment kzg4844.Commitment
		proof      kzg4844.Proof
	)
	copy(point[:], input[32:64])
	copy(claim[:], input[64:96])
	copy(commitment[:], input[96:144])
	copy(proof[:], input[144:192])
	if kzg4844.CalcBlobHashV1(sha256.New(), &commitment) != common.BytesToHash(input[:32]) {
		return nil, errors.New("point evaluation: versioned hash does not match the commitment")
	}
	if err := blobkzg.VerifyProof(commitment, point, claim, proof); err != nil {
		return nil, fmt.Errorf("point evaluation: %w", err)
	}
	return common.CopyBytes(pointEvaluationOutput), nil
}
