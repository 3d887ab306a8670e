package contracts

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// TxGasLimit is the gas limit of every transaction: the most EIP-7825 allows (Osaka).
const TxGasLimit = params.MaxTxGas

// Chain is an in-memory L1: one state, transactions applied as a node applies them (intrinsic gas, refunds,
// value transfers), blocks and time moved on by the caller. It continues a real chain: blockhash of the
// blocks up to Start is that chain's (the devnet's L1), so a game created in the block after it takes the
// real L1 head as its l1Head. Gas is free (base fee zero): the gas each transaction used is reported.
// A Chain is not safe for concurrent use.
type Chain struct {
	config *params.ChainConfig
	state  *state.StateDB
	number uint64
	time   uint64
	start  uint64
	hashOf func(n uint64) common.Hash
}

// NewChain starts a chain at block number start and time (the block the contracts are deployed in), on
// the chain config of the L1 it continues. hashOf gives the hashes of the blocks up to start.
func NewChain(config *params.ChainConfig, start, time uint64, hashOf func(n uint64) common.Hash) (*Chain, error) {
	st, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		return nil, err
	}
	return &Chain{config: config, state: st, number: start, time: time, start: start, hashOf: hashOf}, nil
}

// Number and Time are the current block's.
func (c *Chain) Number() uint64 { return c.number }
func (c *Chain) Time() uint64   { return c.time }

// Advance moves to a new block, seconds later (at least one second).
func (c *Chain) Advance(seconds uint64) {
	c.number++
	c.time += max(seconds, 1)
}

// BlockHash returns the hash of block n as BLOCKHASH sees it: the continued chain's up to Start, a
// stand-in after.
func (c *Chain) BlockHash(n uint64) common.Hash {
	if n <= c.start {
		return c.hashOf(n)
	}
	return crypto.Keccak256Hash([]byte("faultproof game chain block"), binary.BigEndian.AppendUint64(nil, n))
}

// Fund adds wei to an account's balance.
func (c *Chain) Fund(addr common.Address, wei *big.Int) {
	c.state.AddBalance(addr, uint256.MustFromBig(wei), 0)
}

// Balance returns an account's balance.
func (c *Chain) Balance(addr common.Address) *big.Int { return c.state.GetBalance(addr).ToBig() }

// Code returns the code at an address.
func (c *Chain) Code(addr common.Address) []byte { return c.state.GetCode(addr) }

// Storage returns a storage slot.
func (c *Chain) Storage(addr common.Address, slot common.Hash) common.Hash {
	return c.state.GetState(addr, slot)
}

func (c *Chain) blockContext() vm.BlockContext {
	random := common.Hash{}
	return vm.BlockContext{
		CanTransfer: core.CanTransfer,
		Transfer:    core.Transfer,
		GetHash:     c.BlockHash,
		Coinbase:    common.Address{},
		GasLimit:    60_000_000,
		BlockNumber: new(big.Int).SetUint64(c.number),
		Time:        c.time,
		Difficulty:  new(big.Int),
		BaseFee:     new(big.Int),
		BlobBaseFee: new(big.Int),
		Random:      &random,
	}
}

// Receipt is what a transaction did.
type Receipt struct {
	GasUsed uint64 // intrinsic and execution gas, refunds deducted
	Return  []byte
	Block   uint64
	Time    uint64
	// Created is the contract a creation made.
	Created common.Address
}

// RevertError is a transaction or call the EVM reverted.
type RevertError struct {
	Data    []byte
	Reason  string // the decoded revert (see DecodeRevert)
	GasUsed uint64
}

func (e *RevertError) Error() string { return "reverted: " + e.Reason }

// Send applies a transaction from an account: a call to to, or a contract creation when to is nil. A
// reverted transaction is a *RevertError (its gas is spent, as on a real chain).
func (c *Chain) Send(from common.Address, to *common.Address, value *big.Int, data []byte) (*Receipt, error) {
	if value == nil {
		value = new(big.Int)
	}
	msg := &core.Message{
		From: from, To: to, Value: value, GasLimit: TxGasLimit, Data: data,
		GasPrice: new(big.Int), GasFeeCap: new(big.Int), GasTipCap: new(big.Int),
		Nonce: c.state.GetNonce(from),
	}
	evm := vm.NewEVM(c.blockContext(), c.state, c.config, vm.Config{})
	res, err := core.ApplyMessage(evm, msg, core.NewGasPool(TxGasLimit))
	if err != nil {
		return nil, fmt.Errorf("transaction from %s: %w", from, err)
	}
	c.state.Finalise(true)
	rcpt := &Receipt{GasUsed: res.UsedGas, Return: res.ReturnData, Block: c.number, Time: c.time}
	if res.Err != nil {
		if errors.Is(res.Err, vm.ErrExecutionReverted) {
			return rcpt, &RevertError{Data: res.ReturnData, Reason: DecodeRevert(res.ReturnData), GasUsed: res.UsedGas}
		}
		return rcpt, fmt.Errorf("transaction from %s failed: %w", from, res.Err)
	}
	if to == nil {
		rcpt.Created = crypto.CreateAddress(from, msg.Nonce)
	}
	return rcpt, nil
}

// Call runs a call against the current state and discards its changes (eth_call).
func (c *Chain) Call(from, to common.Address, data []byte) ([]byte, error) {
	snap := c.state.Snapshot()
	defer c.state.RevertToSnapshot(snap)
	evm := vm.NewEVM(c.blockContext(), c.state, c.config, vm.Config{})
	evm.SetTxContext(vm.TxContext{Origin: from, GasPrice: new(uint256.Int)})
	ret, _, err := evm.Call(from, to, data, TxGasLimit, new(uint256.Int))
	if errors.Is(err, vm.ErrExecutionReverted) {
		return nil, &RevertError{Data: ret, Reason: DecodeRevert(ret)}
	}
	return ret, err
}

// errorABIs are the ABIs whose errors DecodeRevert knows.
func errorABIs() []abi.ABI {
	out := []abi.ABI{Artifact("MIPS64").ABI, Artifact("PreimageOracle").ABI}
	for _, n := range Names {
		out = append(out, Artifact(n).ABI)
	}
	return out
}

// DecodeRevert names a revert: an error of the contracts' ABIs with its arguments, an Error(string)
// message, a Panic code, or the data in hex.
func DecodeRevert(data []byte) string {
	if len(data) == 0 {
		return "no revert data"
	}
	if msg, err := abi.UnpackRevert(data); err == nil {
		return msg
	}
	if len(data) >= 4 {
		for _, a := range errorABIs() {
			e, err := a.ErrorByID([4]byte(data[:4]))
			if err != nil {
				continue
			}
			vals, err := e.Inputs.Unpack(data[4:])
			if err != nil || len(vals) == 0 {
				return e.Name + "()"
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([32]byte); ok {
					parts[i] = "0x" + hex.EncodeToString(b[:])
				} else {
					parts[i] = fmt.Sprint(v)
				}
			}
			return e.Name + "(" + strings.Join(parts, ", ") + ")"
		}
	}
	return "0x" + hex.EncodeToString(data)
}

// Contract is a deployed contract and its ABI.
type Contract struct {
	Chain   *Chain
	Address common.Address
	ABI     abi.ABI
}

// At binds an ABI to an address.
func (c *Chain) At(addr common.Address, a abi.ABI) *Contract {
	return &Contract{Chain: c, Address: addr, ABI: a}
}

// Deploy creates a contract from an artifact with constructor arguments.
func (c *Chain) Deploy(from common.Address, name string, args ...any) (*Contract, *Receipt, error) {
	art := Artifact(name)
	packed, err := art.ABI.Pack("", args...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s constructor: %w", name, err)
	}
	code := append(append([]byte{}, art.Bytecode...), packed...)
	rcpt, err := c.Send(from, nil, nil, code)
	if err != nil {
		return nil, rcpt, fmt.Errorf("deploy %s: %w", name, err)
	}
	if len(c.Code(rcpt.Created)) == 0 {
		return nil, rcpt, fmt.Errorf("deploy %s: no code at %s", name, rcpt.Created)
	}
	return c.At(rcpt.Created, art.ABI), rcpt, nil
}

// Call calls a view method and returns its outputs.
func (k *Contract) Call(method string, args ...any) ([]any, error) {
	return k.CallFrom(common.Address{}, method, args...)
}

// CallFrom calls a method as from, discarding its changes, and returns its outputs.
func (k *Contract) CallFrom(from common.Address, method string, args ...any) ([]any, error) {
	data, err := k.ABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	ret, err := k.Chain.Call(from, k.Address, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	out, err := k.ABI.Unpack(method, ret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return out, nil
}

// Send sends a transaction calling method with value.
func (k *Contract) Send(from common.Address, value *big.Int, method string, args ...any) (*Receipt, error) {
	data, err := k.ABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	rcpt, err := k.Chain.Send(from, &k.Address, value, data)
	if err != nil {
		return rcpt, fmt.Errorf("%s: %w", method, err)
	}
	return rcpt, nil
}
