package l1

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// PrecompileCaller answers precompile calls outside the program (Oracle.Precompile).
type PrecompileCaller interface {
	Precompile(addr common.Address, requiredGas uint64, input []byte) (result []byte, ok bool, err error)
}

// ErrSenderUnavailable marks a sender that could not be recovered because the preimage oracle failed: the
// program must stop, not treat the transaction as badly signed.
var ErrSenderUnavailable = errors.New("transaction sender unavailable")

var ecrecoverAddress = common.BytesToAddress([]byte{0x01})

// NewSenderSigner returns a signer that checks transactions exactly as inner does but recovers the
// public key through the ecrecover precompile of the oracle instead of with secp256k1 arithmetic in the
// program. Inside the VM that arithmetic (and the one-time decoding of its precomputed tables, ~145M steps)
// is a large share of a claim's steps; the on-chain PreimageOracle computes the same precompile, as for the
// EVM's own ecrecover calls. Signers without a chain ID (Homestead, Frontier) are used as they are.
func NewSenderSigner(inner types.Signer, p PrecompileCaller) types.Signer {
	if inner.ChainID() == nil || inner.ChainID().Sign() <= 0 {
		return inner
	}
	return &senderSigner{Signer: inner, p: p, chainIDMul: new(big.Int).Lsh(inner.ChainID(), 1)}
}

type senderSigner struct {
	types.Signer
	p          PrecompileCaller
	chainIDMul *big.Int
}

var probeSig = make([]byte, crypto.SignatureLength)

// Sender follows the inner signer's checks in the inner signer's order (transaction type, chain ID,
// signature values as recoverPlain checks them) and asks the oracle only for the recovery itself.
// Whatever the inner signer refuses before recovering is left to it, and so is the recovery when the
// oracle answers status 0 (see below).
func (s *senderSigner) Sender(tx *types.Transaction) (common.Address, error) {
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType, types.BlobTxType, types.SetCodeTxType:
	default: // deposits, post-exec and unknown types: nothing to recover
		return s.Signer.Sender(tx)
	}
	// SignatureValues refuses the transaction types the signer does not support (and typed transactions
	// of another chain) without recovering anything; Sender refuses the same ones.
	if _, _, _, err := s.Signer.SignatureValues(tx, probeSig); err != nil {
		return s.Signer.Sender(tx)
	}
	V, R, S := tx.RawSignatureValues()
	var sighash common.Hash
	switch {
	case tx.Type() != types.LegacyTxType:
		if tx.ChainId().Cmp(s.ChainID()) != 0 {
			return s.Signer.Sender(tx) // refused for its chain ID
		}
		sighash = s.Hash(tx)
		V = new(big.Int).Add(V, big.NewInt(27)) // typed transactions sign with recovery ID 0 or 1
	case !tx.Protected():
		sighash = types.HomesteadSigner{}.Hash(tx) // a pre-EIP-155 legacy transaction
	default:
		if tx.ChainId().Cmp(s.ChainID()) != 0 {
			return s.Signer.Sender(tx)
		}
		sighash = s.Hash(tx)
		V = new(big.Int).Sub(V, s.chainIDMul)
		V.Sub(V, big.NewInt(8)) // 35 + 2 chainID + {0,1} → 27 + {0,1}
	}
	if V.BitLen() > 8 {
		return common.Address{}, types.ErrInvalidSig
	}
	v := byte(V.Uint64() - 27)
	if !crypto.ValidateSignatureValues(v, R, S, true) {
		return common.Address{}, types.ErrInvalidSig
	}
	input := make([]byte, 128)
	copy(input[:32], sighash[:])
	input[63] = 27 + v
	R.FillBytes(input[64:96])
	S.FillBytes(input[96:128])
	out, ok, err := s.p.Precompile(ecrecoverAddress, params.EcrecoverGas, input)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %s: %w", ErrSenderUnavailable, tx.Hash(), err)
	}
	if !ok {
		// ecrecover never fails on a 128-byte input, so status 0 says nothing about the signature. On chain
		// it can only mean the oracle's call ran out of gas: if L1 ever priced ecrecover above L2's gas,
		// whoever loads the preimage would choose the status. Recover the sender here instead.
		return s.Signer.Sender(tx)
	}
	// ecrecover returns nothing when no key recovers (r is not the x-coordinate of a curve point).
	if len(out) != 32 {
		return common.Address{}, fmt.Errorf("%w: no public key recovers", types.ErrInvalidSig)
	}
	return common.BytesToAddress(out), nil
}

// Equal compares the inner signers: this one checks and hashes exactly as its inner signer does.
func (s *senderSigner) Equal(other types.Signer) bool {
	if o, ok := other.(*senderSigner); ok {
		other = o.Signer
	}
	return s.Signer.Equal(other)
}
