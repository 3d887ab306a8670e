package devnet

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
)

// Cross-chain messages on an interop devnet. Initiating messages are the SentMessage events of the
// L2ToL2CrossDomainMessenger (sendMessage), and executing messages are the ExecutingMessage events of the
// CrossL2Inbox: its validateMessage, called by the messenger's relayMessage or directly, with the
// message's access-list entries (specs/interop/predeploys.md). Both predeploys run the implementations
// the Lagoon upgrade deploys (derive's Lagoon NUT bundle), put in the L2 genesis at their addresses.

// Selectors and event topics of the messenger (tests check them against their signatures).
var (
	sendMessageSelector  = crypto.Keccak256([]byte("sendMessage(uint256,address,bytes)"))[:4]
	relayMessageSelector = crypto.Keccak256([]byte("relayMessage((address,uint256,uint256,uint256,uint256),bytes)"))[:4]
	sentMessageTopic     = crypto.Keccak256Hash([]byte("SentMessage(uint256,address,uint256,address,bytes)"))
)

// The Lagoon bundle's deployments of the two predeploys' implementations (0-based positions in the bundle).
const (
	lagoonCrossL2InboxIntent = "Interop 18: Deploy CrossL2Inbox Implementation"
	lagoonMessengerIntent    = "Interop 19: Deploy L2ToL2CrossDomainMessenger Implementation"
)

var (
	predeployOnce sync.Once
	predeployCode map[common.Address][]byte
	predeployErr  error
)

// interopPredeploys is the runtime code of the CrossL2Inbox and the L2ToL2CrossDomainMessenger: the
// creation code of the Lagoon bundle's deployments (ConditionalDeployer.deploy(salt, code) calls), run.
func interopPredeploys() (map[common.Address][]byte, error) {
	predeployOnce.Do(func() {
		predeployCode, predeployErr = loadInteropPredeploys()
	})
	return predeployCode, predeployErr
}

func loadInteropPredeploys() (map[common.Address][]byte, error) {
	txs, _, err := derive.LagoonUpgradeTransactions(false)
	if err != nil {
		return nil, err
	}
	want := map[common.Hash]common.Address{
		derive.UpgradeDepositSourceHash(lagoonCrossL2InboxIntent): interop.CrossL2InboxAddr,
		derive.UpgradeDepositSourceHash(lagoonMessengerIntent):    interop.L2ToL2CrossDomainMessengerAddr,
	}
	cfg, _ := forkConfigs(0, func(rollup.Fork) *uint64 { z := uint64(0); return &z })
	out := map[common.Address][]byte{}
	for _, enc := range txs {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(enc); err != nil {
			return nil, err
		}
		addr, ok := want[tx.SourceHash()]
		if !ok {
			continue
		}
		// deploy(bytes32 salt, bytes code): selector, salt, offset of code, its length, the code.
		data := tx.Data()
		if len(data) < 4+4*32 {
			return nil, fmt.Errorf("lagoon deployment of %s: calldata too short", addr)
		}
		size := new(big.Int).SetBytes(data[4+64 : 4+96]).Uint64()
		if uint64(len(data)) < 4+96+size {
			return nil, fmt.Errorf("lagoon deployment of %s: code runs past the calldata", addr)
		}
		code, _, _, err := runtime.Create(data[4+96:4+96+size], &runtime.Config{ChainConfig: cfg, GasLimit: 30_000_000, BlockNumber: common.Big1, Time: 1})
		if err != nil {
			return nil, fmt.Errorf("lagoon deployment of %s: %w", addr, err)
		}
		out[addr] = code
	}
	if len(out) != len(want) {
		return nil, fmt.Errorf("the lagoon bundle deploys %d of the %d interop predeploys", len(out), len(want))
	}
	return out, nil
}

// sentMessage is a SentMessage log as an initiating message: where it is and its payload.
type sentMessage struct {
	id          interop.Identifier
	payload     []byte // topics ++ data: what relayMessage takes
	destination uint64
	nonce       common.Hash
}

// sentMessagesOf lists the SentMessage logs of a block of chain chainID.
func sentMessagesOf(chainID uint64, b *types.Block, receipts types.Receipts) []sentMessage {
	var out []sentMessage
	for _, r := range receipts {
		for _, l := range r.Logs {
			if l.Address != interop.L2ToL2CrossDomainMessengerAddr || len(l.Topics) != 4 || l.Topics[0] != sentMessageTopic {
				continue
			}
			out = append(out, sentMessage{
				id: interop.Identifier{Origin: l.Address, BlockNumber: b.NumberU64(), LogIndex: uint32(l.Index),
					Timestamp: b.Time(), ChainID: chainID},
				payload:     interop.MessagePayload(l),
				destination: new(big.Int).SetBytes(l.Topics[1][:]).Uint64(),
				nonce:       l.Topics[3],
			})
		}
	}
	return out
}

// sendMessageCalldata is sendMessage(destination, target, message).
func sendMessageCalldata(destination uint64, target common.Address, message []byte) []byte {
	out := append([]byte{}, sendMessageSelector...)
	out = append(out, word(destination)...)
	out = append(out, common.LeftPadBytes(target[:], 32)...)
	out = append(out, word(0x60)...)
	return append(out, abiBytes(message)...)
}

// relayMessageCalldata is relayMessage(id, payload).
func relayMessageCalldata(id interop.Identifier, payload []byte) []byte {
	out := append([]byte{}, relayMessageSelector...)
	out = append(out, id.EncodeABI()...)
	out = append(out, word(6*32)...)
	return append(out, abiBytes(payload)...)
}

// abiBytes is the tail of an ABI-encoded bytes value: length, then the data padded to words.
func abiBytes(b []byte) []byte {
	out := word(uint64(len(b)))
	out = append(out, b...)
	if pad := len(b) % 32; pad != 0 {
		out = append(out, make([]byte, 32-pad)...)
	}
	return out
}

// interopTx is a signed EIP-1559 transaction with an access list.
func (c *l2Chain) interopTx(from account, to common.Address, gas uint64, data []byte, al types.AccessList, feeCap *big.Int) ([]byte, error) {
	nonce := c.nonces[from.addr]
	c.nonces[from.addr]++
	tx, err := types.SignNewTx(from.key, types.LatestSignerForChainID(c.config.ChainID), &types.DynamicFeeTx{
		ChainID: c.config.ChainID, Nonce: nonce, GasTipCap: big.NewInt(params.GWei / 100), GasFeeCap: feeCap,
		Gas: gas, To: &to, Data: data, AccessList: al,
	})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// relayedNonces are the (source chain, nonce) of the messages relayed in a block: its RelayedMessage logs.
func relayedNonces(receipts types.Receipts) [][2]common.Hash {
	topic := crypto.Keccak256Hash([]byte("RelayedMessage(uint256,uint256,bytes32,bytes32)"))
	var out [][2]common.Hash
	for _, r := range receipts {
		for _, l := range r.Logs {
			if l.Address == interop.L2ToL2CrossDomainMessengerAddr && len(l.Topics) == 4 && l.Topics[0] == topic {
				out = append(out, [2]common.Hash{l.Topics[1], l.Topics[2]})
			}
		}
	}
	return out
}

// containsNonce says whether list holds (source, nonce).
func containsNonce(list [][2]common.Hash, source uint64, nonce common.Hash) bool {
	s := common.BigToHash(new(big.Int).SetUint64(source))
	return slices.ContainsFunc(list, func(p [2]common.Hash) bool { return p[0] == s && bytes.Equal(p[1][:], nonce[:]) })
}

// messageTxs makes the message transactions of chain i's blocks (l2Chain.messages): from the first block
// after Lagoon's activation, a message to the next chain, the relay of up to two messages sent to this
// chain (by the chains before it up to this block's time, by the others up to the block before), every
// third block a direct validateMessage of the newest of those, and the configured invalid messages.
func (g *generator) messageTxs(i int) func(c *l2Chain, n, t uint64, feeCap *big.Int) ([][]byte, error) {
	return func(c *l2Chain, n, t uint64, feeCap *big.Int) ([][]byte, error) {
		if !interop.InteropFullBlock(c.rollup, t) {
			return nil, nil
		}
		me := c.rollup.ChainID()
		next := g.chains[(i+1)%len(g.chains)].l2
		var txs [][]byte
		add := func(enc []byte, err error) error {
			if err != nil {
				return err
			}
			txs = append(txs, enc)
			return nil
		}
		// A message to the next chain: store this chain's ID under a key of the block's number there.
		msg := append(word(1<<20+n), word(me)...)
		if err := add(c.seqTx(c.acc.alice, l2Dynamic, &interop.L2ToL2CrossDomainMessengerAddr, nil, 200_000,
			sendMessageCalldata(next.rollup.ChainID(), storageAddr, msg), feeCap)); err != nil {
			return nil, err
		}
		cands, err := g.relayCandidates(i, n, t)
		if err != nil {
			return nil, err
		}
		for _, m := range cands[:min(2, len(cands))] {
			em := interop.ExecutingMessage{ID: m.id, PayloadHash: crypto.Keccak256Hash(m.payload)}
			if err := add(c.interopTx(c.acc.bob, interop.L2ToL2CrossDomainMessengerAddr, 400_000,
				relayMessageCalldata(m.id, m.payload), interop.AccessList(em), feeCap)); err != nil {
				return nil, err
			}
		}
		if n%3 == 0 && len(cands) > 0 {
			m := cands[len(cands)-1]
			em := interop.ExecutingMessage{ID: m.id, PayloadHash: crypto.Keccak256Hash(m.payload)}
			if err := add(c.interopTx(c.acc.carol, interop.CrossL2InboxAddr, 100_000, interop.ValidateMessageCalldata(em), interop.AccessList(em), feeCap)); err != nil {
				return nil, err
			}
		}
		for _, bad := range g.ix.cfg.Invalid {
			if bad.Chain != i || bad.Block != n {
				continue
			}
			em, err := g.invalidMessage(bad, next, n, t)
			if err != nil {
				return nil, err
			}
			if err := add(c.interopTx(c.acc.carol, interop.CrossL2InboxAddr, 100_000, interop.ValidateMessageCalldata(em), interop.AccessList(em), feeCap)); err != nil {
				return nil, err
			}
		}
		return txs, nil
	}
}

// relayCandidates are the messages sent to chain i that block n at t may relay, oldest first: sent by a
// chain before it up to t, by a chain after it before t (not built yet at t), at most half the expiry
// window ago, and not relayed by the chain's blocks before n.
func (g *generator) relayCandidates(i int, n, t uint64) ([]sentMessage, error) {
	me := g.chains[i].l2
	window := g.ix.depSet.ExpiryWindow()
	var relayed [][2]common.Hash
	for m := n - 1; m > 0 && me.blocks[m].Time()+window >= t; m-- {
		r, err := me.receiptsOf(me.blocks[m])
		if err != nil {
			return nil, err
		}
		relayed = append(relayed, relayedNonces(r)...)
	}
	var out []sentMessage
	for oi, o := range g.chains {
		if oi == i {
			continue
		}
		for _, b := range o.l2.blocks[1:] {
			if b.Time() > t || (b.Time() == t && oi > i) {
				break
			}
			if b.Time()+window/2 < t {
				continue
			}
			r, err := o.l2.receiptsOf(b)
			if err != nil {
				return nil, err
			}
			for _, m := range sentMessagesOf(o.l2.rollup.ChainID(), b, r) {
				if m.destination == me.rollup.ChainID() && !containsNonce(relayed, m.id.ChainID, m.nonce) {
					out = append(out, m)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b sentMessage) int {
		if a.id.Timestamp != b.id.Timestamp {
			return int(int64(a.id.Timestamp) - int64(b.id.Timestamp))
		}
		return int(int64(a.id.ChainID) - int64(b.id.ChainID))
	})
	return out, nil
}

// invalidMessage is the executing message of a configured invalid case in block n at t, about chain o.
func (g *generator) invalidMessage(bad InvalidMessage, o *l2Chain, n, t uint64) (interop.ExecutingMessage, error) {
	id := interop.Identifier{Origin: interop.L2ToL2CrossDomainMessengerAddr, ChainID: o.rollup.ChainID()}
	payload := crypto.Keccak256Hash([]byte("faultproof devnet: no such message"))
	switch bad.Kind {
	case InvalidMissing:
		prev := o.blocks[n-1]
		id.BlockNumber, id.Timestamp, id.LogIndex = n-1, prev.Time(), 9999
	case InvalidFuture:
		id.BlockNumber, id.Timestamp = n+1, t+o.rollup.BlockTime
	case InvalidExpired:
		for _, b := range o.blocks[1:] {
			r, err := o.receiptsOf(b)
			if err != nil {
				return interop.ExecutingMessage{}, err
			}
			if sent := sentMessagesOf(o.rollup.ChainID(), b, r); len(sent) > 0 {
				if t-b.Time() <= g.ix.depSet.ExpiryWindow() {
					break
				}
				return interop.ExecutingMessage{ID: sent[0].id, PayloadHash: crypto.Keccak256Hash(sent[0].payload)}, nil
			}
		}
		return interop.ExecutingMessage{}, fmt.Errorf("chain %d has no message older than the expiry window at block %d", o.rollup.ChainID(), n)
	}
	return interop.ExecutingMessage{ID: id, PayloadHash: payload}, nil
}
