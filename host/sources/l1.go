package sources

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// RPCKind names the kind of L1 node, as --l1.rpckind does; it decides how receipts are fetched.
type RPCKind string

// The kinds --l1.rpckind accepts (op-node's names).
const (
	RPCKindAlchemy    RPCKind = "alchemy"
	RPCKindQuickNode  RPCKind = "quicknode"
	RPCKindInfura     RPCKind = "infura"
	RPCKindParity     RPCKind = "parity"
	RPCKindNethermind RPCKind = "nethermind"
	RPCKindDebugGeth  RPCKind = "debug_geth"
	RPCKindErigon     RPCKind = "erigon"
	RPCKindBasic      RPCKind = "basic"
	RPCKindAny        RPCKind = "any"
	RPCKindStandard   RPCKind = "standard"
)

// RPCKinds lists every accepted kind.
var RPCKinds = []RPCKind{
	RPCKindAlchemy, RPCKindQuickNode, RPCKindInfura, RPCKindParity, RPCKindNethermind,
	RPCKindDebugGeth, RPCKindErigon, RPCKindBasic, RPCKindAny, RPCKindStandard,
}

// ParseRPCKind accepts the names in RPCKinds; the empty string means standard.
func ParseRPCKind(s string) (RPCKind, error) {
	if s == "" {
		return RPCKindStandard, nil
	}
	k := RPCKind(strings.ToLower(s))
	if !slices.Contains(RPCKinds, k) {
		names := make([]string, len(RPCKinds))
		for i, k := range RPCKinds {
			names[i] = string(k)
		}
		return "", fmt.Errorf("unknown L1 RPC kind %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return k, nil
}

// receiptsMethod maps a kind to how its receipts are fetched: debug_geth reads raw receipts, basic asks
// per transaction, and every other kind uses eth_getBlockReceipts (served by all current clients),
// falling back per transaction when the node does not have it.
func (k RPCKind) receiptsMethod() receiptsMethod {
	switch k {
	case RPCKindDebugGeth:
		return byRawReceipts
	case RPCKindBasic:
		return byTransaction
	default:
		return byBlockReceipts
	}
}

// L1Client reads L1 blocks and receipts from an execution node, checking every answer.
type L1Client struct {
	ethSource
	kind     RPCKind
	receipts *receiptFetcher
}

// NewL1Client wraps c; kind decides how receipts are fetched.
func NewL1Client(c *rpc.Client, kind RPCKind, opts Options) *L1Client {
	if kind == "" {
		kind = RPCKindStandard
	}
	return &L1Client{ethSource: newEthSource(c, "L1", opts), kind: kind, receipts: &receiptFetcher{method: kind.receiptsMethod()}}
}

// Kind is the RPC kind the client was made with.
func (c *L1Client) Kind() RPCKind { return c.kind }

// ReceiptsByHash returns the receipts of a block, checked against its header's receipts root. A header
// this client fetched before is not fetched again.
func (c *L1Client) ReceiptsByHash(ctx context.Context, hash common.Hash) (*Receipts, error) {
	return c.receiptsByHash(ctx, c.receipts, hash, nil)
}

// ReceiptsOf returns the receipts of the block with the given header, checked against its receipts root.
// The caller vouches for the header (e.g. it hashes to a block hash the caller asked for); only receipts
// fetched per transaction (--l1.rpckind basic, or a node without block receipts) ask for the block too.
func (c *L1Client) ReceiptsOf(ctx context.Context, header *types.Header) (*Receipts, error) {
	return c.receiptsByHash(ctx, c.receipts, header.Hash(), header)
}
