// Package derive implements parts of the OP Stack derivation pipeline (specs/protocol/derivation.md and the
// per-fork pages).
//
// Among them are the data codecs of batch submission ("Batch Submission Wire Format", delta/span-batches.md,
// fjord/derivation.md, holocene/derivation.md, isthmus/derivation.md):
//
//   - batcher transactions and channel frames (frame.go),
//   - channels assembled from frames, with the pre-Holocene and Holocene frame rules (channel.go),
//   - channel compression: zlib, and from Fjord the versioned brotli format (compression.go,
//     channel_reader.go for reading, channel_out.go for writing),
//   - batches: singular batches (type 0) and span batches (type 1), encoded and decoded
//     (batch.go, singular_batch.go, span_batch*.go).
//
// The codecs stop where the pipeline stages start: frame queue, channel bank (timeouts, pruning) and batch
// queue (batch validity) use them.
//
// The codecs run inside the fault proof VM on data a batcher posted: they are deterministic, never panic on
// input, and check every length against the remaining input or a protocol bound before they allocate.
package derive
