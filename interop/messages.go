package interop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Predeploys of interop (specs/interop/predeploys.md).
var (
	CrossL2InboxAddr               = common.HexToAddress("0x4200000000000000000000000000000000000022")
	L2ToL2CrossDomainMessengerAddr = common.HexToAddress("0x4200000000000000000000000000000000000023")
)

// ExecutingMessageTopic is topic 0 of the CrossL2Inbox's ExecutingMessage(bytes32 indexed msgHash,
// Identifier identifier) event: keccak256 of the signature, written out (tests check it) so that the
// program inside the VM does not hash it at start-up.
var ExecutingMessageTopic = common.HexToHash("0x5c37832d2e8d10e346e55ad62071a6a2f9fa5130614ef2ec6617555c6f467ba7")

// ValidateMessageSelector is the selector of CrossL2Inbox.validateMessage(Identifier, bytes32).
var ValidateMessageSelector = [4]byte{0xab, 0x4d, 0x6f, 0x75}

// Identifier points at one log of one chain: the initiating message (specs/interop/messaging.md "Message
// Identifier"). Block number and timestamp are uint64 and the log index uint32 in every encoder; the ABI
// words around them must be zero.
type Identifier struct {
	Origin      common.Address
	BlockNumber uint64
	LogIndex    uint32
	Timestamp   uint64
	ChainID     uint64
}

// ExecutingMessage is one ExecutingMessage event: the message it executes and the hash of its payload.
type ExecutingMessage struct {
	ID          Identifier
	PayloadHash common.Hash
}

// ErrMalformedExecutingMessage is returned for an ExecutingMessage event whose data is not an Identifier.
var ErrMalformedExecutingMessage = errors.New("malformed executing message")

// identifierABILen is the ABI encoding of an Identifier: five 32-byte words.
const identifierABILen = 5 * 32

// EncodeABI is the Identifier as ABI-encoded static tuple.
func (id Identifier) EncodeABI() []byte {
	out := make([]byte, identifierABILen)
	copy(out[12:32], id.Origin[:])
	binary.BigEndian.PutUint64(out[56:64], id.BlockNumber)
	binary.BigEndian.PutUint32(out[92:96], id.LogIndex)
	binary.BigEndian.PutUint64(out[120:128], id.Timestamp)
	binary.BigEndian.PutUint64(out[152:160], id.ChainID)
	return out
}

// decodeIdentifierABI reads the Identifier words as kona's executing-message decoder does (the one game type
// 9 runs): each uint256 is read whole and saturates at its Go type's maximum (a message naming block 2^70
// can then never be found, and is invalid), the origin is the word's low 20 bytes, bytes after the five
// words are ignored.
func decodeIdentifierABI(data []byte) (Identifier, error) {
	if len(data) < identifierABILen {
		return Identifier{}, fmt.Errorf("%w: identifier is %d bytes, want %d", ErrMalformedExecutingMessage, len(data), identifierABILen)
	}
	word := func(i int) []byte { return data[32*i : 32*i+32] }
	sat64 := func(w []byte) uint64 {
		if common.BytesToHash(w[:24]) != (common.Hash{}) {
			return math.MaxUint64
		}
		return binary.BigEndian.Uint64(w[24:])
	}
	logIndex := sat64(word(2))
	if logIndex > math.MaxUint32 {
		logIndex = math.MaxUint32
	}
	return Identifier{
		Origin:      common.BytesToAddress(word(0)[12:]),
		BlockNumber: sat64(word(1)),
		LogIndex:    uint32(logIndex),
		Timestamp:   sat64(word(3)),
		ChainID:     sat64(word(4)),
	}, nil
}

// ExecutingMessageFromLog returns the executing message a log carries, nil if the log is not an
// ExecutingMessage event of the CrossL2Inbox, or ErrMalformedExecutingMessage if it is one whose data is
// too short to decode. Consolidation ignores malformed ones, as kona does (op-program v1.19.0 stops with
// an error instead); the CrossL2Inbox never emits one.
func ExecutingMessageFromLog(l *types.Log) (*ExecutingMessage, error) {
	if l.Address != CrossL2InboxAddr || len(l.Topics) != 2 || l.Topics[0] != ExecutingMessageTopic {
		return nil, nil
	}
	id, err := decodeIdentifierABI(l.Data)
	if err != nil {
		return nil, err
	}
	return &ExecutingMessage{ID: id, PayloadHash: l.Topics[1]}, nil
}

// ExecutingMessageLog is the log the CrossL2Inbox emits for a validated message (the devnet's inbox and
// tests make it).
func ExecutingMessageLog(m ExecutingMessage) *types.Log {
	return &types.Log{Address: CrossL2InboxAddr, Topics: []common.Hash{ExecutingMessageTopic, m.PayloadHash}, Data: m.ID.EncodeABI()}
}

// MessagePayload is a log as a message payload: its topics then its data.
func MessagePayload(l *types.Log) []byte {
	out := make([]byte, 0, 32*len(l.Topics)+len(l.Data))
	for _, t := range l.Topics {
		out = append(out, t[:]...)
	}
	return append(out, l.Data...)
}

// PayloadHash is keccak256 of a log's message payload: what an executing message names.
func PayloadHash(l *types.Log) common.Hash { return crypto.Keccak256Hash(MessagePayload(l)) }

// Checksum is the access-list checksum of an executing message (specs/interop/predeploys.md "type 3:
// Checksum"): the storage key the CrossL2Inbox requires warm before it emits the ExecutingMessage event.
func (m ExecutingMessage) Checksum() common.Hash {
	logHash := crypto.Keccak256Hash(m.ID.Origin[:], m.PayloadHash[:])
	idPacked := make([]byte, 12, 32)
	idPacked = binary.BigEndian.AppendUint64(idPacked, m.ID.BlockNumber)
	idPacked = binary.BigEndian.AppendUint64(idPacked, m.ID.Timestamp)
	idPacked = binary.BigEndian.AppendUint32(idPacked, m.ID.LogIndex)
	idLogHash := crypto.Keccak256Hash(logHash[:], idPacked)
	var chainID common.Hash
	binary.BigEndian.PutUint64(chainID[24:], m.ID.ChainID)
	sum := crypto.Keccak256Hash(idLogHash[:], chainID[:])
	sum[0] = 0x03
	return sum
}

// LookupEntry is the type-1 access-list entry that names the message (specs/interop/predeploys.md "type 1:
// Lookup identity").
func (m ExecutingMessage) LookupEntry() common.Hash {
	var e common.Hash
	e[0] = 0x01
	binary.BigEndian.PutUint64(e[4:12], m.ID.ChainID)
	binary.BigEndian.PutUint64(e[12:20], m.ID.BlockNumber)
	binary.BigEndian.PutUint64(e[20:28], m.ID.Timestamp)
	binary.BigEndian.PutUint32(e[28:32], m.ID.LogIndex)
	return e
}

// AccessList is the access list a transaction declares to execute the messages: for each, its lookup
// entry and its checksum, as storage keys of the CrossL2Inbox.
func AccessList(msgs ...ExecutingMessage) types.AccessList {
	keys := make([]common.Hash, 0, 2*len(msgs))
	for _, m := range msgs {
		keys = append(keys, m.LookupEntry(), m.Checksum())
	}
	return types.AccessList{{Address: CrossL2InboxAddr, StorageKeys: keys}}
}

// ValidateMessageCalldata is the calldata of CrossL2Inbox.validateMessage(id, payloadHash).
func ValidateMessageCalldata(m ExecutingMessage) []byte {
	out := append(ValidateMessageSelector[:], m.ID.EncodeABI()...)
	return append(out, m.PayloadHash[:]...)
}
