package kvstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/log"
)

// Format is the on-disk layout of a store.
type Format string

const (
	FormatFile      Format = "file"
	FormatDirectory Format = "directory"
	FormatPebble    Format = "pebble"

	// DefaultFormat is used by Open when no format is requested.
	DefaultFormat = FormatDirectory
)

// Formats lists the supported on-disk formats.
var Formats = []Format{FormatFile, FormatDirectory, FormatPebble}

// ErrUnknownFormat is returned for a format name that is not in Formats.
var ErrUnknownFormat = errors.New("unknown kv format")

// formatMarker is the file in the datadir recording its format, as op-program
// and kona do, so that a datadir is always reopened with the layout it was
// written in.
const formatMarker = "kvformat"

// ParseFormat parses a format name as given on the command line.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, s, formatList())
	}
	return f, nil
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Open opens the store in dir and returns it with the format actually used.
// dir == "" gives a memory store and the empty Format. An empty format means
// DefaultFormat.
//
// The marker file <dir>/kvformat, if present, overrides format. If absent, it is
// written with format. An unknown recorded value is an error.
func Open(dir string, format Format) (KV, Format, error) {
	if dir == "" {
		return NewMem(), "", nil
	}
	if format == "" {
		format = DefaultFormat
	}
	if _, err := ParseFormat(string(format)); err != nil {
		return nil, "", err
	}
	if err := ensureDir(dir); err != nil {
		return nil, "", err
	}
	recorded, err := readFormat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		recorded, err = recordFormat(dir, format)
	}
	if err != nil {
		return nil, "", err
	}
	if recorded != format {
		log.Info("Using kv format recorded in datadir", "datadir", dir, "format", recorded, "requested", format)
	}
	var kv KV
	switch recorded {
	case FormatFile:
		kv, err = NewFile(dir)
	case FormatDirectory:
		kv, err = NewDirectory(dir)
	case FormatPebble:
		kv, err = NewPebble(dir)
	}
	if err != nil {
		return nil, "", err
	}
	return kv, recorded, nil
}

// readFormat returns the format recorded in dir, or an error satisfying
// errors.Is(err, fs.ErrNotExist) if there is none.
func readFormat(dir string) (Format, error) {
	path := filepath.Join(dir, formatMarker)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("kvstore: read format: %w", err)
	}
	f := Format(strings.TrimSpace(string(data)))
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("kvstore: %w %q in %s", ErrUnknownFormat, f, path)
	}
	return f, nil
}

// recordFormat writes the marker unless another process got there first, in
// which case the format it recorded is returned. Hard-linking a complete temp
// file into place makes the create both atomic and exclusive.
func recordFormat(dir string, format Format) (Format, error) {
	f, err := os.CreateTemp(dir, formatMarker+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("kvstore: record format: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(string(format))
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp uses 0600; match a plain os.WriteFile
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("kvstore: record format: %w", err)
	}
	path := filepath.Join(dir, formatMarker)
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return readFormat(dir)
	}
	if err != nil {
		// Not every filesystem has hard links; a rename is still atomic.
		if err := os.Rename(tmp, path); err != nil {
			return "", fmt.Errorf("kvstore: record format: %w", err)
		}
	}
	log.Info("Recorded kv format in datadir", "datadir", dir, "format", format)
	return format, nil
}
