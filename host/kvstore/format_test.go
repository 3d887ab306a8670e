package kvstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"file", FormatFile, true},
		{"directory", FormatDirectory, true},
		{"pebble", FormatPebble, true},
		{"", "", false},
		{"Pebble", "", false},
		{"leveldb", "", false},
		{"memory", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, ErrUnknownFormat)
				require.ErrorContains(t, err, "file, directory, pebble")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	for _, f := range Formats {
		got, err := ParseFormat(string(f))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
}

func storeFormat(kv KV) Format {
	switch kv.(type) {
	case *File:
		return FormatFile
	case *Directory:
		return FormatDirectory
	case *Pebble:
		return FormatPebble
	}
	return ""
}

func TestOpenFormatMarker(t *testing.T) {
	tests := []struct {
		name      string
		marker    *string // nil: no marker file
		requested Format
		want      Format
		wantErr   string // substring; the marker path is checked as well
	}{
		{name: "absent file", requested: FormatFile, want: FormatFile},
		{name: "absent directory", requested: FormatDirectory, want: FormatDirectory},
		{name: "absent pebble", requested: FormatPebble, want: FormatPebble},
		{name: "absent default", requested: "", want: FormatDirectory},
		{name: "same", marker: ptr("pebble"), requested: FormatPebble, want: FormatPebble},
		{name: "overrides", marker: ptr("file"), requested: FormatPebble, want: FormatFile},
		{name: "overrides default", marker: ptr("pebble"), requested: "", want: FormatPebble},
		{name: "whitespace", marker: ptr(" directory\n"), requested: FormatFile, want: FormatDirectory},
		{name: "unknown", marker: ptr("leveldb"), requested: FormatFile, wantErr: `"leveldb"`},
		{name: "empty", marker: ptr(""), requested: FormatFile, wantErr: `""`},
		{name: "case", marker: ptr("File"), requested: FormatFile, wantErr: `"File"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "kvformat")
			if tt.marker != nil {
				require.NoError(t, os.WriteFile(marker, []byte(*tt.marker), 0o644))
			}
			kv, got, err := Open(dir, tt.requested)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUnknownFormat)
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, marker)
				return
			}
			require.NoError(t, err)
			defer kv.Close()
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want, storeFormat(kv))

			data, err := os.ReadFile(marker)
			require.NoError(t, err)
			if tt.marker == nil {
				require.Equal(t, string(tt.want), string(data), "exact marker bytes")
			} else {
				require.Equal(t, *tt.marker, string(data), "marker left alone")
			}
			// The marker is written through a temp file that must be gone.
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				require.NotContains(t, e.Name(), ".tmp-")
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestOpenMemory(t *testing.T) {
	for _, f := range append([]Format{""}, Formats...) {
		kv, got, err := Open("", f)
		require.NoError(t, err)
		require.IsType(t, &Mem{}, kv)
		require.Equal(t, Format(""), got)
		require.NoError(t, kv.Close())
	}
}

func TestOpenInvalidRequest(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Open(dir, "leveldb")
	require.ErrorIs(t, err, ErrUnknownFormat)
	_, err = os.Stat(filepath.Join(dir, "kvformat"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing recorded for a bad request")
}

func TestOpenCreatesDatadir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	kv, format, err := Open(dir, FormatFile)
	require.NoError(t, err)
	defer kv.Close()
	require.Equal(t, FormatFile, format)
	require.FileExists(t, filepath.Join(dir, "kvformat"))
}

func TestOpenReopenKeepsData(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			kv, _, err := Open(dir, f)
			require.NoError(t, err)
			require.NoError(t, kv.Put(goldenKey, []byte("kept")))
			require.NoError(t, kv.Close())

			// Asking for another format must not hide the data.
			for _, other := range Formats {
				kv, got, err := Open(dir, other)
				require.NoError(t, err)
				require.Equal(t, f, got)
				v, err := kv.Get(goldenKey)
				require.NoError(t, err)
				require.Equal(t, []byte("kept"), v)
				require.NoError(t, kv.Close())
			}
		})
	}
}

// TestOpenRace opens a fresh datadir from many goroutines asking for different
// formats: exactly one format must be recorded and reported to all of them.
func TestOpenRace(t *testing.T) {
	for round := range 10 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			dir := t.TempDir()
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				results []Format
				errs    []error
			)
			for i := range 8 {
				want := []Format{FormatFile, FormatDirectory}[i%2]
				wg.Go(func() {
					kv, got, err := Open(dir, want)
					if err == nil {
						err = kv.Close()
					}
					mu.Lock()
					defer mu.Unlock()
					results = append(results, got)
					errs = append(errs, err)
				})
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "kvformat"))
			require.NoError(t, err)
			for _, got := range results {
				require.Equal(t, Format(data), got)
			}
		})
	}
}
