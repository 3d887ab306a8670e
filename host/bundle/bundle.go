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
// The trailer makes a truncated file an error rather than a smaller store.
//
// # Reading untrusted bundles
//
// A bundle comes from someone else, so Read trusts none of it. Every record is checked against its key
// as the host checks a stored value (kvstore.CheckValue): keccak256 and sha256 preimages must hash to
// their key, a blob key's preimage is one 32-byte field element, a precompile answer starts with a
// status byte 0 or 1. Local keys are refused: they come from the run's configuration (the manifest or
// the command line), and a bundle that carried them could change the claim being decided. A value
// above MaxValueSize is refused, and the decompressed stream may not exceed the reader's size limit
// (DefaultMaxSize unless set), so a small file cannot decompress into gigabytes. Reader.Import streams
// the records into a new datadir that appears under its name only once the whole bundle has been read
// and checked.
package bundle

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
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
)

// DefaultMaxSize is the decompressed size a bundle may have when the reader sets no limit: several times
// the preimages of a long dispute, and bounded so that a small file cannot fill a disk.
const DefaultMaxSize uint64 = 4 << 30

// MaxValueSize bounds one preimage in a bundle. The largest preimages the program asks for are
// transactions and contract code, a few MB at most; the bound keeps one record from making the reader
// hold gigabytes.
const MaxValueSize = 64 << 20

var (
	// ErrCorrupt is wrapped by every error about a malformed bundle.
	ErrCorrupt = errors.New("corrupt bundle")
	// ErrTooLarge is returned for a bundle that decompresses to more than the reader's size limit.
	ErrTooLarge = errors.New("bundle too large")
	// ErrUnsupportedVersion is returned for a bundle of a format version this build does not read.
	ErrUnsupportedVersion = errors.New("unsupported bundle version")
)

// checkRecord checks one preimage for a bundle, on writing and on reading.
func checkRecord(key common.Hash, value []byte) error {
	if len(value) > MaxValueSize {
		return fmt.Errorf("key %s: value of %d bytes, more than the %d MiB of any preimage", key, len(value), MaxValueSize>>20)
	}
	if preimage.KeyType(key[0]) == preimage.LocalKeyType {
		return fmt.Errorf("local key %s: local keys come from the run's configuration, not from a bundle", key)
	}
	if err := kvstore.CheckValue(key, value); err != nil {
		return fmt.Errorf("key %s: %w", key, err)
	}
	return nil
}

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
	// Interop is set for a super-root claim: Rollup, L2ChainConfig, L2Head and L2OutputRoot are then
	// unused, and L2ClaimBlockNumber is the game timestamp.
	Interop *InteropRun `json:"interop,omitempty"`
}

// InteropRun is the configuration of a super-root claim: the agreed prestate, the dependency set, and each
// chain's configs in chain ID order.
type InteropRun struct {
	AgreedPrestate hexutil.Bytes     `json:"agreedPrestate"`
	DependencySet  json.RawMessage   `json:"dependencySet"`
	Chains         []InteropChainRun `json:"chains"`
}

// InteropChainRun is one chain's configs.
type InteropChainRun struct {
	Rollup        json.RawMessage `json:"rollup"`
	L2ChainConfig json.RawMessage `json:"l2ChainConfig"`
	L1ChainConfig json.RawMessage `json:"l1ChainConfig"`
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
	if ic := cfg.Interop; ic != nil {
		r.Interop = &InteropRun{AgreedPrestate: ic.AgreedPrestate}
		if r.Interop.DependencySet, err = json.Marshal(ic.DepSet); err != nil {
			return nil, fmt.Errorf("encode dependency set: %w", err)
		}
		for _, c := range ic.Chains {
			var cr InteropChainRun
			for _, f := range []struct {
				out *json.RawMessage
				v   any
			}{{&cr.Rollup, c.Rollup}, {&cr.L2ChainConfig, c.L2}, {&cr.L1ChainConfig, c.L1}} {
				if *f.out, err = json.Marshal(f.v); err != nil {
					return nil, fmt.Errorf("encode chain %d's configs: %w", c.Rollup.ChainID(), err)
				}
			}
			r.Interop.Chains = append(r.Interop.Chains, cr)
		}
		return r, nil
	}
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
	if r.Interop != nil {
		return r.interopHostConfig(cfg)
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

// interopHostConfig completes cfg with the super-root claim's configuration, checked as the host checks
// its flags.
func (r *Run) interopHostConfig(cfg *host.Config) (*host.Config, error) {
	ic := &host.InteropConfig{AgreedPrestate: r.Interop.AgreedPrestate}
	var err error
	if ic.DepSet, err = interop.ParseDependencySet(r.Interop.DependencySet); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	for i, c := range r.Interop.Chains {
		cc := &rollup.ChainConfigs{}
		if cc.Rollup, err = rollup.ParseConfig(c.Rollup); err != nil {
			return nil, fmt.Errorf("%w: chain %d: rollup config: %v", ErrCorrupt, i, err)
		}
		if cc.L2, err = rollup.ParseChainConfig(c.L2ChainConfig); err != nil {
			return nil, fmt.Errorf("%w: chain %d: l2 chain config: %v", ErrCorrupt, i, err)
		}
		if cc.L1, err = rollup.ParseChainConfig(c.L1ChainConfig); err != nil {
			return nil, fmt.Errorf("%w: chain %d: l1 chain config: %v", ErrCorrupt, i, err)
		}
		ic.Chains = append(ic.Chains, cc)
	}
	cfg.Interop = ic
	if err := ic.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
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

// Add writes one record. Values that Read would refuse (see checkRecord) are refused here, so that every
// bundle written can be read back.
func (w *Writer) Add(key common.Hash, value []byte) error {
	if err := checkRecord(key, value); err != nil {
		return err
	}
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

// sizeCap passes on at most max bytes of r; reading past them fails with ErrTooLarge.
type sizeCap struct {
	r         io.Reader
	left, max uint64
	exceeded  bool
}

func (c *sizeCap) Read(p []byte) (int, error) {
	if c.left == 0 {
		// At the limit: any more data is too much.
		var b [1]byte
		for {
			n, err := c.r.Read(b[:])
			if n > 0 {
				c.exceeded = true
				return 0, c.err()
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if uint64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= uint64(n)
	return n, err
}

func (c *sizeCap) err() error {
	return fmt.Errorf("%w: it decompresses to more than %d bytes (the limit)", ErrTooLarge, c.max)
}

// Reader reads a bundle: NewReader reads the header and manifest, ReadRecords the preimages. Nothing in
// the bundle is trusted (see the package documentation).
type Reader struct {
	gz       *gzip.Reader
	capped   *sizeCap
	br       *bufio.Reader
	manifest Manifest
	maxSize  uint64
}

// NewReader opens a bundle and reads its manifest. maxSize bounds the decompressed size of the whole
// bundle (0: DefaultMaxSize).
func NewReader(r io.Reader, maxSize uint64) (*Reader, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, corrupt("not a gzip stream: %v", err)
	}
	capped := &sizeCap{r: gz, left: maxSize, max: maxSize}
	br := &Reader{gz: gz, capped: capped, br: bufio.NewReaderSize(capped, 1<<16), maxSize: maxSize}
	if err := br.readHeader(); err != nil {
		gz.Close()
		return nil, err
	}
	return br, nil
}

// Manifest returns the bundle's manifest.
func (r *Reader) Manifest() *Manifest { return &r.manifest }

// Close releases the decompressor; it does not close the underlying reader.
func (r *Reader) Close() error { return r.gz.Close() }

// fail reports a read error: the size limit if that is what stopped the read, else damage.
func (r *Reader) fail(format string, args ...any) error {
	if r.capped.exceeded {
		return r.capped.err()
	}
	return corrupt(format, args...)
}

func (r *Reader) readHeader() error {
	var hdr [16]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return r.fail("header: %v", err)
	}
	if string(hdr[:8]) != Magic {
		return corrupt("bad magic %q", hdr[:8])
	}
	if v := binary.BigEndian.Uint32(hdr[8:]); v != Version {
		return fmt.Errorf("%w %d (this build reads version %d)", ErrUnsupportedVersion, v, Version)
	}
	n := binary.BigEndian.Uint32(hdr[12:])
	if n > maxManifest {
		return corrupt("manifest of %d bytes", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r.br, js); err != nil {
		return r.fail("manifest: %v", err)
	}
	if err := json.Unmarshal(js, &r.manifest); err != nil {
		return corrupt("manifest: %v", err)
	}
	return nil
}

// ReadRecords reads every record into kv, checking each, up to the trailer, and returns how many it
// read. Memory use is bounded by one record, whatever the bundle holds; kv decides where records go.
func (r *Reader) ReadRecords(kv kvstore.KV) (uint64, error) {
	br := r.br
	var count uint64
	var rec [1 + 32 + 4]byte
	for {
		if _, err := io.ReadFull(br, rec[:1]); err != nil {
			return count, r.fail("record %d: %v (truncated?)", count, err)
		}
		if rec[0] == tagEnd {
			var t [8]byte
			if _, err := io.ReadFull(br, t[:]); err != nil {
				return count, r.fail("trailer: %v", err)
			}
			if want := binary.BigEndian.Uint64(t[:]); want != count {
				return count, corrupt("trailer says %d records, read %d", want, count)
			}
			break
		}
		if rec[0] != tagRecord {
			return count, corrupt("record %d: bad tag %#x", count, rec[0])
		}
		if _, err := io.ReadFull(br, rec[1:]); err != nil {
			return count, r.fail("record %d: %v", count, err)
		}
		var key common.Hash
		copy(key[:], rec[1:33])
		size := binary.BigEndian.Uint32(rec[33:])
		if size > MaxValueSize {
			return count, corrupt("record %d (key %s): value of %d bytes, more than the %d MiB of any preimage", count, key, size, MaxValueSize>>20)
		}
		// Decompressed bytes not yet read, buffered ones included.
		if left := r.capped.left + uint64(br.Buffered()); uint64(size) > left {
			return count, fmt.Errorf("%w: record %d (key %s) of %d bytes goes past the limit of %d bytes", ErrTooLarge, count, key, size, r.maxSize)
		}
		value := make([]byte, size)
		if _, err := io.ReadFull(br, value); err != nil {
			return count, r.fail("record %d (key %s): %v", count, key, err)
		}
		if err := checkRecord(key, value); err != nil {
			return count, fmt.Errorf("%w: record %d: %w", ErrCorrupt, count, err)
		}
		if err := kv.Put(key, value); err != nil {
			return count, err
		}
		count++
	}
	// Anything after the trailer (other than the gzip end) is damage too.
	if _, err := br.ReadByte(); err != io.EOF {
		if err == nil {
			return count, corrupt("data after the trailer")
		}
		return count, r.fail("after the trailer: %v", err)
	}
	return count, nil
}

// Read reads a whole bundle into kv (NewReader, then ReadRecords) and returns its manifest and the number
// of records loaded.
func Read(r io.Reader, kv kvstore.KV, maxSize uint64) (*Manifest, uint64, error) {
	br, err := NewReader(r, maxSize)
	if err != nil {
		return nil, 0, err
	}
	defer br.Close()
	n, err := br.ReadRecords(kv)
	if err != nil {
		return nil, n, err
	}
	return br.Manifest(), n, nil
}

// Import reads the records of a bundle (as ReadRecords) into a new datadir dir in the given format, which
// must not exist yet. The records go to a temporary directory next to dir, renamed to dir only after
// the whole bundle was read and checked: dir is complete or absent, never half-written.
func (r *Reader) Import(dir string, format kvstore.Format) (uint64, error) {
	if _, err := os.Lstat(dir); err == nil {
		return 0, fmt.Errorf("datadir %s already exists: unpack a bundle into a new directory", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".partial-*")
	if err != nil {
		return 0, fmt.Errorf("create datadir: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700; match a datadir the host makes
		return 0, err
	}
	kv, _, err := kvstore.Open(tmp, format)
	if err != nil {
		return 0, err
	}
	n, err := r.ReadRecords(kv)
	if cerr := kv.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close datadir: %w", cerr)
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return n, fmt.Errorf("move the unpacked datadir into place: %w", err)
	}
	done = true
	return n, nil
}
