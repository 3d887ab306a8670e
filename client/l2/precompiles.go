package l2

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// PrecompileOracle answers precompile calls outside the program (op-program's l1-precompile-v2 hint and
// type-6 key): result is the return data and ok whether the precompile succeeded.
type PrecompileOracle interface {
	Precompile(addr common.Address, requiredGas uint64, input []byte) (result []byte, ok bool, err error)
}

// Precompiles whose cost inside the VM is large enough to ask the oracle instead: the answer is computed
// by the host with the same code, and on chain by the PreimageOracle contract.
var (
	ecrecoverAddr      = common.BytesToAddress([]byte{0x01})
	bn256PairingAddr   = common.BytesToAddress([]byte{0x08})
	kzgPointEvalAddr   = common.BytesToAddress([]byte{0x0a})
	blsG1AddAddr       = common.BytesToAddress([]byte{0x0b})
	blsG1MSMAddr       = common.BytesToAddress([]byte{0x0c})
	blsG2AddAddr       = common.BytesToAddress([]byte{0x0d})
	blsG2MSMAddr       = common.BytesToAddress([]byte{0x0e})
	blsPairingAddr     = common.BytesToAddress([]byte{0x0f})
	blsMapFpToG1Addr   = common.BytesToAddress([]byte{0x10})
	blsMapFp2ToG2Addr  = common.BytesToAddress([]byte{0x11})
	errPrecompileInput = errors.New("precompile input too large for this fork")
	errPrecompileFail  = errors.New("precompile failed")
)

func isAccelerated(addr common.Address) bool {
	switch addr {
	case ecrecoverAddr, bn256PairingAddr, kzgPointEvalAddr, blsG1AddAddr, blsG1MSMAddr, blsG2AddAddr,
		blsG2MSMAddr, blsPairingAddr, blsMapFpToG1Addr, blsMapFp2ToG2Addr:
		return true
	}
	return false
}

// maxInputSize is the OP Stack's fork-dependent input limit of a precompile (0: none). The host runs the
// plain Ethereum precompile, which does not know these limits, so the program checks them itself.
func maxInputSize(rules params.Rules, addr common.Address) uint64 {
	switch addr {
	case bn256PairingAddr:
		switch {
		case rules.IsOptimismJovian:
			return params.Bn256PairingMaxInputSizeJovian
		case rules.IsOptimismGranite:
			return params.Bn256PairingMaxInputSizeGranite
		}
	case blsG1MSMAddr:
		switch {
		case rules.IsOptimismJovian:
			return params.Bls12381G1MulMaxInputSizeJovian
		case rules.IsOptimismIsthmus:
			return params.Bls12381G1MulMaxInputSizeIsthmus
		}
	case blsG2MSMAddr:
		switch {
		case rules.IsOptimismJovian:
			return params.Bls12381G2MulMaxInputSizeJovian
		case rules.IsOptimismIsthmus:
			return params.Bls12381G2MulMaxInputSizeIsthmus
		}
	case blsPairingAddr:
		switch {
		case rules.IsOptimismJovian:
			return params.Bls12381PairingMaxInputSizeJovian
		case rules.IsOptimismIsthmus:
			return params.Bls12381PairingMaxInputSizeIsthmus
		}
	}
	return 0
}

// precompileOverrides replaces the accelerated precompiles of the active fork with oracle calls. A
// precompile the fork does not have stays absent; the others run as they are.
func (c *Chain) precompileOverrides(oracle PrecompileOracle) vm.PrecompileOverrides {
	return func(rules params.Rules, orig vm.PrecompiledContract, addr common.Address) vm.PrecompiledContract {
		if orig == nil || !isAccelerated(addr) {
			return orig
		}
		return &acceleratedPrecompile{chain: c, oracle: oracle, addr: addr, orig: orig, maxInput: maxInputSize(rules, addr)}
	}
}

type acceleratedPrecompile struct {
	chain    *Chain
	oracle   PrecompileOracle
	addr     common.Address
	orig     vm.PrecompiledContract
	maxInput uint64
}

func (p *acceleratedPrecompile) Name() string { return p.orig.Name() }

func (p *acceleratedPrecompile) RequiredGas(input []byte) uint64 { return p.orig.RequiredGas(input) }

func (p *acceleratedPrecompile) Run(input []byte) ([]byte, error) {
	if p.maxInput > 0 && uint64(len(input)) > p.maxInput {
		return nil, errPrecompileInput
	}
	if p.addr == ecrecoverAddr && !ecrecoverInputValid(input) {
		return nil, nil // what ecrecover returns for a malformed signature; no need to ask
	}
	result, ok, err := p.oracle.Precompile(p.addr, p.orig.RequiredGas(input), input)
	if err != nil {
		// Missing data, not a failing call: the block must fail, not record a failed call.
		p.chain.setErr(fmt.Errorf("precompile %s: %w", p.addr, err))
		return nil, err
	}
	if !ok {
		return nil, errPrecompileFail
	}
	return result, nil
}

// ecrecoverInputValid mirrors ecrecover's checks of (hash, v, r, s) before it recovers a key.
func ecrecoverInputValid(input []byte) bool {
	in := common.RightPadBytes(input, 128)
	for _, b := range in[32:63] {
		if b != 0 {
			return false
		}
	}
	r := new(big.Int).SetBytes(in[64:96])
	s := new(big.Int).SetBytes(in[96:128])
	return crypto.ValidateSignatureValues(in[63]-27, r, s, false)
}
