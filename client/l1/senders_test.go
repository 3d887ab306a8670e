package l1

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
)

// nativeEcrecover answers precompile calls as a host does, counting them.
type nativeEcrecover struct{ calls int }

func (n *nativeEcrecover) Precompile(addr common.Address, _ uint64, input []byte) ([]byte, bool, error) {
	n.calls++
	p, ok := vm.PrecompiledContractsHomestead[addr]
	if !ok {
		return nil, false, fmt.Errorf("no precompile %s", addr)
	}
	out, err := p.Run(input)
	return out, err == nil, nil
}

var secp256k1N, _ = new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)

// randomTx makes a transaction of a random type and chain with V, R, S either from a real signature or
// mutated into every kind of invalid value a batcher could post.
func randomTx(rng *rand.Rand, chainID *big.Int) *types.Transaction {
	key, _ := crypto.GenerateKey()
	to := common.Address{byte(rng.Intn(256))}
	chains := []*big.Int{chainID, chainID, chainID, big.NewInt(0), new(big.Int).Add(chainID, common.Big1)}
	cid := chains[rng.Intn(len(chains))]
	nonce := rng.Uint64() % 1000
	var inner types.TxData
	var signer types.Signer
	switch rng.Intn(6) {
	case 0: // legacy without replay protection
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(1), Gas: 21000, To: &to}
		signer = types.HomesteadSigner{}
	case 1: // legacy with EIP-155
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(1), Gas: 21000, To: &to}
		if cid.Sign() == 0 {
			cid = chainID
		}
		signer = types.NewEIP155Signer(cid)
	case 2:
		inner = &types.AccessListTx{ChainID: cid, Nonce: nonce, GasPrice: big.NewInt(1), Gas: 21000, To: &to}
	case 3:
		inner = &types.DynamicFeeTx{ChainID: cid, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 21000, To: &to}
	case 4:
		inner = &types.BlobTx{ChainID: uint256.MustFromBig(cid), Nonce: nonce, GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(2),
			Gas: 21000, To: to, BlobFeeCap: uint256.NewInt(1), BlobHashes: []common.Hash{{1}}}
	default:
		inner = &types.SetCodeTx{ChainID: uint256.MustFromBig(cid), Nonce: nonce, GasTipCap: uint256.NewInt(1), GasFeeCap: uint256.NewInt(2),
			Gas: 50000, To: to, Value: new(uint256.Int), AuthList: []types.SetCodeAuthorization{{}}}
	}
	if signer == nil {
		signer = types.LatestSignerForChainID(chainID)
		if cid.Sign() != 0 {
			signer = types.LatestSignerForChainID(cid)
		}
	}
	tx, err := types.SignNewTx(key, signer, inner)
	if err != nil {
		tx = types.NewTx(inner) // a type the signer refuses: unsigned
	}
	if rng.Intn(3) > 0 {
		return tx
	}
	v, r, s := tx.RawSignatureValues()
	v, r, s = new(big.Int).Set(v), new(big.Int).Set(r), new(big.Int).Set(s)
	switch rng.Intn(8) {
	case 0: // high s, the malleable twin of a valid signature
		s.Sub(secp256k1N, s)
	case 1:
		r.SetUint64(0)
	case 2:
		s.SetUint64(0)
	case 3:
		r.Add(secp256k1N, big.NewInt(rng.Int63n(5)))
	case 4: // a random r: about half are not the x-coordinate of a curve point
		r.SetBytes(crypto.Keccak256([]byte{byte(rng.Intn(256)), byte(rng.Intn(256))}))
	case 5:
		v.SetUint64([]uint64{0, 1, 2, 26, 27, 28, 29, 35, 36, 255, 256}[rng.Intn(11)])
	case 6:
		v.Add(v, big.NewInt(2))
	default:
		v.Lsh(v, 70)
	}
	return withSignatureValues(tx, v, r, s)
}

// withSignatureValues rebuilds tx with the given raw V, R, S.
func withSignatureValues(tx *types.Transaction, v, r, s *big.Int) *types.Transaction {
	switch tx.Type() {
	case types.LegacyTxType:
		return types.NewTx(&types.LegacyTx{Nonce: tx.Nonce(), GasPrice: tx.GasPrice(), Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), V: v, R: r, S: s})
	case types.AccessListTxType:
		return types.NewTx(&types.AccessListTx{ChainID: tx.ChainId(), Nonce: tx.Nonce(), GasPrice: tx.GasPrice(), Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), V: v, R: r, S: s})
	case types.DynamicFeeTxType:
		return types.NewTx(&types.DynamicFeeTx{ChainID: tx.ChainId(), Nonce: tx.Nonce(), GasTipCap: tx.GasTipCap(), GasFeeCap: tx.GasFeeCap(), Gas: tx.Gas(), To: tx.To(), Value: tx.Value(), V: v, R: r, S: s})
	case types.BlobTxType:
		return types.NewTx(&types.BlobTx{ChainID: uint256.MustFromBig(tx.ChainId()), Nonce: tx.Nonce(), GasTipCap: uint256.MustFromBig(tx.GasTipCap()),
			GasFeeCap: uint256.MustFromBig(tx.GasFeeCap()), Gas: tx.Gas(), To: *tx.To(), Value: uint256.MustFromBig(tx.Value()),
			BlobFeeCap: uint256.MustFromBig(tx.BlobGasFeeCap()), BlobHashes: tx.BlobHashes(), V: u256(v), R: u256(r), S: u256(s)})
	default:
		return types.NewTx(&types.SetCodeTx{ChainID: uint256.MustFromBig(tx.ChainId()), Nonce: tx.Nonce(), GasTipCap: uint256.MustFromBig(tx.GasTipCap()),
			GasFeeCap: uint256.MustFromBig(tx.GasFeeCap()), Gas: tx.Gas(), To: *tx.To(), Value: uint256.MustFromBig(tx.Value()),
			AuthList: tx.SetCodeAuthorizations(), V: u256(v), R: u256(r), S: u256(s)})
	}
}

// u256 truncates to 256 bits, as a typed transaction's fields are.
func u256(x *big.Int) *uint256.Int {
	v, _ := uint256.FromBig(x)
	return v
}

// TestSenderSignerMatchesOpGeth recovers the senders of valid and invalid transactions of every type with
// op-geth's signers and with the same signers recovering through the oracle: same address or both errors,
// for the L2 signers (London before Isthmus, Isthmus) and the L1 ones.
func TestSenderSignerMatchesOpGeth(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	chainID := big.NewInt(901)
	signers := map[string]types.Signer{
		"london":  types.NewLondonSigner(chainID),
		"isthmus": types.NewIsthmusSigner(chainID),
		"cancun":  types.NewCancunSigner(chainID),
		"prague":  types.NewPragueSigner(chainID),
		"latest":  types.LatestSignerForChainID(chainID),
		"eip155":  types.NewEIP155Signer(chainID),
	}
	names := []string{"london", "isthmus", "cancun", "prague", "latest", "eip155"}
	valid, invalid := 0, 0
	host := &nativeEcrecover{}
	for i := 0; i < 3000; i++ {
		tx := randomTx(rng, chainID)
		for _, name := range names {
			inner := signers[name]
			want, wantErr := inner.Sender(tx)
			got, gotErr := NewSenderSigner(inner, host).Sender(tx)
			require.Equal(t, wantErr == nil, gotErr == nil, "case %d, %s signer, type %d: op-geth %v, ours %v", i, name, tx.Type(), wantErr, gotErr)
			require.Equal(t, want, got, "case %d, %s signer, type %d", i, name, tx.Type())
			if wantErr == nil {
				valid++
			} else {
				invalid++
				require.NotErrorIs(t, gotErr, ErrSenderUnavailable)
			}
		}
	}
	require.Greater(t, valid, 5000)
	require.Greater(t, invalid, 5000)
	require.Positive(t, host.calls)
	t.Logf("%d valid and %d invalid (signer, transaction) pairs agree; %d ecrecover calls", valid, invalid, host.calls)

	// Deposits carry their sender; signers without a chain ID are used as they are.
	dep := types.NewTx(&types.DepositTx{From: common.Address{7}, Gas: 1})
	got, err := NewSenderSigner(signers["isthmus"], host).Sender(dep)
	require.NoError(t, err)
	require.Equal(t, common.Address{7}, got)
	require.Equal(t, types.HomesteadSigner{}, NewSenderSigner(types.HomesteadSigner{}, host))
}

type failingCaller struct{}

func (failingCaller) Precompile(common.Address, uint64, []byte) ([]byte, bool, error) {
	return nil, false, errors.New("missing preimage")
}

// TestSenderSignerOracleFailure: a sender the oracle cannot provide is not an invalid signature.
func TestSenderSignerOracleFailure(t *testing.T) {
	key, _ := crypto.GenerateKey()
	signer := types.NewIsthmusSigner(big.NewInt(901))
	tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(901), Gas: 21000, GasFeeCap: big.NewInt(1), GasTipCap: big.NewInt(1)})
	require.NoError(t, err)
	_, err = NewSenderSigner(signer, failingCaller{}).Sender(tx)
	require.ErrorIs(t, err, ErrSenderUnavailable)
	require.ErrorContains(t, err, "missing preimage")
	got, err := types.Sender(NewSenderSigner(signer, &nativeEcrecover{}), tx)
	require.NoError(t, err)
	require.Equal(t, crypto.PubkeyToAddress(key.PublicKey), got)
}

// statusZero answers every precompile call with status 0, as the on-chain oracle would store it if L1
// priced ecrecover above the gas the program asks with.
type statusZero struct{ calls int }

func (z *statusZero) Precompile(common.Address, uint64, []byte) ([]byte, bool, error) {
	z.calls++
	return nil, false, nil
}

// TestSenderSignerStatusZero: an ecrecover answer with status 0 is not read as a bad signature: the program
// recovers the sender itself and agrees with op-geth, valid and invalid transactions alike. Before, every
// sender was void.
func TestSenderSignerStatusZero(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	chainID := big.NewInt(901)
	signer := types.NewIsthmusSigner(chainID)
	zero := &statusZero{}
	valid := 0
	for i := 0; i < 500; i++ {
		tx := randomTx(rng, chainID)
		want, wantErr := signer.Sender(tx)
		got, gotErr := NewSenderSigner(signer, zero).Sender(tx)
		require.Equal(t, wantErr == nil, gotErr == nil, "case %d, type %d: op-geth %v, ours %v", i, tx.Type(), wantErr, gotErr)
		require.Equal(t, want, got, "case %d", i)
		if wantErr == nil {
			valid++
		}
	}
	require.Greater(t, valid, 200)
	require.Positive(t, zero.calls, "the oracle was asked first")
}
