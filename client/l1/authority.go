package l1

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// RecoverAuthority returns the account that signed an EIP-7702 authorization with hash sighash, recovery
// ID v (0 or 1) and signature values r and s, which the caller has checked as
// types.SetCodeAuthorization.Authority does, recovered through p's ecrecover precompile: inside the VM
// this replaces secp256k1 arithmetic and the decoding of its tables (~150M steps for a claim's first
// authority), as NewSenderSigner does for transaction senders. A signature no key recovers is
// types.ErrInvalidSig; an oracle failure is ErrSenderUnavailable.
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
	if !ok || len(out) != 32 {
		return common.Address{}, fmt.Errorf("%w: no public key recovers", types.ErrInvalidSig)
	}
	return common.BytesToAddress(out), nil
}
