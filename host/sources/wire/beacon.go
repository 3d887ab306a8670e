package wire

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
)

// QuotedUint64 is a beacon API integer: a decimal string (a bare number is read too).
type QuotedUint64 uint64

// MarshalJSON writes the decimal string.
func (q QuotedUint64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(q), 10) + `"`), nil
}

// UnmarshalJSON reads a decimal, quoted or not.
func (q *QuotedUint64) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseUint(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*q = QuotedUint64(v)
	return nil
}

// BeaconResponse is a beacon API answer that is not about a block: {"data": ...}.
type BeaconResponse[T any] struct {
	Data T `json:"data"`
}

// BlockResponse is a beacon API answer about a block (blob sidecars, blobs): the data with the fork's
// version and the block's finality.
type BlockResponse[T any] struct {
	Version             string `json:"version"`
	ExecutionOptimistic bool   `json:"execution_optimistic"`
	Finalized           bool   `json:"finalized"`
	Data                T      `json:"data"`
}

// BeaconError is a beacon API error answer.
type BeaconError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Genesis is the data of GET /eth/v1/beacon/genesis.
type Genesis struct {
	GenesisTime           QuotedUint64  `json:"genesis_time"`
	GenesisValidatorsRoot common.Hash   `json:"genesis_validators_root"`
	GenesisForkVersion    hexutil.Bytes `json:"genesis_fork_version"`
}

// Spec is the part of GET /eth/v1/config/spec's data the host reads or a devnet tells.
type Spec struct {
	ConfigName     string       `json:"CONFIG_NAME,omitempty"`
	PresetBase     string       `json:"PRESET_BASE,omitempty"`
	SecondsPerSlot QuotedUint64 `json:"SECONDS_PER_SLOT"`
	SlotsPerEpoch  QuotedUint64 `json:"SLOTS_PER_EPOCH"`
	DepositChainID string       `json:"DEPOSIT_CHAIN_ID,omitempty"`
}

// BeaconBlockHeader is a beacon block header.
type BeaconBlockHeader struct {
	Slot          QuotedUint64 `json:"slot"`
	ProposerIndex QuotedUint64 `json:"proposer_index"`
	ParentRoot    common.Hash  `json:"parent_root"`
	StateRoot     common.Hash  `json:"state_root"`
	BodyRoot      common.Hash  `json:"body_root"`
}

// SignedBeaconBlockHeader is a beacon block header with its proposer's signature.
type SignedBeaconBlockHeader struct {
	Message   BeaconBlockHeader `json:"message"`
	Signature hexutil.Bytes     `json:"signature"`
}

// BlobSidecar is one element of GET /eth/v1/beacon/blob_sidecars/{block_id}'s data (Deneb).
type BlobSidecar struct {
	Index                       QuotedUint64            `json:"index"`
	Blob                        *kzg4844.Blob           `json:"blob"`
	KZGCommitment               kzg4844.Commitment      `json:"kzg_commitment"`
	KZGProof                    kzg4844.Proof           `json:"kzg_proof"`
	SignedBlockHeader           SignedBeaconBlockHeader `json:"signed_block_header"`
	KZGCommitmentInclusionProof []common.Hash           `json:"kzg_commitment_inclusion_proof"`
}
