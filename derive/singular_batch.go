package derive

import (
	"bytes"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/rollup"
)

// SingularBatch is the batch of one L2 block, batch type 0 (specs/protocol/derivation.md "Batch Format"):
//
//	rlp_encode([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])
//
// where transaction_list is a list of EIP-2718 encoded transactions. The field order is the wire order.
type SingularBatch struct {
	ParentHash   common.Hash // hash of the previous L2 block
	EpochNum     uint64      // number of the L1 origin
	EpochHash    common.Hash // hash of the L1 origin
	Timestamp    uint64      // L2 block timestamp
	Transactions []hexutil.Bytes
}

// Epoch is the batch's L1 origin.
func (b *SingularBatch) Epoch() rollup.BlockID {
	return rollup.BlockID{Hash: b.EpochHash, Number: b.EpochNum}
}

func (b *SingularBatch) encode(buf *bytes.Buffer) error { return rlp.Encode(buf, b) }

// decode reads the RLP list at the start of data; bytes after it are ignored (the spec allows extra content
// after a complete batch). The RLP decoder bounds every declared length by the input length.
func (b *SingularBatch) decode(data []byte) error {
	return rlp.Decode(bytes.NewReader(data), b)
}
