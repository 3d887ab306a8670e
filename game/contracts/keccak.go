package contracts

import (
	"encoding/binary"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/game/internal/keccak"
)

// KeccakBlockSize is the rate of keccak256 in bytes: the size of one large-preimage leaf's input.
const KeccakBlockSize = keccak.BlockSize

// StateMatrix is LibKeccak's StateMatrix: the large-preimage proposal commits to it after each block.
type StateMatrix = keccak.State

// KeccakPad pads data with keccak256's multi-rate padding to whole blocks (always at least one pad byte).
func KeccakPad(data []byte) []byte { return keccak.Pad(data) }

// StateCommitment is the hash the proposal stores for a state: keccak256(abi.encode(state)), each lane a
// 32-byte word.
func StateCommitment(s *StateMatrix) common.Hash {
	var buf [25 * 32]byte
	for i, lane := range s {
		binary.BigEndian.PutUint64(buf[i*32+24:], lane)
	}
	return crypto.Keccak256Hash(buf[:])
}
