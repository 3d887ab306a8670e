//go:build !mips64

package l1

import (
	"github.com/ethereum/go-ethereum/crypto/kzg4844"

	"github.com/faultproof/faultproof/internal/blobkzg"
)

// blobToCommitment checks a blob natively with the setup's Lagrange points alone (see internal/blobkzg).
func blobToCommitment(blob *kzg4844.Blob) (kzg4844.Commitment, error) {
	return blobkzg.BlobToCommitment(blob)
}
