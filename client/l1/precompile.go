package l1

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// Precompile returns the result of calling the precompile at addr with input, as the host computed it
// natively: ok reports whether the call succeeded, result is its return data. Expensive precompiles
// (ecrecover, pairings, KZG point evaluation) are accelerated this way instead of run in the VM. The
// answer cannot be checked here; like the on-chain oracle, the program trusts the precompile's result.
//
// The hint and the key's preimage are both the call (layout.PrecompileCall); the answer is a status byte ++
// the return data (layout.PrecompileAnswer).
func (o *Oracle) Precompile(addr common.Address, requiredGas uint64, input []byte) (result []byte, ok bool, err error) {
	call := layout.PrecompileCall(addr, requiredGas, input)
	keyHash := crypto.Keccak256Hash(call)

	if r, hit := o.cache.precompiles.Get(keyHash); hit {
		return bytes.Clone(r.ret), r.ok, nil
	}
	if err := o.hint(preimage.HintL1PrecompileV2, call); err != nil {
		return nil, false, fmt.Errorf("precompile %s: %w", addr, err)
	}
	key := preimage.PrecompileKey(keyHash)
	answer, err := o.oracle.Get(key)
	if err != nil {
		return nil, false, fmt.Errorf("precompile %s: %w", addr, err)
	}
	if len(answer) == 0 {
		return nil, false, fmt.Errorf("precompile %s: empty answer for key %s, want a status byte", addr, key)
	}
	if answer[0] > 1 {
		return nil, false, fmt.Errorf("precompile %s: status byte %d for key %s, want 0 or 1", addr, answer[0], key)
	}
	r := precompileResult{ret: bytes.Clone(answer[1:]), ok: answer[0] == 1}
	o.cache.precompiles.Add(keyHash, r)
	// Callers get their own copy: the EVM may keep or reuse return data.
	return bytes.Clone(r.ret), r.ok, nil
}
