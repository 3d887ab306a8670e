// Package derivetest generates seeded random test data for the derive codecs: signed L2 transactions of
// every type a batch may carry. It is used by tests only, here and in the crosscheck module.
package derivetest

import (
	"crypto/ecdsa"
	"math/big"
	"math/rand"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
)

// Kinds of transactions RandomTx makes.
const (
	LegacyUnprotected = iota // legacy, v = 27/28
	LegacyProtected          // legacy, EIP-155
	AccessList               // EIP-2930
	DynamicFee               // EIP-1559
	SetCode                  // EIP-7702
	PostExec                 // op-node's unsigned type 0x7D
	NumKinds
)

// Key derives a private key from the generator.
func Key(rng *rand.Rand) *ecdsa.PrivateKey {
	for {
		var b [32]byte
		rng.Read(b[:])
		if k, err := crypto.ToECDSA(b[:]); err == nil {
			return k
		}
	}
}

// RandomTx returns the EIP-2718 encoding of a random transaction of the given kind for chainID.
func RandomTx(rng *rand.Rand, chainID *big.Int, kind int) []byte {
	key := Key(rng)
	to := randomAddress(rng)
	toPtr := &to
	if kind != SetCode && rng.Intn(4) == 0 {
		toPtr = nil // contract creation
	}
	nonce := randomUint(rng)
	gas := randomUint(rng)
	var (
		tx  *types.Transaction
		err error
	)
	switch kind {
	case LegacyUnprotected:
		tx, err = types.SignNewTx(key, types.HomesteadSigner{}, &types.LegacyTx{
			Nonce: nonce, GasPrice: randomBig(rng), Gas: gas, To: toPtr, Value: randomBig(rng), Data: randomBytes(rng),
		})
	case LegacyProtected:
		tx, err = types.SignNewTx(key, types.NewEIP155Signer(chainID), &types.LegacyTx{
			Nonce: nonce, GasPrice: randomBig(rng), Gas: gas, To: toPtr, Value: randomBig(rng), Data: randomBytes(rng),
		})
	case AccessList:
		tx, err = types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.AccessListTx{
			ChainID: chainID, Nonce: nonce, GasPrice: randomBig(rng), Gas: gas, To: toPtr, Value: randomBig(rng),
			Data: randomBytes(rng), AccessList: randomAccessList(rng),
		})
	case DynamicFee:
		tx, err = types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
			ChainID: chainID, Nonce: nonce, GasTipCap: randomBig(rng), GasFeeCap: randomBig(rng), Gas: gas,
			To: toPtr, Value: randomBig(rng), Data: randomBytes(rng), AccessList: randomAccessList(rng),
		})
	case SetCode:
		auths := make([]types.SetCodeAuthorization, rng.Intn(3))
		for i := range auths {
			auths[i], err = types.SignSetCode(Key(rng), types.SetCodeAuthorization{
				ChainID: *uint256.MustFromBig(chainID), Address: randomAddress(rng), Nonce: randomUint(rng),
			})
			if err != nil {
				panic(err)
			}
		}
		tx, err = types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.SetCodeTx{
			ChainID: uint256.MustFromBig(chainID), Nonce: nonce, GasTipCap: uint256.MustFromBig(randomBig(rng)),
			GasFeeCap: uint256.MustFromBig(randomBig(rng)), Gas: gas, To: to,
			Value: uint256.MustFromBig(randomBig(rng)), Data: randomBytes(rng), AccessList: randomAccessList(rng),
			AuthList: auths,
		})
	case PostExec:
		payload, err := rlp.EncodeToBytes([]any{randomUint(rng), randomBytes(rng)})
		if err != nil {
			panic(err)
		}
		return append([]byte{0x7D}, payload...)
	default:
		panic("unknown transaction kind")
	}
	if err != nil {
		panic(err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return raw
}

// RandomSignedTx is RandomTx of a random signed kind (not post-exec).
func RandomSignedTx(rng *rand.Rand, chainID *big.Int) []byte {
	return RandomTx(rng, chainID, rng.Intn(PostExec))
}

func randomAddress(rng *rand.Rand) common.Address {
	var a common.Address
	rng.Read(a[:])
	return a
}

// randomUint returns small and large values alike, to exercise every varint length.
func randomUint(rng *rand.Rand) uint64 {
	switch rng.Intn(4) {
	case 0:
		return uint64(rng.Intn(3))
	case 1:
		return uint64(rng.Intn(1 << 16))
	case 2:
		return rng.Uint64() >> uint(rng.Intn(64))
	}
	return rng.Uint64()
}

func randomBig(rng *rand.Rand) *big.Int {
	b := make([]byte, rng.Intn(33))
	rng.Read(b)
	return new(big.Int).SetBytes(b)
}

func randomBytes(rng *rand.Rand) []byte {
	n := rng.Intn(4)
	switch n {
	case 0:
		return nil
	case 1:
		n = 1
	case 2:
		n = rng.Intn(100)
	default:
		n = rng.Intn(2000)
	}
	b := make([]byte, n)
	rng.Read(b)
	return b
}

func randomAccessList(rng *rand.Rand) types.AccessList {
	al := make(types.AccessList, rng.Intn(3))
	for i := range al {
		al[i].Address = randomAddress(rng)
		al[i].StorageKeys = make([]common.Hash, rng.Intn(3))
		for j := range al[i].StorageKeys {
			rng.Read(al[i].StorageKeys[j][:])
		}
	}
	return al
}
