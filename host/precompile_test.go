package host

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/preimage"
)

// precompileCall is one precompile hint of the program.
type precompileCall struct {
	name string
	typ  string // l1-precompile-v2 or the legacy l1-precompile
	data []byte // the hint's data
}

func (c precompileCall) key() preimage.PrecompileKey {
	return preimage.PrecompileKey(crypto.Keccak256Hash(c.data))
}

func (c precompileCall) hint() preimage.TypedHint {
	return preimage.TypedHint{Type: c.typ, Data: c.data}
}

func v2Call(name string, addr byte, gas uint64, input []byte) precompileCall {
	data := append(common.BytesToAddress([]byte{addr}).Bytes(), binary.BigEndian.AppendUint64(nil, gas)...)
	return precompileCall{name, preimage.HintL1PrecompileV2, append(data, input...)}
}

// ecrecoverInput is a valid ecrecover input and the address it recovers.
func ecrecoverInput(t *testing.T) ([]byte, common.Address) {
	key, err := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	require.NoError(t, err)
	msg := crypto.Keccak256([]byte("a transaction's signing hash"))
	sig, err := crypto.Sign(msg, key)
	require.NoError(t, err)
	input := append(append(msg, common.LeftPadBytes([]byte{sig[64] + 27}, 32)...), sig[:64]...)
	return input, crypto.PubkeyToAddress(key.PublicKey)
}

// onlinePrefetcher is the online host's prefetcher; precompile hints need none of its sources.
func onlinePrefetcher(t *testing.T, kv kvstore.KV) *prefetch.Prefetcher {
	t.Helper()
	type l1 struct{ prefetch.L1Source }
	type blobs struct{ prefetch.BlobSource }
	type l2 struct{ prefetch.L2Source }
	p, err := prefetch.New(log.New(), kv, prefetch.Sources{L1: l1{}, Blobs: blobs{}, L2: l2{}}, prefetch.Config{})
	require.NoError(t, err)
	return p
}

// TestOfflinePrecompileAnswersEqualOnline: offline, a precompile key the datadir lacks is answered when the
// last hint is its call (as op-program's and kona's datadirs need: they hold no answers for the calls our
// program makes), with the answer the online host gives, successes and failures alike. The answer and the
// call are stored, so the next replay reads them from the datadir.
func TestOfflinePrecompileAnswersEqualOnline(t *testing.T) {
	input, signer := ecrecoverInput(t)
	calls := []precompileCall{
		v2Call("ecrecover", 0x01, 3000, input),
		v2Call("ecrecover of a bad signature (success, no address)", 0x01, 3000, make([]byte, 128)),
		v2Call("bn256 pairing of nothing", 0x08, 45000, nil),
		v2Call("KZG point evaluation of a wrong proof (failure)", 0x0a, 50000, make([]byte, 192)),
		v2Call("BLS12-381 G1 add of the points at infinity", 0x0b, 375, make([]byte, 256)),
		{"legacy ecrecover", preimage.HintL1Precompile, append(common.BytesToAddress([]byte{0x01}).Bytes(), input...)},
	}
	online := onlinePrefetcher(t, kvstore.NewMem())
	stored := kvstore.NewMem()
	oracle, hinter, stop := serveInMemory(t, testConfig(t), stored)
	for _, c := range calls {
		require.NoError(t, online.Hint(c.hint().Hint()))
		want, err := online.GetPreimage(context.Background(), c.key().PreimageKey())
		require.NoError(t, err, c.name)

		require.NoError(t, hinter.Hint(c.hint()))
		got, err := oracle.Get(c.key())
		require.NoError(t, err, c.name)
		require.Equal(t, want, got, c.name)

		v, err := stored.Get(common.Hash(c.key().PreimageKey()))
		require.NoError(t, err, "%s: answer stored", c.name)
		require.Equal(t, got, v)
		v, err = stored.Get(common.Hash(preimage.Keccak256Key(common.Hash(c.key())).PreimageKey()))
		require.NoError(t, err, "%s: call stored", c.name)
		require.Equal(t, c.data, v)
	}
	require.NoError(t, stop())

	// The answers are what the precompiles say, not only what both hosts say.
	answer := func(c precompileCall) []byte {
		v, err := stored.Get(common.Hash(c.key().PreimageKey()))
		require.NoError(t, err)
		return v
	}
	require.Equal(t, append([]byte{1}, common.LeftPadBytes(signer[:], 32)...), answer(calls[0]))
	require.Equal(t, []byte{1}, answer(calls[1]))
	require.Equal(t, append([]byte{1}, common.LeftPadBytes([]byte{1}, 32)...), answer(calls[2]))
	require.Equal(t, byte(0), answer(calls[3])[0])
	require.Equal(t, append([]byte{1}, make([]byte, 128)...), answer(calls[4]))
	require.Equal(t, answer(calls[0]), answer(calls[5]))

	// Replayed with a hint that names something else, the stored v2 answers are checked against their
	// stored calls and served. A legacy answer is not: the key does not say whether its stored call is a
	// legacy or a v2 call, and without its own hint it is checked as v2 (the only form the on-chain oracle
	// loads), which it fails, so it is refused.
	oracle, hinter, stop = serveInMemory(t, testConfig(t), stored)
	require.NoError(t, hinter.Hint(preimage.RawHint("l1-block-header 0x01")))
	for _, c := range calls[:5] {
		v, err := oracle.Get(c.key())
		require.NoError(t, err, c.name)
		require.Equal(t, answer(c), v)
	}
	_, err := oracle.Get(calls[5].key())
	require.Error(t, err, calls[5].name)
	require.ErrorIs(t, stop(), ErrCorruptPreimage)
}

// TestOfflineUnknownPrecompileIsAnError: a precompile hint naming an address outside op-program's
// accelerated set (sha256 at 0x02, P256VERIFY at 0x100, an address with no precompile) or too short to
// hold one stops the host with a one-line error naming it; the run exits 2, never with a verdict.
func TestOfflineUnknownPrecompileIsAnError(t *testing.T) {
	for _, tc := range []struct {
		call precompileCall
		want string
	}{
		{v2Call("sha256", 0x02, 72, []byte("x")), "precompile 0x0000000000000000000000000000000000000002 is not an accelerated precompile"},
		{precompileCall{"P256VERIFY", preimage.HintL1PrecompileV2, append(common.HexToAddress("0x100").Bytes(), make([]byte, 8+160)...)},
			"precompile 0x0000000000000000000000000000000000000100 is not an accelerated precompile"},
		{v2Call("no precompile", 0xee, 0, nil), "precompile " + common.BytesToAddress([]byte{0xee}).Hex() + " is not an accelerated precompile"},
		{precompileCall{"short", preimage.HintL1PrecompileV2, []byte{1, 2, 3}}, "3 bytes of data, want at least 28"},
	} {
		t.Run(tc.call.name, func(t *testing.T) {
			program := func(_ context.Context, pre, hint io.ReadWriter) error {
				if err := preimage.NewHintWriter(hint).Hint(tc.call.hint()); err != nil {
					return err
				}
				_, err := preimage.NewOracleClient(pre).Get(tc.call.key())
				return err
			}
			err := New(log.New(), testConfig(t), program).Run(context.Background())
			require.Error(t, err)
			var exitErr *ExitError
			require.False(t, errors.As(err, &exitErr), "not a verdict: %v", err)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, common.Hash(tc.call.key().PreimageKey()).Hex())
			require.NotContains(t, err.Error(), "\n")
			if tc.call.name != "short" {
				require.ErrorIs(t, err, prefetch.ErrUnknownPrecompile)
			}
		})
	}
}

// TestOfflinePrecompileAnswerIsForItsKey: a computed answer is served only for the key of the hinted call.
// Asked for another precompile key, the host reports it missing (naming the hint) and stores nothing; a
// stored answer that fails its check is corrupt, not replaced by a computed one; and what is computed
// passes the server's verification like any other preimage.
func TestOfflinePrecompileAnswerIsForItsKey(t *testing.T) {
	input, _ := ecrecoverInput(t)
	hinted := v2Call("ecrecover", 0x01, 3000, input)
	asked := v2Call("ecrecover with other gas", 0x01, 3001, input)

	kv := kvstore.NewMem()
	oracle, hinter, stop := serveInMemory(t, testConfig(t), kv)
	require.NoError(t, hinter.Hint(hinted.hint()))
	_, err := oracle.Get(asked.key())
	require.Error(t, err)
	err = stop()
	require.ErrorIs(t, err, ErrMissingPreimage)
	require.ErrorContains(t, err, common.Hash(asked.key().PreimageKey()).Hex())
	require.ErrorContains(t, err, "last hint: l1-precompile-v2 0x")
	for _, c := range []precompileCall{hinted, asked} {
		_, err := kv.Get(common.Hash(c.key().PreimageKey()))
		require.ErrorIs(t, err, kvstore.ErrNotFound, "nothing stored for %s", c.name)
	}

	// A stored answer without a valid status byte is corrupt, whatever the hint.
	require.NoError(t, kv.Put(common.Hash(hinted.key().PreimageKey()), []byte{7}))
	src := NewOfflineSource(log.New(), kv)
	require.NoError(t, src.Hint(hinted.hint().Hint()))
	_, err = src.GetPreimage(context.Background(), hinted.key().PreimageKey())
	require.ErrorIs(t, err, ErrCorruptPreimage)

	// Through the server's verification, the computed answer arrives, and its call verifies against
	// its keccak256 key.
	kv = kvstore.NewMem()
	oracle, hinter, stop = serveInMemory(t, testConfig(t), kv)
	require.NoError(t, hinter.Hint(hinted.hint()))
	v, err := oracle.Get(hinted.key())
	require.NoError(t, err)
	require.Equal(t, byte(1), v[0])
	callKey := preimage.Keccak256Key(common.Hash(hinted.key()))
	call, err := oracle.Get(callKey)
	require.NoError(t, err)
	require.NoError(t, preimage.Verify(callKey.PreimageKey(), call))
	require.Equal(t, hinted.data, call)
	require.NoError(t, stop())
}
