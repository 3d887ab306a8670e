package derive

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/rlp"
)

// BatchType is the batch_version byte that starts an encoded batch (specs/protocol/derivation.md "Batch
// Format").
type BatchType uint8

const (
	// SingularBatchType is a batch for one L2 block.
	SingularBatchType BatchType = 0
	// SpanBatchType is a span batch (Delta): a range of consecutive L2 blocks.
	SpanBatchType BatchType = 1
)

func (t BatchType) String() string {
	switch t {
	case SingularBatchType:
		return "singular"
	case SpanBatchType:
		return "span"
	}
	return fmt.Sprintf("batch-type(%d)", uint8(t))
}

// Errors of batch decoding.
var (
	ErrEmptyBatch       = errors.New("batch is empty")
	ErrUnknownBatchType = errors.New("unknown batch type")
	errNoBatch          = errors.New("batch data holds no batch")
)

// BatchData is an encoded batch, batch_version ++ content, in decoded form: a *SingularBatch or a
// *RawSpanBatch. Decoding does not depend on forks; span batches are only valid from Delta, which the
// caller checks. In a channel each batch is wrapped as an RLP byte string (EncodeRLP / DecodeRLP).
type BatchData struct {
	singular *SingularBatch
	span     *RawSpanBatch
}

// NewSingularBatchData wraps a singular batch.
func NewSingularBatchData(b *SingularBatch) *BatchData { return &BatchData{singular: b} }

// NewSpanBatchData wraps a span batch.
func NewSpanBatchData(b *RawSpanBatch) *BatchData { return &BatchData{span: b} }

// Type is the batch type.
func (d *BatchData) Type() BatchType {
	if d.span != nil {
		return SpanBatchType
	}
	return SingularBatchType
}

// Singular is the singular batch, if the batch is one.
func (d *BatchData) Singular() (*SingularBatch, bool) { return d.singular, d.singular != nil }

// Span is the span batch in its wire form, if the batch is one; see RawSpanBatch.Derive.
func (d *BatchData) Span() (*RawSpanBatch, bool) { return d.span, d.span != nil }

// MarshalBinary encodes the batch as batch_version ++ content.
func (d *BatchData) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if err := d.encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (d *BatchData) encode(buf *bytes.Buffer) error {
	switch {
	case d.span != nil && d.singular != nil:
		return errors.New("batch data holds two batches")
	case d.span != nil:
		buf.WriteByte(byte(SpanBatchType))
		return d.span.encode(buf)
	case d.singular != nil:
		buf.WriteByte(byte(SingularBatchType))
		return d.singular.encode(buf)
	}
	return errNoBatch
}

// UnmarshalBinary decodes batch_version ++ content. Bytes after a complete content are ignored, as the spec
// allows. A decoded span batch may share memory with data.
func (d *BatchData) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return ErrEmptyBatch
	}
	switch BatchType(data[0]) {
	case SingularBatchType:
		var b SingularBatch
		if err := b.decode(data[1:]); err != nil {
			return fmt.Errorf("singular batch: %w", err)
		}
		*d = BatchData{singular: &b}
	case SpanBatchType:
		var b RawSpanBatch
		if err := b.decode(data[1:]); err != nil {
			return fmt.Errorf("span batch: %w", err)
		}
		*d = BatchData{span: &b}
	default:
		return fmt.Errorf("%w: %d", ErrUnknownBatchType, data[0])
	}
	return nil
}

// EncodeRLP writes the batch as it appears in a channel: an RLP byte string holding MarshalBinary.
func (d *BatchData) EncodeRLP(w io.Writer) error {
	var buf bytes.Buffer
	if err := d.encode(&buf); err != nil {
		return err
	}
	return rlp.Encode(w, buf.Bytes())
}

// DecodeRLP reads one batch as it appears in a channel (see EncodeRLP).
func (d *BatchData) DecodeRLP(s *rlp.Stream) error {
	data, err := s.Bytes()
	if err != nil {
		return err
	}
	return d.UnmarshalBinary(data)
}
