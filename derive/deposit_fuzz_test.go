package derive_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/rollup"
)

// devnetLogs are the logs of the devnet's L1 receipts: TransactionDeposited logs of its deposit contract
// and ConfigUpdate logs of its system config contract, as the chain the demo settles holds them.
type devnetLogs struct {
	rollup   *rollup.Config
	sysCfg   rollup.SystemConfig // at L2 genesis
	deposits []*types.Log
	updates  []*types.Log
	l1Times  []uint64 // of each update's L1 block
}

var (
	devnetLogsOnce sync.Once
	devnetLogsVal  *devnetLogs
	devnetLogsErr  error
)

func loadDevnetLogs() (*devnetLogs, error) {
	devnetLogsOnce.Do(func() {
		d, err := devnet.New(devnet.Config{})
		if err != nil {
			devnetLogsErr = err
			return
		}
		l := &devnetLogs{rollup: d.Rollup(), sysCfg: d.Rollup().Genesis.SystemConfig}
		for n := uint64(0); n <= d.L1Head().NumberU64(); n++ {
			for _, r := range d.L1Receipts(n) {
				for _, ev := range r.Logs {
					switch ev.Address {
					case devnet.DepositContractAddress:
						l.deposits = append(l.deposits, ev)
					case d.Rollup().L1SystemConfigAddress:
						l.updates = append(l.updates, ev)
						l.l1Times = append(l.l1Times, d.L1Block(n).Time())
					}
				}
			}
		}
		if len(l.deposits) == 0 || len(l.updates) == 0 {
			devnetLogsErr = errors.New("the devnet has no deposit or no config update logs")
			return
		}
		devnetLogsVal = l
	})
	return devnetLogsVal, devnetLogsErr
}

// joinTopics and splitTopics carry a log's topics through the fuzzer as one byte string.
func joinTopics(topics []common.Hash) []byte {
	var b []byte
	for _, t := range topics {
		b = append(b, t[:]...)
	}
	return b
}

func splitTopics(b []byte) []common.Hash {
	var out []common.Hash
	for len(b) >= 32 {
		out = append(out, common.Hash(b[:32]))
		b = b[32:]
	}
	return out
}

// FuzzUnmarshalDepositLogEvent decodes any TransactionDeposited log. A refused log must be refused with
// ErrMalformedDeposit; an accepted one must be the canonical encoding of the deposit it decodes to, up to
// what the decoder does not check (the padding of the topics and of the opaque data): encoding the deposit
// again gives that log, and decoding that gives the same deposit. The seeds are the devnet's deposit logs.
// For a long run:
//
//	go test ./derive -run '^$' -fuzz FuzzUnmarshalDepositLogEvent -fuzztime 30m
func FuzzUnmarshalDepositLogEvent(f *testing.F) {
	logs, err := loadDevnetLogs()
	require.NoError(f, err)
	for _, ev := range logs.deposits {
		f.Add(joinTopics(ev.Topics), ev.Data, uint(ev.Index))
	}
	contract := devnet.DepositContractAddress
	blockHash := common.HexToHash("0xb10c")
	f.Fuzz(func(t *testing.T, topics, data []byte, index uint) {
		ev := &types.Log{Address: contract, Topics: splitTopics(topics), Data: data, BlockHash: blockHash, Index: index}
		dep, err := derive.UnmarshalDepositLogEvent(ev)
		if err != nil {
			require.ErrorIs(t, err, derive.ErrMalformedDeposit, "refused without ErrMalformedDeposit: %v", err)
			return
		}
		require.Equal(t, derive.UserDepositSourceHash(blockHash, uint64(index)), dep.SourceHash, "source hash is not the user deposit source hash of the log")
		// A user deposit is never a system transaction; no mint is nil, not zero.
		require.False(t, dep.IsSystemTransaction, "system flag %v, mint %v", dep.IsSystemTransaction, dep.Mint)
		require.False(t, dep.Mint != nil && dep.Mint.Sign() <= 0, "system flag %v, mint %v", dep.IsSystemTransaction, dep.Mint)
		again, err := derive.MarshalDepositLogEvent(contract, dep)
		require.NoError(t, err, "an accepted deposit does not encode")
		// The canonical log: topic padding cleared, opaque data padded with zeros.
		want := canonicalDepositLog(ev)
		require.Len(t, again.Topics, 4, "topics %x encode back as %x", ev.Topics, again.Topics)
		require.Equal(t, want.Topics[0], again.Topics[0], "topics %x encode back as %x", ev.Topics, again.Topics)
		require.Equal(t, want.Topics[1], again.Topics[1], "topics %x encode back as %x", ev.Topics, again.Topics)
		require.Equal(t, want.Topics[2], again.Topics[2], "topics %x encode back as %x", ev.Topics, again.Topics)
		require.Equal(t, want.Topics[3], again.Topics[3], "topics %x encode back as %x", ev.Topics, again.Topics)
		require.Equal(t, want.Data, again.Data, "data %x encodes back as %x", ev.Data, again.Data)
		again.BlockHash, again.Index = blockHash, index
		dep2, err := derive.UnmarshalDepositLogEvent(again)
		require.NoError(t, err, "the encoding of an accepted deposit is refused")
		require.Equal(t, types.NewTx(dep2).Hash(), types.NewTx(dep).Hash(), "decoding the deposit's own encoding gives another deposit")
		// The deposit does not share the log's memory.
		if len(dep.Data) > 0 {
			before := types.NewTx(dep).Hash()
			for i := range ev.Data {
				ev.Data[i] ^= 0xff
			}
			require.Equal(t, before, types.NewTx(dep).Hash(), "the deposit's data aliases the log's")
		}
	})
}

// canonicalDepositLog is ev as its deposit encodes: with the bytes the decoder ignores cleared (the upper
// 12 bytes of the from and to topics, the whole to topic of a contract creation, the padding after the
// opaque data) and the isCreation byte, which any value but 0 sets, as 1. op-node decodes the same way.
func canonicalDepositLog(ev *types.Log) *types.Log {
	topics := append([]common.Hash(nil), ev.Topics...)
	for _, i := range []int{1, 2} {
		topics[i] = common.BytesToHash(topics[i][12:])
	}
	n := binary.BigEndian.Uint64(ev.Data[56:64]) // checked to fit by the decoder
	data := bytes.Clone(ev.Data[:64+n])
	data = append(data, make([]byte, (32-n%32)%32)...)
	const isCreation = 64 + 32 + 32 + 8 // after the bytes header, mint, value and gas
	if data[isCreation] != 0 {
		data[isCreation] = 1
		topics[2] = common.Hash{}
	}
	return &types.Log{Topics: topics, Data: data}
}
