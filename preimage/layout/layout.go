// Package layout says where chain data lives in the preimage store: for each kind of data a hint
// announces (a block's header, transactions and receipts, a blob, a precompile call, an output root), the
// keys and values a host stores and the program reads. The host's routes (host/prefetch), the devnet's
// preimage set (devnet) and the program (client/...) all use it, so that the layout is written once.
//
// In the data flow it sits just below package preimage, whose key types it uses: the program hints and
// reads keys, a host answers the hint by storing what this package lays out, and the program checks each
// value against its key (preimage.Verify) before use.
//
// Values are laid out as op-program's host stores them, so that datadirs are interchangeable:
//
//   - a block header (RLP) under the keccak256 key of the block hash (Header);
//   - a block's transactions or receipts as the nodes of their list trie, each under its keccak256 key,
//     the root checked against the header's (List; from op-geth's types, Block and Receipts);
//   - a blob's KZG commitment under the sha256 key of its versioned hash, and each of its 4096 field
//     elements under its blob key (FieldElementKey), with the key's 80-byte preimage under its keccak256
//     key (Blob);
//   - a precompile call (address ++ required gas ++ input) under its keccak256 key, and the answer (a
//     status byte ++ the return data) under the precompile key of the call's hash (Precompile);
//   - a version-0 output under the keccak256 key of its output root (Output).
package layout

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// Put receives each preimage a layout function produces: its key and the value stored under it.
type Put func(key preimage.Key, value []byte)

// Header lays out a block header: its RLP encoding under the keccak256 key of the block hash. The caller
// vouches that keccak256(headerRLP) is hash (a host checks every value against its key before it serves
// it).
func Header(put Put, hash common.Hash, headerRLP []byte) {
	put(preimage.Keccak256Key(hash), headerRLP)
}

// Output lays out a version-0 output under the keccak256 key of its root, where the program reads the
// agreed output.
func Output(put Put, out *rollup.Output) {
	put(preimage.Keccak256Key(out.Root()), out.Marshal())
}
