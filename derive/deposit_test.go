package derive

import (
	"encoding/hex"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

var attrDepositContract = common.HexToAddress("0xdeadbeef00000000000000000000000000000001")

func TestDepositEventTopic(t *testing.T) {
	require.Equal(t, "0xb3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32", DepositEventTopic.Hex())
}

func TestUserDepositSourceHash(t *testing.T) {
	// keccak256(bytes32(0) ++ keccak256(l1BlockHash ++ bytes32(logIndex))), built by hand.
	l1Hash := common.HexToHash("0xc0ffee")
	var inner [64]byte
	copy(inner[:32], l1Hash[:])
	inner[62], inner[63] = 0x01, 0x02
	outer := append(make([]byte, 32), crypto.Keccak256(inner[:])...)
	require.Equal(t, crypto.Keccak256Hash(outer), UserDepositSourceHash(l1Hash, 0x0102))
}

// attrDepositLog builds a TransactionDeposited log by hand from its parts.
func attrDepositLog(from, to common.Address, mint, value *big.Int, gas uint64, isCreation byte, data []byte) *types.Log {
	opaque := make([]byte, 73)
	mint.FillBytes(opaque[0:32])
	value.FillBytes(opaque[32:64])
	big.NewInt(0).SetUint64(gas).FillBytes(opaque[64:72])
	opaque[72] = isCreation
	opaque = append(opaque, data...)
	ld := make([]byte, 64, 64+len(opaque)+32)
	ld[31] = 0x20
	big.NewInt(int64(len(opaque))).FillBytes(ld[32:64])
	ld = append(ld, opaque...)
	for len(ld)%32 != 0 {
		ld = append(ld, 0)
	}
	return &types.Log{
		Address:   attrDepositContract,
		Topics:    []common.Hash{DepositEventTopic, common.BytesToHash(from[:]), common.BytesToHash(to[:]), {}},
		Data:      ld,
		BlockHash: common.HexToHash("0xb10c"),
		Index:     4,
	}
}

func TestUnmarshalDepositLogEvent(t *testing.T) {
	from := common.HexToAddress("0x1111000000000000000000000000000000002222")
	to := common.HexToAddress("0x3333000000000000000000000000000000004444")

	ev := attrDepositLog(from, to, big.NewInt(100), big.NewInt(42), 21_000, 0, []byte{0xca, 0xfe})
	dep, err := UnmarshalDepositLogEvent(ev)
	require.NoError(t, err)
	require.Equal(t, UserDepositSourceHash(common.HexToHash("0xb10c"), 4), dep.SourceHash)
	require.Equal(t, from, dep.From, "from is copied as is: the portal has aliased it already")
	require.Equal(t, to, *dep.To)
	require.Equal(t, big.NewInt(100), dep.Mint)
	require.Equal(t, big.NewInt(42), dep.Value)
	require.Equal(t, uint64(21_000), dep.Gas)
	require.False(t, dep.IsSystemTransaction)
	require.Equal(t, []byte{0xca, 0xfe}, dep.Data)

	t.Run("zero mint is nil", func(t *testing.T) {
		dep, err := UnmarshalDepositLogEvent(attrDepositLog(from, to, new(big.Int), new(big.Int), 1, 0, nil))
		require.NoError(t, err)
		require.Nil(t, dep.Mint)
		require.Empty(t, dep.Data)
	})
	t.Run("creation drops to", func(t *testing.T) {
		for _, flag := range []byte{1, 2, 0xff} {
			dep, err := UnmarshalDepositLogEvent(attrDepositLog(from, to, new(big.Int), new(big.Int), 1, flag, []byte{1}))
			require.NoError(t, err)
			require.Nil(t, dep.To, "isCreation byte %d", flag)
		}
	})
	t.Run("gas below 21000 and data of 32 bytes", func(t *testing.T) {
		// The portal enforces the minimum gas; derivation does not check it.
		dep, err := UnmarshalDepositLogEvent(attrDepositLog(from, to, new(big.Int), new(big.Int), 0, 0, make([]byte, 32)))
		require.NoError(t, err)
		require.Zero(t, dep.Gas)
		require.Len(t, dep.Data, 32)
	})
	t.Run("data is copied", func(t *testing.T) {
		ev := attrDepositLog(from, to, new(big.Int), new(big.Int), 1, 0, []byte{7})
		dep, err := UnmarshalDepositLogEvent(ev)
		require.NoError(t, err)
		ev.Data[64+73] = 8
		require.Equal(t, []byte{7}, dep.Data)
	})
}

func TestUnmarshalDepositLogEventRejects(t *testing.T) {
	from, to := common.HexToAddress("0x01"), common.HexToAddress("0x02")
	good := func() *types.Log {
		return attrDepositLog(from, to, big.NewInt(1), big.NewInt(2), 3, 0, []byte{1, 2, 3})
	}
	word := func(v uint64) []byte { return common.BigToHash(new(big.Int).SetUint64(v)).Bytes() }
	tests := []struct {
		name string
		edit func(ev *types.Log)
	}{
		{"three topics", func(ev *types.Log) { ev.Topics = ev.Topics[:3] }},
		{"five topics", func(ev *types.Log) { ev.Topics = append(ev.Topics, common.Hash{}) }},
		{"other event", func(ev *types.Log) { ev.Topics[0] = common.HexToHash("0x01") }},
		{"unknown version", func(ev *types.Log) { ev.Topics[3] = common.HexToHash("0x01") }},
		{"data shorter than the bytes header", func(ev *types.Log) { ev.Data = ev.Data[:63] }},
		{"data not whole words", func(ev *types.Log) { ev.Data = append(ev.Data, 0) }},
		{"offset not 32", func(ev *types.Log) { copy(ev.Data[:32], word(64)) }},
		{"offset with high bits", func(ev *types.Log) { ev.Data[0] = 1 }},
		{"length beyond the data", func(ev *types.Log) { copy(ev.Data[32:64], word(97)) }},
		{"length with high bits", func(ev *types.Log) { ev.Data[32] = 1 }},
		{"excess padding word", func(ev *types.Log) { ev.Data = append(ev.Data, make([]byte, 32)...) }},
		{"length shrunk to leave a whole spare word", func(ev *types.Log) { copy(ev.Data[32:64], word(64)) }},
		{"opaque data shorter than its fixed part", func(ev *types.Log) {
			copy(ev.Data[32:64], word(72))
			ev.Data = ev.Data[:64+96]
		}},
		{"no opaque data", func(ev *types.Log) {
			copy(ev.Data[32:64], word(0))
			ev.Data = ev.Data[:64]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := good()
			tt.edit(ev)
			_, err := UnmarshalDepositLogEvent(ev)
			require.ErrorIs(t, err, ErrMalformedDeposit)
		})
	}
	t.Run("padding bytes are not checked", func(t *testing.T) {
		ev := good()
		ev.Data[len(ev.Data)-1] = 0xff // beyond the 76 bytes of opaque data
		_, err := UnmarshalDepositLogEvent(ev)
		require.NoError(t, err)
	})
	t.Run("topic padding of from and to is not checked", func(t *testing.T) {
		ev := good()
		ev.Topics[1][0] = 0xff
		ev.Topics[2][0] = 0xff
		dep, err := UnmarshalDepositLogEvent(ev)
		require.NoError(t, err)
		require.Equal(t, from, dep.From)
		require.Equal(t, to, *dep.To)
	})
}

func TestDepositLogRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 100; i++ {
		dep := attrRandomDeposit(rng)
		ev, err := MarshalDepositLogEvent(attrDepositContract, dep)
		require.NoError(t, err)
		ev.BlockHash = common.HexToHash("0x0b")
		ev.Index = uint(i)
		dep.SourceHash = UserDepositSourceHash(ev.BlockHash, uint64(i))
		got, err := UnmarshalDepositLogEvent(ev)
		require.NoError(t, err)
		a, err := types.NewTx(dep).MarshalBinary()
		require.NoError(t, err)
		b, err := types.NewTx(got).MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(a), hex.EncodeToString(b))
	}
}

func attrRandomDeposit(rng *rand.Rand) *types.DepositTx {
	var from, to common.Address
	rng.Read(from[:])
	rng.Read(to[:])
	dep := &types.DepositTx{
		From:  from,
		Value: new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(257)))),
		Gas:   rng.Uint64(),
		Data:  make([]byte, rng.Intn(100)),
	}
	rng.Read(dep.Data)
	if rng.Intn(2) == 0 {
		dep.To = &to
	}
	if rng.Intn(2) == 0 {
		dep.Mint = new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(257))))
		if dep.Mint.Sign() == 0 {
			dep.Mint = nil
		}
	}
	return dep
}

func TestUserDeposits(t *testing.T) {
	from, to := common.HexToAddress("0x01"), common.HexToAddress("0x02")
	dep := func(idx uint, gas uint64) *types.Log {
		ev := attrDepositLog(from, to, new(big.Int), new(big.Int), gas, 0, nil)
		ev.Index = idx
		return ev
	}
	other := dep(1, 11)
	other.Address = common.HexToAddress("0x0bad")
	otherTopic := dep(2, 12)
	otherTopic.Topics[0] = ConfigUpdateEventTopic
	noTopics := &types.Log{Address: attrDepositContract}
	receipts := types.Receipts{
		{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{dep(0, 10), other, otherTopic, noTopics}},
		{Status: types.ReceiptStatusFailed, Logs: []*types.Log{dep(3, 13)}},
		{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{dep(4, 14), dep(5, 15)}},
	}
	deps, err := UserDeposits(receipts, attrDepositContract)
	require.NoError(t, err)
	require.Len(t, deps, 3)
	for i, want := range []uint64{10, 14, 15} {
		require.Equal(t, want, deps[i].Gas)
	}
	require.Equal(t, UserDepositSourceHash(common.HexToHash("0xb10c"), 5), deps[2].SourceHash)

	encs, err := DeriveDeposits(receipts, attrDepositContract)
	require.NoError(t, err)
	require.Len(t, encs, 3)
	var tx types.Transaction
	require.NoError(t, tx.UnmarshalBinary(encs[1]))
	require.Equal(t, uint64(14), tx.Gas())

	// A malformed deposit log of the deposit contract: an error for the block (the good ones are still
	// listed for information).
	bad := dep(6, 16)
	bad.Topics[3] = common.HexToHash("0x01")
	receipts = append(receipts, &types.Receipt{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{bad}})
	deps, err = UserDeposits(receipts, attrDepositContract)
	require.ErrorIs(t, err, ErrMalformedDeposit)
	require.Len(t, deps, 3)
	_, err = DeriveDeposits(receipts, attrDepositContract)
	require.ErrorIs(t, err, ErrMalformedDeposit)

	// The same malformed log from another contract, or in a failed receipt, is ignored.
	bad.Address = common.HexToAddress("0x0bad")
	_, err = UserDeposits(receipts, attrDepositContract)
	require.NoError(t, err)
	bad.Address = attrDepositContract
	receipts[len(receipts)-1].Status = types.ReceiptStatusFailed
	_, err = UserDeposits(receipts, attrDepositContract)
	require.NoError(t, err)

	deps, err = UserDeposits(nil, attrDepositContract)
	require.NoError(t, err)
	require.Empty(t, deps)
}
