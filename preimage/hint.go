package preimage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Hint is a message to the host about the preimages the program will ask for next. Its wire form is
// "<type> 0x<hex data>"; the host may use it to fetch data, and must not need it to answer.
type Hint interface {
	Hint() string
}

// Hinter sends hints; it returns once the host has acknowledged the hint.
type Hinter interface {
	Hint(v Hint) error
}

// RawHint is a hint already in its string form.
type RawHint string

func (h RawHint) Hint() string { return string(h) }

// Hint types sent by the program, with the payload each carries (all hex-encoded in one token).
const (
	HintL1BlockHeader    = "l1-block-header"    // block hash
	HintL1Transactions   = "l1-transactions"    // block hash
	HintL1Receipts       = "l1-receipts"        // block hash
	HintL1Blob           = "l1-blob"            // versioned hash ++ [index(8)] ++ L1 timestamp(8)
	HintL1Precompile     = "l1-precompile"      // address ++ input (legacy)
	HintL1PrecompileV2   = "l1-precompile-v2"   // address ++ required gas(8) ++ input
	HintL2BlockHeader    = "l2-block-header"    // block hash [++ chain ID(8)]
	HintL2Transactions   = "l2-transactions"    // block hash [++ chain ID(8)]
	HintL2Receipts       = "l2-receipts"        // block hash [++ chain ID(8)]
	HintL2Code           = "l2-code"            // code hash [++ chain ID(8)]
	HintL2StateNode      = "l2-state-node"      // node hash [++ chain ID(8)]
	HintL2Output         = "l2-output"          // output root [++ chain ID(8)]
	HintL2AccountProof   = "l2-account-proof"   // block hash ++ address ++ chain ID(8)
	HintL2PayloadWitness = "l2-payload-witness" // JSON {parentBlockHash, payloadAttributes, chainID}
	HintL2BlockData      = "l2-block-data"      // agreed block hash ++ block hash ++ chain ID(8)
	HintAgreedPreState   = "agreed-pre-state"   // prestate root
)

// Hint types only kona's programs send (kona's names, which a host serves beside op-program's).
const (
	HintL2OutputRoot          = "l2-output-root"           // output root ++ chain ID(8): kona's l2-output
	HintL2AccountStorageProof = "l2-account-storage-proof" // block hash (or number(8)) ++ address ++ slot ++ chain ID(8)
)

// TypedHint is a hint made of a type and binary data.
type TypedHint struct {
	Type string
	Data []byte
}

func (h TypedHint) Hint() string { return h.Type + " " + hexutil.Encode(h.Data) }

// ErrMalformedHint is returned for a hint that is not "<type> 0x<hex>".
var ErrMalformedHint = errors.New("malformed hint")

// ParseHint splits a hint at its first space and decodes the 0x-prefixed hex data.
func ParseHint(hint string) (typ string, data []byte, err error) {
	typ, hexData, ok := strings.Cut(hint, " ")
	if !ok {
		return "", nil, fmt.Errorf("%w %q: no space between type and data", ErrMalformedHint, truncate(hint))
	}
	if typ == "" {
		return "", nil, fmt.Errorf("%w %q: empty type", ErrMalformedHint, truncate(hint))
	}
	data, err = hexutil.Decode(hexData)
	if err != nil {
		return "", nil, fmt.Errorf("%w %q: data: %w", ErrMalformedHint, truncate(hint), err)
	}
	return typ, data, nil
}

// truncate keeps error messages readable when a hint carries a large payload.
func truncate(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// HintWriter is the program side of the hint channel: a 4-byte big-endian length and the hint, then it
// waits for the host's one-byte acknowledgement, so that the host has seen the hint before the requests it
// announces.
type HintWriter struct {
	rw io.ReadWriter
}

// NewHintWriter returns a writer over the program's end of a hint channel.
func NewHintWriter(rw io.ReadWriter) *HintWriter {
	return &HintWriter{rw: rw}
}

// Hint sends one hint and waits for its acknowledgement.
func (hw *HintWriter) Hint(v Hint) error {
	s := v.Hint()
	if uint64(len(s)) > 0xFFFFFFFF {
		return fmt.Errorf("hint of %d bytes is too long for its 4-byte length prefix", len(s))
	}
	// Prefix and payload in one write: a VM forwards a hint once it has seen it whole.
	msg := make([]byte, 4+len(s))
	binary.BigEndian.PutUint32(msg[:4], uint32(len(s)))
	copy(msg[4:], s)
	if _, err := hw.rw.Write(msg); err != nil {
		return fmt.Errorf("write hint %q: %w", truncate(s), err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(hw.rw, ack[:]); err != nil {
		return fmt.Errorf("read acknowledgement of hint %q: %w", truncate(s), err)
	}
	return nil
}

// HintHandler acts on one hint string.
type HintHandler func(hint string) error

// HintReader is the host side of the hint channel.
type HintReader struct {
	rw io.ReadWriter
}

// NewHintReader returns a reader over the host's end of a hint channel.
func NewHintReader(rw io.ReadWriter) *HintReader {
	return &HintReader{rw: rw}
}

// NextHint reads one hint, passes it to handle and acknowledges it. The acknowledgement is written even
// when handle fails, so the program is never left waiting; the handler's error is returned after it.
// io.EOF means the program closed the channel cleanly between hints.
func (hr *HintReader) NextHint(handle HintHandler) error {
	var lenBuf [4]byte
	if _, err := io.ReadFull(hr.rw, lenBuf[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("read hint length: %w", err)
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	payload, err := readSized(hr.rw, uint64(n))
	if err != nil {
		return fmt.Errorf("read %d-byte hint: %w", n, err)
	}
	handleErr := handle(string(payload))
	if _, err := hr.rw.Write([]byte{0}); err != nil {
		return errors.Join(handleErr, fmt.Errorf("write hint acknowledgement: %w", err))
	}
	if handleErr != nil {
		return fmt.Errorf("handle hint %q: %w", truncate(string(payload)), handleErr)
	}
	return nil
}
