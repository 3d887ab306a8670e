package host

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

var ecrecoverAddr = common.BytesToAddress([]byte{0x01})

// ecrecoverCall is a real ecrecover input (a signature by a known key) and the signer's address.
func ecrecoverCall(t *testing.T) ([]byte, common.Address) {
	key, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	require.NoError(t, err)
	msg := crypto.Keccak256([]byte("stored answers"))
	sig, err := crypto.Sign(msg, key)
	require.NoError(t, err)
	input := append(append(append([]byte{}, msg...), common.LeftPadBytes([]byte{sig[64] + 27}, 32)...), sig[:64]...)
	return input, crypto.PubkeyToAddress(key.PublicKey)
}

// storePrecompile stores an answer under the precompile key of call and, with keyPreimage, the call under
// its keccak256 key, as an online host does.
func storePrecompile(t *testing.T, kv kvstore.KV, call, answer []byte, keyPreimage bool) {
	h := crypto.Keccak256Hash(call)
	require.NoError(t, kv.Put(common.Hash(preimage.PrecompileKey(h).PreimageKey()), answer))
	if keyPreimage {
		require.NoError(t, kv.Put(common.Hash(preimage.Keccak256Key(h).PreimageKey()), call))
	}
}

// TestOfflineStoredPrecompileAnswers: a precompile answer in the datadir is served only if it is the
// answer to its call, which comes from the program's hint or from the call stored under the key's hash.
// Before, only its shape was checked, and a forged answer (another signer, or status 0, which voided a
// transaction's sender) reached the program.
func TestOfflineStoredPrecompileAnswers(t *testing.T) {
	input, signer := ecrecoverCall(t)
	out, err := vm.PrecompiledContractsPrague[ecrecoverAddr].Run(input)
	require.NoError(t, err)
	good := append([]byte{1}, out...)
	forged := append([]byte{1}, common.LeftPadBytes(common.Address{0xee}.Bytes(), 32)...)
	v2 := append(append(append([]byte{}, ecrecoverAddr[:]...), binary.BigEndian.AppendUint64(nil, params.EcrecoverGas)...), input...)
	legacy := append(append([]byte{}, ecrecoverAddr[:]...), input...)

	for _, tc := range []struct {
		name        string
		call        []byte
		answer      []byte
		keyPreimage bool
		hint        string // the hint the program sends first
		wantErr     error
	}{
		{"good answer", v2, good, true, preimage.HintL1PrecompileV2, nil},
		{"good answer, call only in the hint", v2, good, false, preimage.HintL1PrecompileV2, nil},
		{"good answer, call only stored", v2, good, true, "", nil},
		{"forged signer", v2, forged, true, preimage.HintL1PrecompileV2, ErrCorruptPreimage},
		{"forged status 0", v2, []byte{0}, true, preimage.HintL1PrecompileV2, ErrCorruptPreimage},
		{"forged signer, call only in the hint", v2, forged, false, preimage.HintL1PrecompileV2, ErrCorruptPreimage},
		{"forged signer, call only stored", v2, forged, true, "", ErrCorruptPreimage},
		{"neither hint nor stored call", v2, good, false, "", ErrUncheckablePreimage},
		{"legacy call with its hint", legacy, good, true, preimage.HintL1Precompile, nil},
		{"legacy call, forged", legacy, forged, true, preimage.HintL1Precompile, ErrCorruptPreimage},
		// Without its hint, a stored call is read as v2 (the only form the on-chain oracle loads): a legacy
		// answer is refused rather than risk serving the answer to another reading of the same bytes.
		{"legacy call without its hint", legacy, good, true, "", ErrCorruptPreimage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := kvstore.NewMem()
			storePrecompile(t, kv, tc.call, tc.answer, tc.keyPreimage)
			oracle, hinter, stop := serveInMemory(t, testConfig(t), kv)
			if tc.hint != "" {
				require.NoError(t, hinter.Hint(preimage.TypedHint{Type: tc.hint, Data: tc.call}))
			}
			key := preimage.PrecompileKey(crypto.Keccak256Hash(tc.call))
			v, err := oracle.Get(key)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tc.answer, v)
				require.NoError(t, stop())
				return
			}
			require.Error(t, err, "the program gets no answer")
			err = stop()
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, common.Hash(key.PreimageKey()).Hex())
		})
	}

	// The program's own reader: its hint comes first, the signer is the real one.
	kv := kvstore.NewMem()
	storePrecompile(t, kv, v2, good, false)
	oracle, hinter, stop := serveInMemory(t, testConfig(t), kv)
	got, ok, err := l1.NewOracle(oracle, hinter).Precompile(ecrecoverAddr, params.EcrecoverGas, input)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, signer, common.BytesToAddress(got))
	require.NoError(t, stop())
}

// storeBlob stores a blob as an online host does: the commitment under the versioned hash, each element
// under its blob key and, with keyPreimages, commitment ++ z under its keccak256 key.
// Elements listed in skip are left out.
func storeBlob(t *testing.T, kv kvstore.KV, ref devnettest.BlobRef, keyPreimages bool, skip ...int) {
	require.NoError(t, kv.Put(common.Hash(preimage.Sha256Key(ref.VersionedHash).PreimageKey()), ref.Commitment[:]))
	for i := range params.BlobTxFieldElementsPerBlob {
		if slices.Contains(skip, i) {
			continue
		}
		key, in := layout.FieldElementKey(&ref.Commitment, i)
		require.NoError(t, kv.Put(common.Hash(key.PreimageKey()), ref.Blob[i*32:i*32+32]))
		if keyPreimages {
			require.NoError(t, kv.Put(common.Hash(preimage.KeccakKeyOf(in[:]).PreimageKey()), in[:]))
		}
	}
}

func blobElementKey(ref devnettest.BlobRef, i int) common.Hash {
	key, _ := layout.FieldElementKey(&ref.Commitment, i)
	return common.Hash(key.PreimageKey())
}

// TestOfflineStoredBlobElements: a blob field element in the datadir is served only if the blob's stored
// elements commit to the blob's commitment, found through the key's stored preimage or the program's
// l1-blob hint. The program reads the blob as it does inside the VM, where it does not recompute the
// commitment: before, a forged (canonical) element reached it there.
func TestOfflineStoredBlobElements(t *testing.T) {
	chain, err := devnettest.L1()
	require.NoError(t, err)
	ref := chain.Blobs[0]
	other := chain.Blobs[1]

	for _, tc := range []struct {
		name         string
		keyPreimages bool
		missing      []int               // elements not stored
		edit         func(kv kvstore.KV) // after the blob is stored
		wantErr      error
		wantKey      common.Hash // named in the error
	}{
		{"good blob", true, nil, nil, nil, common.Hash{}},
		{"good blob, no key preimages (through the hint)", false, nil, nil, nil, common.Hash{}},
		{"forged element", true, nil, func(kv kvstore.KV) {
			v := bytes.Clone(ref.Blob[100*32 : 101*32])
			v[31] ^= 1 // still canonical
			require.NoError(t, kv.Put(blobElementKey(ref, 100), v))
		}, ErrCorruptPreimage, blobElementKey(ref, 0)},
		{"forged element, no key preimages", false, nil, func(kv kvstore.KV) {
			require.NoError(t, kv.Put(blobElementKey(ref, 4095), other.Blob[:32]))
		}, ErrCorruptPreimage, blobElementKey(ref, 0)},
		{"empty element", true, nil, func(kv kvstore.KV) {
			require.NoError(t, kv.Put(blobElementKey(ref, 7), nil))
		}, ErrCorruptPreimage, blobElementKey(ref, 0)},
		// The whole blob is needed to check any of its elements.
		{"missing element", true, []int{7}, nil, ErrUncheckablePreimage, blobElementKey(ref, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := kvstore.NewMem()
			storeBlob(t, kv, ref, tc.keyPreimages, tc.missing...)
			if tc.edit != nil {
				tc.edit(kv)
			}
			oracle, hinter, stop := serveInMemory(t, testConfig(t), kv)
			o := l1.NewOracle(oracle, hinter)
			o.SkipBlobCommitmentCheck() // as inside the VM
			blob, err := o.GetBlob(l1.BlobRef{L1Timestamp: chain.Blocks[ref.Block].Time(), VersionedHash: ref.VersionedHash})
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, *ref.Blob, *blob)
				require.NoError(t, stop())
				return
			}
			require.Error(t, err, "the program gets no blob")
			err = stop()
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.wantKey.Hex())
		})
	}

	// Without the key preimages and without the hint, an element cannot be checked.
	kv := kvstore.NewMem()
	storeBlob(t, kv, ref, false)
	oracle, _, stop := serveInMemory(t, testConfig(t), kv)
	_, err = oracle.Get(preimage.RawKey(blobElementKey(ref, 0)))
	require.Error(t, err)
	err = stop()
	require.ErrorIs(t, err, ErrUncheckablePreimage)
	require.ErrorContains(t, err, blobElementKey(ref, 0).Hex())

	// A hint for another blob does not vouch for this one.
	kv = kvstore.NewMem()
	storeBlob(t, kv, ref, false)
	storeBlob(t, kv, other, false)
	oracle, hinter, stop := serveInMemory(t, testConfig(t), kv)
	require.NoError(t, hinter.Hint(preimage.TypedHint{Type: preimage.HintL1Blob,
		Data: binary.BigEndian.AppendUint64(append([]byte{}, other.VersionedHash[:]...), chain.Blocks[other.Block].Time())}))
	_, err = oracle.Get(preimage.RawKey(blobElementKey(ref, 0)))
	require.Error(t, err)
	require.ErrorIs(t, stop(), ErrUncheckablePreimage)
}
