// Package derive is the OP Stack derivation pipeline: it turns the L1 chain up to an L1 head into the payload
// attributes of the L2 blocks after a safe head (specs/protocol/derivation.md and the per-fork pages).
//
// In the data flow it sits between the program's data sources and its L2 engine: the client (client/)
// builds a Pipeline over L1 (L1Fetcher, BlobFetcher: headers, transactions, receipts and blobs read through
// the preimage oracle) and the L2 chain it builds (L2Source), resets it to the agreed safe head, and executes
// each DerivedAttributes it returns. The package reads nothing else: no network, no clock, no global state.
//
// The stages, pulled from the last one (one file each):
//
//   - L1 traversal (l1_traversal.go): the L1 origin, one block at a time up to the L1 head, and the system
//     config updates of each block (system_config.go);
//   - L1 retrieval (l1_retrieval.go, blob_data.go): the batcher transactions' calldata or blobs;
//   - frame queue (frame_queue.go, frame.go): frames parsed from batcher data, Holocene's in-order pruning;
//   - channel bank (channel_bank.go, channel.go): channels assembled from frames, timed out and pruned before
//     Holocene, one staging channel from Holocene;
//   - channel reader (channel_in_reader.go, channel_reader.go, compression.go): zlib or brotli channels read
//     as batches (batch.go, singular_batch.go, span_batch*.go);
//   - batch stage (batch_mux.go): the BatchQueue before Holocene (batch_queue.go), the BatchStage from
//     Holocene (batch_stage.go), both judging batches with the rules of batch_validity.go;
//   - attributes (attributes.go, l1_info.go, deposit*.go, upgrade*.go): the L1 info deposit, user deposits,
//     network upgrade transactions and the batch's transactions.
//
// pipeline.go strings the stages together: the reset walk-back, the loop that advances L1, the switch to
// the Holocene stages (HoloceneTransform), and what happens to a payload the engine refuses
// (InvalidPayload). channel_out.go and the encoders are the batcher's side, for tests, the devnet and
// `faultproof batches`.
//
// The chain is what op-node v1.19.6 derives. Where op-node and the specs disagree, this package does what
// op-node does, and where op-node stalls or errors it reaches the outcome op-program would; each such rule
// says so in a comment with "op-node:" at the rule (BatchRule's list, Channel.Size, pruneHoloceneFrames,
// HoloceneTransform, InvalidPayload), and crosscheck/ runs both implementations side by side
// (crosscheck/batches: a differential fuzzer of the pipeline).
//
// The pipeline runs inside the fault proof VM on data a batcher posted: it is deterministic, never panics on
// input, and checks every length against the remaining input or a protocol bound before it allocates.
package derive
