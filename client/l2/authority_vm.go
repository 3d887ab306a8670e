//go:build faultproof_vm

package l2

import (
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/client/l1"
)

// useOracleAuthorities makes op-geth recover EIP-7702 authorities through p's ecrecover precompile. Only
// the prestate's build (tag faultproof_vm) has the patched op-geth with the hook (see
// cmd/faultproof/prestate_tree.go).
//
// op-geth takes any error from an authority's recovery for a bad signature and skips the authorization;
// an oracle failure must not become that, so it stops the program (exit code 2: no verdict).
func useOracleAuthorities(p PrecompileOracle) {
	types.RecoverAuthority = func(sighash common.Hash, v uint8, r, s [32]byte) (common.Address, error) {
		addr, err := l1.RecoverAuthority(p, sighash, v, r, s)
		if errors.Is(err, l1.ErrSenderUnavailable) {
			panic(err)
		}
		return addr, err
	}
}
