package preimage

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// scripted is one end of a channel whose peer's bytes are fixed in advance; what we write is recorded.
type scripted struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func newScripted(in []byte) *scripted           { return &scripted{in: bytes.NewReader(in)} }
func (s *scripted) Read(b []byte) (int, error)  { return s.in.Read(b) }
func (s *scripted) Write(b []byte) (int, error) { return s.out.Write(b) }

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestOracleClientGoldenBytes(t *testing.T) {
	value := []byte("hello")
	key := KeccakKeyOf(value)
	// The host answers with an 8-byte big-endian length and the data.
	ch := newScripted(mustHex(t, "0000000000000005"+"68656c6c6f"))
	got, err := NewOracleClient(ch).Get(key)
	require.NoError(t, err)
	require.Equal(t, value, got)
	// The program wrote exactly the 32-byte key.
	require.Equal(t, "028aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8", hex.EncodeToString(ch.out.Bytes()))
}

func TestOracleClientGetInto(t *testing.T) {
	value := []byte("hello")
	key := KeccakKeyOf(value).PreimageKey()
	ch := newScripted(mustHex(t, "0000000000000005"+"68656c6c6f"))
	got := make([]byte, 5)
	require.NoError(t, NewOracleClient(ch).GetInto(&key, got))
	require.Equal(t, value, got)
	require.Equal(t, key[:], ch.out.Bytes(), "the program wrote exactly the 32-byte key")

	tests := []struct {
		name    string
		key     [32]byte
		size    int
		stream  string
		wantErr string
	}{
		{"shorter than asked", key, 6, "0000000000000005" + "68656c6c6f", "is 5 bytes, want 6"},
		{"longer than asked", key, 4, "0000000000000005" + "68656c6c6f", "is 5 bytes, want 4"},
		{"truncated data", key, 5, "0000000000000005" + "6865", io.ErrUnexpectedEOF.Error()},
		{"answer that does not hash to the key", key, 5, "0000000000000005" + "776f726c64", ErrPreimageMismatch.Error()},
		{"unsupported key type is never sent", [32]byte{3}, 5, "", ErrUnsupportedKeyType.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newScripted(mustHex(t, tt.stream))
			err := NewOracleClient(ch).GetInto(&tt.key, make([]byte, tt.size))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestOracleClientEmptyPreimage(t *testing.T) {
	ch := newScripted(mustHex(t, "0000000000000000"))
	got, err := NewOracleClient(ch).Get(KeccakKeyOf(nil))
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestOracleClientErrors(t *testing.T) {
	tests := []struct {
		name    string
		key     Key
		stream  string
		wantErr error
	}{
		{"truncated length", LocalIndexKey(1), "000000", io.ErrUnexpectedEOF},
		{"no answer at all", LocalIndexKey(1), "", io.EOF},
		{"truncated data", LocalIndexKey(1), "0000000000000005" + "6865", io.ErrUnexpectedEOF},
		{"huge length on a short stream", LocalIndexKey(1), "7fffffffffffffff" + "00", io.ErrUnexpectedEOF},
		{"max length on a short stream", LocalIndexKey(1), "ffffffffffffffff" + "00", io.ErrUnexpectedEOF},
		{"answer that does not hash to the key", KeccakKeyOf([]byte("hello")), "0000000000000005" + "776f726c64", ErrPreimageMismatch},
		{"unsupported key type is never sent", RawKey{3}, "", ErrUnsupportedKeyType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newScripted(mustHex(t, tt.stream))
			_, err := NewOracleClient(ch).Get(tt.key)
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestOracleServerGoldenBytes(t *testing.T) {
	key := LocalIndexKey(4).PreimageKey()
	ch := newScripted(key[:])
	srv := NewOracleServer(ch)
	err := srv.NextPreimageRequest(func(k [32]byte) ([]byte, error) {
		require.Equal(t, key, k)
		return mustHex(t, "0000000000000064"), nil
	})
	require.NoError(t, err)
	require.Equal(t, "0000000000000008"+"0000000000000064", hex.EncodeToString(ch.out.Bytes()))
	// The program closed the channel: a clean end.
	require.ErrorIs(t, srv.NextPreimageRequest(nil), io.EOF)
}

func TestOracleServerErrors(t *testing.T) {
	notFound := errors.New("not found")
	t.Run("getter error is returned and nothing is answered", func(t *testing.T) {
		key := KeccakKeyOf([]byte("x")).PreimageKey()
		ch := newScripted(key[:])
		err := NewOracleServer(ch).NextPreimageRequest(func([32]byte) ([]byte, error) { return nil, notFound })
		require.ErrorIs(t, err, notFound)
		require.Zero(t, ch.out.Len())
	})
	t.Run("truncated key", func(t *testing.T) {
		ch := newScripted(make([]byte, 31))
		err := NewOracleServer(ch).NextPreimageRequest(nil)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
	for _, typ := range []byte{0, 3, 7, 200} {
		t.Run("key type "+string(rune('0'+typ%10)), func(t *testing.T) {
			key := [32]byte{typ}
			ch := newScripted(key[:])
			err := NewOracleServer(ch).NextPreimageRequest(func([32]byte) ([]byte, error) {
				require.FailNow(t, "getter called for an unsupported key")
				return nil, nil
			})
			require.ErrorIs(t, err, ErrUnsupportedKeyType)
		})
	}
}

func TestHintWriterGoldenBytes(t *testing.T) {
	ch := newScripted([]byte{0})
	err := NewHintWriter(ch).Hint(TypedHint{Type: HintL1BlockHeader, Data: []byte{0xab, 0xcd}})
	require.NoError(t, err)
	// "l1-block-header 0xabcd" is 22 bytes.
	require.Equal(t, "00000016"+hex.EncodeToString([]byte("l1-block-header 0xabcd")), hex.EncodeToString(ch.out.Bytes()))
}

func TestHintWriterNeedsAck(t *testing.T) {
	ch := newScripted(nil)
	err := NewHintWriter(ch).Hint(RawHint("l1-block-header 0x00"))
	require.ErrorIs(t, err, io.EOF)
}

func TestHintReaderGoldenBytes(t *testing.T) {
	hint := "l2-state-node 0x0102"
	stream := append(mustHex(t, "00000014"), hint...)
	stream = append(stream, 0, 0, 0, 0) // an empty hint is legal
	ch := newScripted(stream)
	hr := NewHintReader(ch)
	var got []string
	handle := func(h string) error { got = append(got, h); return nil }
	require.NoError(t, hr.NextHint(handle))
	require.NoError(t, hr.NextHint(handle))
	require.ErrorIs(t, hr.NextHint(handle), io.EOF)
	require.Equal(t, []string{hint, ""}, got)
	require.Equal(t, []byte{0, 0}, ch.out.Bytes(), "one zero ack per hint")
}

func TestHintReaderAcksFailedHints(t *testing.T) {
	boom := errors.New("boom")
	ch := newScripted(append(mustHex(t, "00000001"), 'x'))
	err := NewHintReader(ch).NextHint(func(string) error { return boom })
	require.ErrorIs(t, err, boom)
	require.Equal(t, []byte{0}, ch.out.Bytes(), "ack written even though the handler failed")
}

func TestHintReaderTruncated(t *testing.T) {
	for name, stream := range map[string]string{
		"truncated length":               "0000",
		"truncated payload":              "00000005" + "6162",
		"4 GiB length on a short stream": "ffffffff" + "61",
	} {
		t.Run(name, func(t *testing.T) {
			ch := newScripted(mustHex(t, stream))
			err := NewHintReader(ch).NextHint(func(string) error { require.FailNow(t, "handler called"); return nil })
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.Zero(t, ch.out.Len(), "no ack for a hint never received")
		})
	}
}

func TestParseHint(t *testing.T) {
	tests := []struct {
		name     string
		hint     string
		wantType string
		wantData []byte
		wantErr  bool
	}{
		{"type and data", "l1-block-header 0xabcd", "l1-block-header", []byte{0xab, 0xcd}, false},
		{"empty data", "l2-output 0x", "l2-output", []byte{}, false},
		{"split at the first space only", "a 0x01 0x02", "", nil, true},
		{"no space", "l1-block-header0xabcd", "", nil, true},
		{"no 0x prefix", "l1-block-header abcd", "", nil, true},
		{"odd hex", "l1-block-header 0xabc", "", nil, true},
		{"empty type", " 0xab", "", nil, true},
		{"empty hint", "", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, data, err := ParseHint(tt.hint)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrMalformedHint)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantType, typ)
			require.Equal(t, tt.wantData, data)
		})
	}
}

// TestChannelsOverPipes runs a program and a host on the two ends of real pipes, as the host does in
// process, and checks that hints arrive before the requests they announce.
func TestChannelsOverPipes(t *testing.T) {
	hintA, hintB, err := CreateBidirectionalChannel()
	require.NoError(t, err)
	preA, preB, err := CreateBidirectionalChannel()
	require.NoError(t, err)

	values := map[[32]byte][]byte{}
	var keys []Key
	for i := 0; i < 50; i++ {
		v := bytes.Repeat([]byte{byte(i)}, i*97)
		k := KeccakKeyOf(v)
		values[k.PreimageKey()] = v
		keys = append(keys, k)
	}
	big := bytes.Repeat([]byte{7}, 3<<20) // larger than a pipe buffer and than the prealloc bound
	values[Sha256KeyOf(big).PreimageKey()] = big
	keys = append(keys, Sha256KeyOf(big))

	var mu sync.Mutex
	var lastHint string
	var wg sync.WaitGroup
	wg.Add(2)
	var hintErr, preErr error
	go func() {
		defer wg.Done()
		hr := NewHintReader(hintB)
		for {
			if err := hr.NextHint(func(h string) error { mu.Lock(); lastHint = h; mu.Unlock(); return nil }); err != nil {
				if !errors.Is(err, io.EOF) {
					hintErr = err
				}
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		srv := NewOracleServer(preB)
		for {
			err := srv.NextPreimageRequest(func(k [32]byte) ([]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				if lastHint != "want "+hexKey(k) {
					return nil, errors.New("request not announced by the last hint")
				}
				return values[k], nil
			})
			if err != nil {
				if !errors.Is(err, io.EOF) {
					preErr = err
				}
				return
			}
		}
	}()

	hw := NewHintWriter(hintA)
	oc := NewOracleClient(preA)
	for _, k := range keys {
		require.NoError(t, hw.Hint(RawHint("want "+hexKey(k.PreimageKey()))))
		got, err := oc.Get(k)
		require.NoError(t, err)
		require.Equal(t, values[k.PreimageKey()], got)
	}
	require.NoError(t, hintA.Close())
	require.NoError(t, preA.Close())
	wg.Wait()
	require.NoError(t, hintErr)
	require.NoError(t, preErr)
	require.NoError(t, hintB.Close())
	require.NoError(t, preB.Close())
}

func hexKey(k [32]byte) string { return "0x" + hex.EncodeToString(k[:]) }

// fullScripted is a scripted channel that reads whole buffers itself, as the program's raw channel does
// inside the VM.
type fullScripted struct {
	*scripted
	calls int
}

func (f *fullScripted) ReadFull(b []byte) error {
	f.calls++
	_, err := io.ReadFull(f.in, b)
	return err
}

func TestOracleClientUsesFullReader(t *testing.T) {
	value := []byte("hello")
	key := KeccakKeyOf(value).PreimageKey()
	ch := &fullScripted{scripted: newScripted(mustHex(t, "0000000000000005"+"68656c6c6f"))}
	got := make([]byte, 5)
	require.NoError(t, NewOracleClient(ch).GetInto(&key, got))
	require.Equal(t, value, got)
	require.Equal(t, 2, ch.calls, "the length and the data, one call each")

	ch = &fullScripted{scripted: newScripted(mustHex(t, "0000000000000005"+"6865"))}
	require.ErrorIs(t, NewOracleClient(ch).GetInto(&key, got), io.ErrUnexpectedEOF)
}

// loopChannel answers every request with the same 32-byte preimage, as a blob's field elements come.
type loopChannel struct{ answer []byte }

func (c *loopChannel) Write(b []byte) (int, error) { return len(b), nil }
func (c *loopChannel) ReadFull(b []byte) error {
	if len(b) == 8 {
		copy(b, []byte{0, 0, 0, 0, 0, 0, 0, 32})
		return nil
	}
	copy(b, c.answer)
	return nil
}
func (c *loopChannel) Read(b []byte) (int, error) { return len(b), c.ReadFull(b) }

// BenchmarkOracleClientGetInto reads 32-byte blob field elements into a buffer, as GetBlob does.
func BenchmarkOracleClientGetInto(b *testing.B) {
	o := NewOracleClient(&loopChannel{answer: make([]byte, 32)})
	key := [32]byte{byte(BlobKeyType)}
	dst := make([]byte, 32)
	for b.Loop() {
		require.NoError(b, o.GetInto(&key, dst))
	}
}
