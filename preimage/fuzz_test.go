package preimage

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The readers face bytes from another process: whatever arrives, they must return (an answer or an error)
// without panicking or waiting for bytes that will never come.

func FuzzOracleClientRead(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{0, 0, 0, 0, 0, 0x10, 0, 0})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, key := range []Key{LocalIndexKey(1), KeccakKeyOf([]byte("hello")), Sha256KeyOf(nil)} {
			got, err := NewOracleClient(newScripted(stream)).Get(key)
			if err == nil {
				require.NoError(t, Verify(key.PreimageKey(), got), "unverified answer returned")
			}
		}
	})
}

func FuzzOracleServerRead(f *testing.F) {
	k := KeccakKeyOf([]byte("x")).PreimageKey()
	f.Add(k[:])
	f.Add([]byte{1, 2, 3})
	f.Add(append([]byte{7}, make([]byte, 31)...))
	f.Fuzz(func(t *testing.T, stream []byte) {
		_ = NewOracleServer(newScripted(stream)).NextPreimageRequest(func([32]byte) ([]byte, error) { return []byte("x"), nil })
	})
}

func FuzzHintReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 'a', ' ', '0', 'x', '1'})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'a'})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		ch := newScripted(stream)
		hr := NewHintReader(ch)
		for i := 0; i < 8; i++ {
			called := false
			err := hr.NextHint(func(h string) error {
				called = true
				_, _, _ = ParseHint(h)
				return nil
			})
			require.False(t, called && ch.out.Len() != i+1, "hint %d handled but %d acks written", i, ch.out.Len())
			if err != nil {
				return
			}
		}
	})
}

func FuzzParseHint(f *testing.F) {
	f.Add("l1-block-header 0xabcd")
	f.Add("x")
	f.Add(" 0x")
	f.Fuzz(func(t *testing.T, hint string) {
		typ, data, err := ParseHint(hint)
		if err != nil {
			return
		}
		got := (TypedHint{Type: typ, Data: data}).Hint()
		require.Equal(t, normalizeHex(hint), got, "round trip of %q gave %q", hint, got)
	})
}

// normalizeHex lowercases the data of a well-formed hint (hex digits and a 0X prefix), as its re-encoding does.
func normalizeHex(hint string) string {
	b := []byte(hint)
	inData := false
	for i, c := range b {
		if c == ' ' && !inData {
			inData = true
			continue
		}
		if inData && ((c >= 'A' && c <= 'F') || c == 'X') {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
