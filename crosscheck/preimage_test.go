package crosscheck

// Differential tests of the preimage ABI and the preimage stores: ours against op-preimage and
// op-challenger's kvstore (where op-program's host store lives now). Each side writes, the other reads.

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	opkv "github.com/ethereum-optimism/optimism/op-challenger/kvstore"
	oppreimage "github.com/ethereum-optimism/optimism/op-preimage"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

func randomValues(seed int64, n int) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	out := make([][]byte, n)
	for i := range out {
		size := rng.Intn(2000)
		if i == 0 {
			size = 0
		}
		if i == 1 {
			size = 200_000 // more than a pipe buffer
		}
		out[i] = make([]byte, size)
		rng.Read(out[i])
	}
	return out
}

func TestKeysMatchOpPreimage(t *testing.T) {
	for _, v := range randomValues(1, 50) {
		require.Equal(t, oppreimage.Keccak256Key(oppreimage.Keccak256(v)).PreimageKey(), preimage.KeccakKeyOf(v).PreimageKey())
		sha := [32]byte(preimage.Sha256KeyOf(v))
		require.Equal(t, oppreimage.Sha256Key(sha).PreimageKey(), preimage.Sha256KeyOf(v).PreimageKey())
		h := oppreimage.Keccak256(v)
		require.Equal(t, oppreimage.BlobKey(h).PreimageKey(), preimage.BlobKey(h).PreimageKey())
		require.Equal(t, oppreimage.PrecompileKey(h).PreimageKey(), preimage.PrecompileKey(h).PreimageKey())
	}
	for i := uint64(0); i < 20; i++ {
		require.Equal(t, oppreimage.LocalIndexKey(i).PreimageKey(), preimage.LocalIndexKey(i).PreimageKey())
	}
	for _, idx := range [][2]uint64{
		{uint64(oppreimage.L1HeadLocalIndex), uint64(preimage.L1HeadLocalIndex)},
		{uint64(oppreimage.L2OutputRootLocalIndex), uint64(preimage.L2OutputRootLocalIndex)},
		{uint64(oppreimage.L2ClaimLocalIndex), uint64(preimage.L2ClaimLocalIndex)},
		{uint64(oppreimage.L2ClaimBlockNumberLocalIndex), uint64(preimage.L2ClaimBlockNumberLocalIndex)},
		{uint64(oppreimage.L2ChainIDLocalIndex), uint64(preimage.L2ChainIDLocalIndex)},
		{uint64(oppreimage.L2ChainConfigLocalIndex), uint64(preimage.L2ChainConfigLocalIndex)},
		{uint64(oppreimage.RollupConfigLocalIndex), uint64(preimage.RollupConfigLocalIndex)},
		{uint64(oppreimage.DependencySetLocalIndex), uint64(preimage.DependencySetLocalIndex)},
		{uint64(oppreimage.L1ChainConfigLocalIndex), uint64(preimage.L1ChainConfigLocalIndex)},
	} {
		require.Equal(t, idx[0], idx[1])
	}
}

func TestVerificationMatchesOpPreimage(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	values := randomValues(3, 30)
	for i := 0; i < 2000; i++ {
		v := values[rng.Intn(len(values))]
		var key [32]byte
		switch rng.Intn(4) {
		case 0: // a right key
			key = preimage.KeccakKeyOf(v).PreimageKey()
		case 1:
			key = preimage.Sha256KeyOf(v).PreimageKey()
		case 2: // a right key of another type
			key = preimage.KeccakKeyOf(v).PreimageKey()
			key[0] = byte(rng.Intn(256))
		default: // anything
			rng.Read(key[:])
		}
		if key[0] == byte(preimage.LocalKeyType) {
			continue // we also reject local keys with non-zero padding; op-preimage does not look
		}
		theirs := oppreimage.WithVerification(func([32]byte) ([]byte, error) { return v, nil })
		_, theirErr := theirs(key)
		ourErr := preimage.Verify(key, v)
		require.Equal(t, theirErr == nil, ourErr == nil, "key %x: op-preimage %v, ours %v", key, theirErr, ourErr)
	}
}

func serveWith(t *testing.T, serve func(rw io.ReadWriter) error) (io.ReadWriter, func()) {
	a, b, err := preimage.CreateBidirectionalChannel()
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	var serveErr error
	go func() {
		defer wg.Done()
		for {
			if err := serve(b); err != nil {
				if !errors.Is(err, io.EOF) {
					serveErr = err
				}
				return
			}
		}
	}()
	return a, func() {
		require.NoError(t, a.Close())
		wg.Wait()
		require.NoError(t, b.Close())
		require.NoError(t, serveErr)
	}
}

func TestOracleWireMatchesOpPreimage(t *testing.T) {
	values := randomValues(4, 40)
	byKey := map[[32]byte][]byte{}
	for _, v := range values {
		byKey[preimage.KeccakKeyOf(v).PreimageKey()] = v
	}
	get := func(k [32]byte) ([]byte, error) { return byKey[k], nil }

	t.Run("our client, op-preimage server", func(t *testing.T) {
		ch, done := serveWith(t, func(rw io.ReadWriter) error {
			return oppreimage.NewOracleServer(rw).NextPreimageRequest(get)
		})
		client := preimage.NewOracleClient(ch)
		for _, v := range values {
			got, err := client.Get(preimage.KeccakKeyOf(v))
			require.NoError(t, err)
			require.Equal(t, v, got)
		}
		done()
	})
	t.Run("op-preimage client, our server", func(t *testing.T) {
		ch, done := serveWith(t, func(rw io.ReadWriter) error {
			return preimage.NewOracleServer(rw).NextPreimageRequest(get)
		})
		client := oppreimage.NewOracleClient(ch)
		for _, v := range values {
			got := client.Get(oppreimage.Keccak256Key(oppreimage.Keccak256(v)))
			require.True(t, bytes.Equal(v, got))
		}
		done()
	})
}

type rawHint string

func (h rawHint) Hint() string { return string(h) }

func TestHintWireMatchesOpPreimage(t *testing.T) {
	hints := []string{"l1-block-header 0x" + common.Hash{1}.Hex()[2:], "", "l2-payload-witness 0x" + string(bytes.Repeat([]byte("ab"), 100_000))}
	t.Run("our writer, op-preimage reader", func(t *testing.T) {
		var got []string
		ch, done := serveWith(t, func(rw io.ReadWriter) error {
			return oppreimage.NewHintReader(rw).NextHint(func(h string) error { got = append(got, h); return nil })
		})
		w := preimage.NewHintWriter(ch)
		for _, h := range hints {
			require.NoError(t, w.Hint(preimage.RawHint(h)))
		}
		done()
		require.Equal(t, hints, got)
	})
	t.Run("op-preimage writer, our reader", func(t *testing.T) {
		var got []string
		ch, done := serveWith(t, func(rw io.ReadWriter) error {
			return preimage.NewHintReader(rw).NextHint(func(h string) error { got = append(got, h); return nil })
		})
		w := oppreimage.NewHintWriter(ch)
		for _, h := range hints {
			w.Hint(rawHint(h)) // panics on a protocol error
		}
		done()
		require.Equal(t, hints, got)
	})
}

// TestDatadirsAreInterchangeable writes a datadir with op-challenger's kvstore (op-program's host store)
// and reads it with ours, and the other way round, in every format.
func TestDatadirsAreInterchangeable(t *testing.T) {
	values := randomValues(5, 60)
	for _, format := range []kvstore.Format{kvstore.FormatDirectory, kvstore.FormatFile, kvstore.FormatPebble} {
		t.Run("op-challenger writes, we read: "+string(format), func(t *testing.T) {
			dir := t.TempDir()
			theirs, err := opkv.NewDiskKV(log.New(), dir, opkv.DataFormat(format))
			require.NoError(t, err)
			for _, v := range values {
				require.NoError(t, theirs.Put(common.Hash(preimage.KeccakKeyOf(v).PreimageKey()), v))
			}
			require.NoError(t, theirs.Close())
			// Ask for another format: the kvformat marker they wrote must win.
			ours, got, err := kvstore.Open(dir, otherFormat(format))
			require.NoError(t, err)
			require.Equal(t, format, got)
			for _, v := range values {
				read, err := ours.Get(common.Hash(preimage.KeccakKeyOf(v).PreimageKey()))
				require.NoError(t, err)
				require.True(t, bytes.Equal(v, read))
			}
			require.NoError(t, ours.Close())
		})
		t.Run("we write, op-challenger reads: "+string(format), func(t *testing.T) {
			dir := t.TempDir()
			ours, _, err := kvstore.Open(dir, format)
			require.NoError(t, err)
			for _, v := range values {
				require.NoError(t, ours.Put(common.Hash(preimage.KeccakKeyOf(v).PreimageKey()), v))
			}
			require.NoError(t, ours.Close())
			theirs, err := opkv.NewDiskKV(log.New(), dir, opkv.DataFormat(otherFormat(format)))
			require.NoError(t, err)
			for _, v := range values {
				read, err := theirs.Get(common.Hash(preimage.KeccakKeyOf(v).PreimageKey()))
				require.NoError(t, err)
				require.True(t, bytes.Equal(v, read))
			}
			_, err = theirs.Get(common.Hash{2})
			require.ErrorIs(t, err, opkv.ErrNotFound)
			require.NoError(t, theirs.Close())
		})
	}
}

func otherFormat(f kvstore.Format) kvstore.Format {
	if f == kvstore.FormatFile {
		return kvstore.FormatDirectory
	}
	return kvstore.FormatFile
}
