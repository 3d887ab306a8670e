package l1

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// RecoverAuthority returns the account that signed an EIP-7702 authorization with hash sighash, recovery
// ID v (0 or 1) and signature values r and s, which the caller has checked as
// types.SetCodeAuthorization.Authority does, recovered through p's ecrecover precompile: inside the VM
// this replaces secp256k1 arithmetic and the decoding of its tables (~150M steps for a claim's first
// authority), as NewSenderSigner does for transaction senders. A signature no key recovers is
// types.ErrInvalidSig; an oracle failure is ErrSenderUnavailable; an answer with status 0 (which ecrecover
// never gives on a 128-byte input, so it can only be a load with too little gas) is recovered here.
func RecoverAuthority(p PrecompileCaller, sighash common.Hash, v uint8, r, s [32]byte) (common.Address, error) {
	input := make([]byte, 128)
	copy(input[:32], sighash[:])
	input[63] = 27 + v
	copy(input[64:96], r[:])
	copy(input[96:], s[:])
	out, ok, err := p.Precompile(ecrecoverAddress, params.EcrecoverGas, input)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: authority of %s: %w", ErrSenderUnavailable, sighash, err)
	}
	if !ok {
		// As for senders (senderSigner.Sender): status 0 says nothing about the signature, so it is
		// recovered here instead, never read as an invalid authorization.
		return recoverLocally(sighash, v, r, s)
	}
	if len(out) != 32 {
		return common.Address{}, fmt.Errorf("%w: no public key recovers", types.ErrInvalidSig)
	}
	return common.BytesToAddress(out), nil
}

// recoverLocally recovers the signer with secp256k1 arithmetic, as op-geth's SetCodeAuthorization does.
func recoverLocally(sighash common.Hash, v uint8, r, s [32]byte) (common.Address, error) {
	sig := make([]byte, crypto.SignatureLength)
	copy(sig[:32], r[:])
	copy(sig[32:64], s[:])
	sig[64] = v
	pub, err := crypto.Ecrecover(sighash[:], sig)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %w", types.ErrInvalidSig, err)
	}
	if len(pub) == 0 || pub[0] != 4 {
		return common.Address{}, fmt.Errorf("%w: invalid public key", types.ErrInvalidSig)
	}
	return common.BytesToAddress(crypto.Keccak256(pub[1:])[12:]), nil
}
