package layout

import (
	"encoding/binary"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/preimage"
)

// PrecompileCall is the l1-precompile-v2 hint's data and the preimage of its key's hash: addr ++
// requiredGas (8 bytes, big-endian) ++ input. The on-chain oracle runs the call with that much gas.
func PrecompileCall(addr common.Address, requiredGas uint64, input []byte) []byte {
	call := make([]byte, 0, common.AddressLength+8+len(input))
	call = append(call, addr[:]...)
	call = binary.BigEndian.AppendUint64(call, requiredGas)
	return append(call, input...)
}

// PrecompileAnswer is the value under a precompile key: a status byte (1 the call succeeded, 0 it failed)
// ++ the return data (none on failure). The program reads it in client/l1 (Oracle.Precompile).
func PrecompileAnswer(ok bool, result []byte) []byte {
	if !ok {
		return []byte{0}
	}
	return append([]byte{1}, result...)
}

// Precompile lays out a precompile call and its answer: the call (a hint's data: PrecompileCall, or the
// legacy address ++ input) under its keccak256 key, for loading it into the on-chain oracle, and the
// answer under the precompile key of the call's hash, where the program reads it.
func Precompile(put Put, call, answer []byte) {
	key := PrecompileKeyOf(call)
	put(preimage.Keccak256Key(key), call)
	put(key, answer)
}

// PrecompileKeyOf is the key of a precompile call's answer: the precompile key of the call's keccak256
// hash.
func PrecompileKeyOf(call []byte) preimage.PrecompileKey {
	return preimage.PrecompileKey(crypto.Keccak256Hash(call))
}
