// Package bundle packs the preimages of one dispute, with the host configuration needed to replay it, into a
// single file that can be replayed offline with 'faultproof run --bundle'.
//
// # Format (version 1)
//
// The whole file is one gzip stream. Decompressed, it is:
//
//	magic     8 bytes  "FPBUNDLE"
//	version   uint32   big endian, 1
//	manifest  uint32 length (big endian) + that many bytes of JSON (see Manifest)
//	records   any number of: tag byte 0x01, 32-byte key, uint32 value length (big endian), value
//	trailer   tag byte 0x00, uint64 record count (big endian)
//
// The trailer makes a truncated file an error rather than a smaller store. Every record is checked against
// its key (preimage.Verify) when the bundle is read.
package bundle

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// Magic opens every bundle (after decompression).
const Magic = "FPBUNDLE"

// Version is the format version written by Writer.
const Version uint32 = 1

const (
	tagRecord = 0x01
	tagEnd    = 0x00

	maxManifest = 64 << 20
	maxValue    = 1 << 30
)

// ErrCorrupt is wrapped by every error about a malformed bundle.
var ErrCorrupt = errors.New("corrupt bundle")

// Manifest is the JSON section: what the run needs besides the preimages. Without a Run the bundle only
// carries preimages, and the run's flags must be given on the command line.
type Manifest struct {
	Version uint32 `json:"version"`
	// Source is the datadir the preimages came from, for information.
	Source string `json:"source,omitempty"`
	Run    *Run   `json:"run,omitempty"`
}

// Run is the host configuration of the dispute, with the chain configs inlined.
type Run struct {
	Rollup              json.RawMessage `json:"rollup"`
	L2ChainConfig       json.RawMessage `json:"l2ChainConfig"`
	L1ChainConfig       json.RawMessage `json:"l1ChainConfig,omitempty"`
	IsCustomChainConfig bool            `json:"customChainConfig"`
	L1Head              common.Hash     `json:"l1Head"`
	L2Head              common.Hash     `json:"l2Head"`
	L2OutputRoot        common.Hash     `json:"l2OutputRoot"`
	L2Claim             common.Hash     `json:"l2Claim"`
	L2ClaimBlockNumber  uint64          `json:"l2BlockNumber"`
}

// RunFromConfig captures the replay-relevant part of a host configuration.
func RunFromConfig(cfg *host.Config) (*Run, error) {
	r := &Run{
		IsCustomChainConfig: cfg.IsCustomChainConfig,
		L1Head:              cfg.L1Head,
		L2Head:              cfg.L2Head,
		L2OutputRoot:        cfg.L2OutputRoot,
		L2Claim:             cfg.L2Claim,
		L2ClaimBlockNumber:  cfg.L2ClaimBlockNumber,
	}
	var err error
	if r.Rollup, err = json.Marshal(cfg.Rollup); err != nil {
		return nil, fmt.Errorf("encode rollup config: %w", err)
	}
	if r.L2ChainConfig, err = json.Marshal(cfg.L2ChainConfig); err != nil {
		return nil, fmt.Errorf("encode l2 chain config: %w", err)
	}
	if cfg.L1ChainConfig != nil {
		if r.L1ChainConfig, err = json.Marshal(cfg.L1ChainConfig); err != nil {
			return nil, fmt.Errorf("encode l1 chain config: %w", err)
		}
	}
	return r, nil
}

// HostConfig rebuilds the host configuration of the run (without datadir: the caller serves the bundle's
// store through host.Host.Store).
func (r *Run) HostConfig() (*host.Config, error) {
	cfg := &host.Config{
		IsCustomChainConfig: r.IsCustomChainConfig,
		L1Head:              r.L1Head,
		L2Head:              r.L2Head,
		L2OutputRoot:        r.L2OutputRoot,
		L2Claim:             r.L2Claim,
		L2ClaimBlockNumber:  r.L2ClaimBlockNumber,
		L1RPCKind:           "standard",
	}
	var err error
	if cfg.Rollup, err = rollup.ParseConfig(r.Rollup); err != nil {
		return nil, fmt.Errorf("%w: rollup config: %v", ErrCorrupt, err)
	}
	if cfg.L2ChainConfig, err = rollup.ParseChainConfig(r.L2ChainConfig); err != nil {
		return nil, fmt.Errorf("%w: l2 chain config: %v", ErrCorrupt, err)
	}
	if len(r.L1ChainConfig) > 0 && string(r.L1ChainConfig) != "null" {
		if cfg.L1ChainConfig, err = rollup.ParseChainConfig(r.L1ChainConfig); err != nil {
			return nil, fmt.Errorf("%w: l1 chain config: %v", ErrCorrupt, err)
		}
	}
	return cfg, nil
}

// Writer writes a bundle. Call Close to write the trailer and flush the compressor.
type Writer struct {
	gz    *gzip.Writer
	bw    *bufio.Writer
	count uint64
	buf   [1 + 32 + 4]byte
}

// NewWriter writes the header and manifest to w; the trailer written by Close holds the record count.
func NewWriter(w io.Writer, m Manifest) (*Writer, error) {
	m.Version = Version
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(gz, 1<<16)
	var hdr [8 + 4 + 4]byte
	copy(hdr[:], Magic)
	binary.BigEndian.PutUint32(hdr[8:], Version)
	binary.BigEndian.PutUint32(hdr[12:], uint32(len(js)))
	bw.Write(hdr[:])
	if _, err := bw.Write(js); err != nil {
		return nil, err
	}
	return &Writer{gz: gz, bw: bw}, nil
}

// Add writes one record.
func (w *Writer) Add(key common.Hash, value []byte) error {
	w.buf[0] = tagRecord
	copy(w.buf[1:], key[:])
	binary.BigEndian.PutUint32(w.buf[33:], uint32(len(value)))
	if _, err := w.bw.Write(w.buf[:]); err != nil {
		return err
	}
	if _, err := w.bw.Write(value); err != nil {
		return err
	}
	w.count++
	return nil
}

// Count is the number of records written so far.
func (w *Writer) Count() uint64 { return w.count }

// Close writes the trailer and flushes; it does not close the underlying writer.
func (w *Writer) Close() error {
	var t [9]byte
	t[0] = tagEnd
	binary.BigEndian.PutUint64(t[1:], w.count)
	if _, err := w.bw.Write(t[:]); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	return w.gz.Close()
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Read reads a bundle into kv, verifying every record against its key, and returns its manifest and the
// number of records loaded.
func Read(r io.Reader, kv kvstore.KV) (*Manifest, uint64, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, 0, corrupt("not a gzip stream: %v", err)
	}
	defer gz.Close()
	br := bufio.NewReaderSize(gz, 1<<16)
	var hdr [16]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, 0, corrupt("header: %v", err)
	}
	if string(hdr[:8]) != Magic {
		return nil, 0, corrupt("bad magic %q", hdr[:8])
	}
	if v := binary.BigEndian.Uint32(hdr[8:]); v != Version {
		return nil, 0, fmt.Errorf("unsupported bundle version %d (this build reads version %d)", v, Version)
	}
	n := binary.BigEndian.Uint32(hdr[12:])
	if n > maxManifest {
		return nil, 0, corrupt("manifest of %d bytes", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(br, js); err != nil {
		return nil, 0, corrupt("manifest: %v", err)
	}
	var m Manifest
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, 0, corrupt("manifest: %v", err)
	}
	var count uint64
	var rec [1 + 32 + 4]byte
	for {
		if _, err := io.ReadFull(br, rec[:1]); err != nil {
			return nil, count, corrupt("record %d: %v (truncated?)", count, err)
		}
		if rec[0] == tagEnd {
			var t [8]byte
			if _, err := io.ReadFull(br, t[:]); err != nil {
				return nil, count, corrupt("trailer: %v", err)
			}
			if want := binary.BigEndian.Uint64(t[:]); want != count {
				return nil, count, corrupt("trailer says %d records, read %d", want, count)
			}
			break
		}
		if rec[0] != tagRecord {
			return nil, count, corrupt("record %d: bad tag %#x", count, rec[0])
		}
		if _, err := io.ReadFull(br, rec[1:]); err != nil {
			return nil, count, corrupt("record %d: %v", count, err)
		}
		var key common.Hash
		copy(key[:], rec[1:33])
		size := binary.BigEndian.Uint32(rec[33:])
		if size > maxValue {
			return nil, count, corrupt("record %d: value of %d bytes", count, size)
		}
		value := make([]byte, size)
		if _, err := io.ReadFull(br, value); err != nil {
			return nil, count, corrupt("record %d (key %s): %v", count, key, err)
		}
		if err := preimage.Verify(key, value); err != nil {
			return nil, count, fmt.Errorf("%w: record %d: %w", ErrCorrupt, count, err)
		}
		if err := kv.Put(key, value); err != nil {
			return nil, count, err
		}
		count++
	}
	// Anything after the trailer (other than the gzip end) is damage too.
	if _, err := br.ReadByte(); err != io.EOF {
		if err == nil {
			return nil, count, corrupt("data after the trailer")
		}
		return nil, count, corrupt("after the trailer: %v", err)
	}
	return &m, count, nil
}
