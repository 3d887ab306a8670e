package l1

import (
	"errors"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// blobToCommitment is not built into the VM's program: it would cost tens of billions of steps per blob,
// and the on-chain oracle proves each field element instead (SkipBlobCommitmentCheck).
func blobToCommitment(*kzg4844.Blob) (kzg4844.Commitment, error) {
	return kzg4844.Commitment{}, errors.New("blob commitments are not computed inside the VM")
}
