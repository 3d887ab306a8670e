package derive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// User deposits (specs/protocol/deposits.md "User-Deposited Transactions"): the deposit contract
// (OptimismPortal) emits
//
//	event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData)
//
// and each such log of a successful L1 transaction becomes a deposited transaction in the first L2 block of
// the epoch of its L1 block. Version 0 opaque data is the packed
// (uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data). The contract has already
// aliased the sender where needed; derivation copies it as is.

var (
	// DepositEventTopic is topic 0 of TransactionDeposited logs.
	DepositEventTopic = crypto.Keccak256Hash([]byte("TransactionDeposited(address,address,uint256,bytes)"))
	// DepositEventVersion0 is the only opaque data version.
	DepositEventVersion0 = common.Hash{}
)

// ErrMalformedDeposit wraps every reason a TransactionDeposited log of the deposit contract is refused.
// Such a log cannot be skipped: derivation cannot go on (op-node treats it as a critical error).
var ErrMalformedDeposit = errors.New("malformed deposit log")

// depositVersion0MinLen is the fixed part of version 0 opaque data: mint, value, gas, isCreation.
const depositVersion0MinLen = 32 + 32 + 8 + 1

// UnmarshalDepositLogEvent decodes a TransactionDeposited log into its deposited transaction. The source
// hash uses the log's BlockHash and block-wide Index, which the caller must have filled in.
func UnmarshalDepositLogEvent(ev *types.Log) (*types.DepositTx, error) {
	if len(ev.Topics) != 4 {
		return nil, fmt.Errorf("%w: %d topics, want 4", ErrMalformedDeposit, len(ev.Topics))
	}
	if ev.Topics[0] != DepositEventTopic {
		return nil, fmt.Errorf("%w: event topic %s is not TransactionDeposited", ErrMalformedDeposit, ev.Topics[0])
	}
	data := ev.Data
	if len(data) < 64 {
		return nil, fmt.Errorf("%w: %d bytes of data, too short for the bytes header", ErrMalformedDeposit, len(data))
	}
	if len(data)%32 != 0 {
		return nil, fmt.Errorf("%w: %d bytes of data, not a multiple of 32", ErrMalformedDeposit, len(data))
	}
	// ABI encoding of a single dynamic bytes value: offset word (must be 32), length word, content padded
	// to whole words with no extra word.
	if !l1InfoZero(data[:24]) || binary.BigEndian.Uint64(data[24:32]) != 32 {
		return nil, fmt.Errorf("%w: opaque data offset is not 32", ErrMalformedDeposit)
	}
	room := uint64(len(data) - 64)
	if !l1InfoZero(data[32:56]) {
		return nil, fmt.Errorf("%w: opaque data length does not fit in 64 bits", ErrMalformedDeposit)
	}
	n := binary.BigEndian.Uint64(data[56:64])
	if n > room {
		return nil, fmt.Errorf("%w: opaque data length %d exceeds the %d bytes of the log", ErrMalformedDeposit, n, room)
	}
	if n+32 <= room {
		return nil, fmt.Errorf("%w: opaque data of %d bytes has excess padding (%d bytes)", ErrMalformedDeposit, n, room)
	}
	opaque := data[64 : 64+n]

	if ev.Topics[3] != DepositEventVersion0 {
		return nil, fmt.Errorf("%w: unknown version %s", ErrMalformedDeposit, ev.Topics[3])
	}
	if len(opaque) < depositVersion0MinLen {
		return nil, fmt.Errorf("%w: version 0 opaque data of %d bytes, want at least %d", ErrMalformedDeposit, len(opaque), depositVersion0MinLen)
	}
	dep := &types.DepositTx{
		SourceHash: UserDepositSourceHash(ev.BlockHash, uint64(ev.Index)),
		From:       common.BytesToAddress(ev.Topics[1][12:]),
		Value:      new(big.Int).SetBytes(opaque[32:64]),
		Gas:        binary.BigEndian.Uint64(opaque[64:72]),
		Data:       common.CopyBytes(opaque[73:]),
	}
	if dep.Data == nil {
		dep.Data = []byte{}
	}
	if mint := new(big.Int).SetBytes(opaque[0:32]); mint.Sign() != 0 {
		dep.Mint = mint // a zero mint is left nil
	}
	if opaque[72] == 0 { // any non-zero isCreation byte makes a contract creation, dropping `to`
		to := common.BytesToAddress(ev.Topics[2][12:])
		dep.To = &to
	}
	return dep, nil
}

// MarshalDepositLogEvent builds the TransactionDeposited log the deposit contract emits for dep, the
// inverse of UnmarshalDepositLogEvent (the log's block hash and index are left zero).
func MarshalDepositLogEvent(depositContract common.Address, dep *types.DepositTx) (*types.Log, error) {
	var fromTopic, toTopic common.Hash
	copy(fromTopic[12:], dep.From[:])
	if dep.To != nil {
		copy(toTopic[12:], dep.To[:])
	}
	opaque := make([]byte, depositVersion0MinLen, depositVersion0MinLen+len(dep.Data))
	if dep.Mint != nil {
		if dep.Mint.Sign() < 0 || dep.Mint.BitLen() > 256 {
			return nil, fmt.Errorf("deposit mint %v does not fit in 256 bits", dep.Mint)
		}
		dep.Mint.FillBytes(opaque[0:32])
	}
	if dep.Value != nil {
		if dep.Value.Sign() < 0 || dep.Value.BitLen() > 256 {
			return nil, fmt.Errorf("deposit value %v does not fit in 256 bits", dep.Value)
		}
		dep.Value.FillBytes(opaque[32:64])
	}
	binary.BigEndian.PutUint64(opaque[64:72], dep.Gas)
	if dep.To == nil {
		opaque[72] = 1
	}
	opaque = append(opaque, dep.Data...)

	padded := (len(opaque) + 31) / 32 * 32
	data := make([]byte, 64+padded)
	data[31] = 32
	binary.BigEndian.PutUint64(data[56:64], uint64(len(opaque)))
	copy(data[64:], opaque)
	return &types.Log{
		Address: depositContract,
		Topics:  []common.Hash{DepositEventTopic, fromTopic, toTopic, DepositEventVersion0},
		Data:    data,
	}, nil
}

// UserDeposits returns the deposited transactions of the TransactionDeposited logs that depositContract
// emitted in the successful receipts, in log order. Every malformed deposit log is reported in the joined
// error (wrapping ErrMalformedDeposit); the well-formed deposits are still returned, but a caller deriving
// a block must not use them when the error is non-nil.
func UserDeposits(receipts types.Receipts, depositContract common.Address) ([]*types.DepositTx, error) {
	var out []*types.DepositTx
	var errs []error
	for i, rec := range receipts {
		if rec == nil || rec.Status != types.ReceiptStatusSuccessful {
			continue
		}
		for j, ev := range rec.Logs {
			if ev == nil || ev.Address != depositContract || len(ev.Topics) == 0 || ev.Topics[0] != DepositEventTopic {
				continue
			}
			dep, err := UnmarshalDepositLogEvent(ev)
			if err != nil {
				errs = append(errs, fmt.Errorf("receipt %d, log %d: %w", i, j, err))
				continue
			}
			out = append(out, dep)
		}
	}
	return out, errors.Join(errs...)
}

// DeriveDeposits is UserDeposits with the deposits encoded as EIP-2718 transactions.
func DeriveDeposits(receipts types.Receipts, depositContract common.Address) ([][]byte, error) {
	deps, err := UserDeposits(receipts, depositContract)
	out := make([][]byte, 0, len(deps))
	for i, dep := range deps {
		enc, encErr := types.NewTx(dep).MarshalBinary()
		if encErr != nil {
			err = errors.Join(err, fmt.Errorf("encode deposit %d: %w", i, encErr))
			continue
		}
		out = append(out, enc)
	}
	return out, err
}
