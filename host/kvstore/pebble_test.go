package kvstore

import (
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/stretchr/testify/require"
)

// TestPebbleRawLayout checks that keys are the 32 raw key bytes and values are
// stored as is, in both directions, using pebble directly as op-program does.
func TestPebbleRawLayout(t *testing.T) {
	value := []byte{0x00, 0x01, 0xab, 0xff}

	t.Run("read foreign", func(t *testing.T) {
		dir := t.TempDir()
		db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{}})
		require.NoError(t, err)
		require.NoError(t, db.Set(goldenKey[:], value, pebble.Sync))
		require.NoError(t, db.Set(testKey(1).Bytes(), []byte{}, pebble.Sync))
		require.NoError(t, db.Close())

		kv, err := NewPebble(dir)
		require.NoError(t, err)
		defer kv.Close()
		got, err := kv.Get(goldenKey)
		require.NoError(t, err)
		require.Equal(t, value, got)
		got, err = kv.Get(testKey(1))
		require.NoError(t, err)
		require.Equal(t, []byte{}, got)
	})

	t.Run("written raw", func(t *testing.T) {
		dir := t.TempDir()
		kv, err := NewPebble(dir)
		require.NoError(t, err)
		require.NoError(t, kv.Put(goldenKey, value))
		require.NoError(t, kv.Close())

		db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: pebbleLogger{}})
		require.NoError(t, err)
		defer db.Close()
		it, err := db.NewIter(nil)
		require.NoError(t, err)
		defer it.Close()
		var keys, values [][]byte
		for it.First(); it.Valid(); it.Next() {
			keys = append(keys, append([]byte{}, it.Key()...))
			values = append(values, append([]byte{}, it.Value()...))
		}
		require.NoError(t, it.Error())
		require.Equal(t, [][]byte{goldenKey[:]}, keys)
		require.Equal(t, [][]byte{value}, values)
	})
}
