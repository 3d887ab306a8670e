package l1

import (
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
)

// TestRecoverAuthorityMatchesOpGeth recovers the authorities of signed and tampered EIP-7702
// authorizations through the ecrecover precompile and compares them with op-geth's Authority.
func TestRecoverAuthorityMatchesOpGeth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	p := new(nativeEcrecover)
	for i := range 64 {
		key, err := crypto.GenerateKey()
		require.NoError(t, err)
		auth, err := types.SignSetCode(key, types.SetCodeAuthorization{
			ChainID: *uint256.NewInt(rng.Uint64N(3)),
			Address: common.Address{byte(i)},
			Nonce:   rng.Uint64(),
		})
		require.NoError(t, err)
		switch i % 4 {
		case 1: // another message: recovers to someone else
			auth.Nonce++
		case 2: // r not on the curve for most values: no key recovers
			auth.R.SetBytes32(common.Hash{0xff, byte(i)}.Bytes())
		}
		want, wantErr := auth.Authority()
		// Authority's own checks of v, r and s come before the recovery the hook replaces.
		if !crypto.ValidateSignatureValues(auth.V, auth.R.ToBig(), auth.S.ToBig(), true) {
			require.Error(t, wantErr)
			continue
		}
		got, gotErr := RecoverAuthority(p, auth.SigHash(), auth.V, auth.R.Bytes32(), auth.S.Bytes32())
		require.Equal(t, wantErr == nil, gotErr == nil, "case %d: op-geth %v, ours %v", i, wantErr, gotErr)
		require.Equal(t, want, got, "case %d", i)
		if i%4 == 0 {
			require.Equal(t, crypto.PubkeyToAddress(key.PublicKey), got)
		}
	}
	require.Positive(t, p.calls)
}

func TestRecoverAuthorityOracleFailure(t *testing.T) {
	_, err := RecoverAuthority(failingCaller{}, common.Hash{1}, 0, [32]byte{1}, [32]byte{1})
	require.ErrorIs(t, err, ErrSenderUnavailable)
}

// TestRecoverAuthorityStatusZero: an oracle that answers status 0 (as whoever loads the preimage with too
// little gas could make it) does not void an authorization: the authority is recovered locally, equal to
// op-geth's, and a signature no key recovers is still invalid.
func TestRecoverAuthorityStatusZero(t *testing.T) {
	key, err := crypto.GenerateKey()
	require.NoError(t, err)
	auth, err := types.SignSetCode(key, types.SetCodeAuthorization{ChainID: *uint256.NewInt(10), Address: common.Address{1}, Nonce: 7})
	require.NoError(t, err)
	zero := &statusZero{}
	got, err := RecoverAuthority(zero, auth.SigHash(), auth.V, auth.R.Bytes32(), auth.S.Bytes32())
	require.NoError(t, err)
	require.Equal(t, crypto.PubkeyToAddress(key.PublicKey), got)
	require.Equal(t, 1, zero.calls)

	auth.R.SetBytes32(common.Hash{0xff, 0xff}.Bytes())
	_, wantErr := auth.Authority()
	_, err = RecoverAuthority(zero, auth.SigHash(), auth.V, auth.R.Bytes32(), auth.S.Bytes32())
	require.Equal(t, wantErr != nil, err != nil, "op-geth %v, ours %v", wantErr, err)
}
