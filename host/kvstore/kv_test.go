package kvstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

// store describes how to open one implementation for the shared suite.
type store struct {
	name string
	disk bool // survives Close and reopen
	open func(t testing.TB, dir string) KV
}

var stores = []store{
	{name: "mem", open: func(t testing.TB, dir string) KV { return NewMem() }},
	{name: "file", disk: true, open: func(t testing.TB, dir string) KV {
		s, err := NewFile(dir)
		require.NoError(t, err)
		return s
	}},
	{name: "directory", disk: true, open: func(t testing.TB, dir string) KV {
		s, err := NewDirectory(dir)
		require.NoError(t, err)
		return s
	}},
	{name: "pebble", disk: true, open: func(t testing.TB, dir string) KV {
		s, err := NewPebble(dir)
		require.NoError(t, err)
		return s
	}},
}

// testKey returns distinct keys spread over directory shards.
func testKey(i int) common.Hash {
	var k common.Hash
	k[0] = 2 // keccak256 key type
	k[1] = byte(i * 37)
	binary.BigEndian.PutUint64(k[24:], uint64(i))
	return k
}

func testValue(i, size int) []byte {
	v := make([]byte, size)
	for j := range v {
		v[j] = byte(i + j*7)
	}
	return v
}

func openTemp(t *testing.T, s store) (KV, string) {
	dir := t.TempDir()
	kv := s.open(t, dir)
	t.Cleanup(func() { kv.Close() })
	return kv, dir
}

func TestRoundTrip(t *testing.T) {
	values := []struct {
		name  string
		value []byte
	}{
		{"empty", []byte{}},
		{"nil", nil},
		{"one byte", []byte{0}},
		{"small", []byte("hello preimage")},
		{"1MiB", testValue(1, 1<<20)},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			for i, v := range values {
				t.Run(v.name, func(t *testing.T) {
					key := testKey(i)
					require.NoError(t, kv.Put(key, v.value))
					got, err := kv.Get(key)
					require.NoError(t, err)
					require.NotNil(t, got, "present values are never nil")
					require.True(t, bytes.Equal(v.value, got), "value mismatch")
				})
			}
		})
	}
}

func TestOverwrite(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			key := testKey(1)
			require.NoError(t, kv.Put(key, []byte("first, longer value")))
			require.NoError(t, kv.Put(key, []byte("second")))
			got, err := kv.Get(key)
			require.NoError(t, err)
			require.Equal(t, []byte("second"), got)
		})
	}
}

func TestMissing(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			require.NoError(t, kv.Put(testKey(1), []byte{1}))
			got, err := kv.Get(testKey(2))
			require.ErrorIs(t, err, ErrNotFound)
			require.Nil(t, got)
		})
	}
}

func TestCopies(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			key := testKey(1)
			in := []byte{1, 2, 3}
			require.NoError(t, kv.Put(key, in))
			in[0] = 0xff // the store must not alias the caller's slice

			got, err := kv.Get(key)
			require.NoError(t, err)
			require.Equal(t, []byte{1, 2, 3}, got)
			got[1] = 0xff // nor hand out its own

			again, err := kv.Get(key)
			require.NoError(t, err)
			require.Equal(t, []byte{1, 2, 3}, again)
		})
	}
}

func TestConcurrent(t *testing.T) {
	const (
		workers = 8
		keys    = 200
		shared  = 20 // extra keys every worker writes, with the same value
	)
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Go(func() {
					errs <- func() error {
						for i := range keys + shared {
							n := w*keys + i
							if i >= keys {
								n = workers*keys + i - keys
							}
							key, want := testKey(n), testValue(n, 64+n%100)
							if err := kv.Put(key, want); err != nil {
								return err
							}
							got, err := kv.Get(key)
							if err != nil {
								return err
							}
							if !bytes.Equal(want, got) {
								return fmt.Errorf("key %d: got %x, want %x", n, got, want)
							}
						}
						return nil
					}()
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			for n := range workers*keys + shared {
				got, err := kv.Get(testKey(n))
				require.NoError(t, err)
				require.Equal(t, testValue(n, 64+n%100), got)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	for _, s := range stores {
		if !s.disk {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			kv := s.open(t, dir)
			for i := range 10 {
				require.NoError(t, kv.Put(testKey(i), testValue(i, i*10)))
			}
			require.NoError(t, kv.Close())

			kv = s.open(t, dir)
			defer kv.Close()
			for i := range 10 {
				got, err := kv.Get(testKey(i))
				require.NoError(t, err)
				require.Equal(t, testValue(i, i*10), got)
			}
			_, err := kv.Get(testKey(10))
			require.ErrorIs(t, err, ErrNotFound)
		})
	}
}

func TestClosed(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			kv, _ := openTemp(t, s)
			require.NoError(t, kv.Put(testKey(1), []byte{1}))
			require.NoError(t, kv.Close())
			require.ErrorIs(t, kv.Put(testKey(2), []byte{2}), ErrClosed)
			_, err := kv.Get(testKey(1))
			require.ErrorIs(t, err, ErrClosed)
			require.NoError(t, kv.Close(), "second Close")
		})
	}
}

func BenchmarkPut(b *testing.B) {
	value := testValue(0, 1024)
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			kv := s.open(b, b.TempDir())
			defer kv.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			i := 0
			for b.Loop() {
				require.NoError(b, kv.Put(testKey(i), value))
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	const n = 1000
	value := testValue(0, 1024)
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			kv := s.open(b, b.TempDir())
			defer kv.Close()
			for i := range n {
				require.NoError(b, kv.Put(testKey(i), value))
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			i := 0
			for b.Loop() {
				_, err := kv.Get(testKey(i % n))
				require.NoError(b, err)
				i++
			}
		})
	}
}
