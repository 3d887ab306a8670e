package derive_test

import (
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"
)

// Span batches assembled by hand, column by column (delta/span-batches.md), with tx_datas drawn from a
// grammar of valid and broken transaction payloads of every type byte a batcher could write. Both sides
// must agree on decoding, on derivation, and on the derived transactions.
func TestHandMadeSpanBatchesMatchOpNode(t *testing.T) {
	defer logBatchOutcomes(t)
	rng := rand.New(rand.NewSource(203))
	for range iterations(5000) {
		compareBatch(t, handMadeSpanBatch(rng))
	}
}

type handTx struct {
	data      []byte
	creation  bool
	yParity   bool
	protected bool
}

func handMadeSpanBatch(rng *rand.Rand) []byte {
	blocks := 1 + rng.Intn(3)
	counts := make([]int, blocks)
	var txs []handTx
	for i := range counts {
		counts[i] = rng.Intn(4)
		for range counts[i] {
			txs = append(txs, handTx{
				data: randomTxData(rng), creation: rng.Intn(3) == 0, yParity: rng.Intn(2) == 0,
				protected: rng.Intn(2) == 0,
			})
		}
	}
	out := []byte{1} // span batch type
	out = binary.AppendUvarint(out, uint64(rng.Intn(1000)))
	out = binary.AppendUvarint(out, uint64(rng.Intn(1000)))
	out = append(out, randomBytes(rng, 40)...) // parent_check, l1_origin_check
	out = binary.AppendUvarint(out, uint64(blocks))
	out = append(out, bitlist(blocks, func(int) bool { return rng.Intn(2) == 0 })...)
	for _, c := range counts {
		out = binary.AppendUvarint(out, uint64(c))
	}
	out = append(out, bitlist(len(txs), func(i int) bool { return txs[i].creation })...)
	out = append(out, bitlist(len(txs), func(i int) bool { return txs[i].yParity })...)
	for range txs {
		out = append(out, randomBytes(rng, 64)...)
	}
	for _, tx := range txs {
		if !tx.creation {
			out = append(out, randomBytes(rng, 20)...)
		}
	}
	var legacy []handTx
	for _, tx := range txs {
		out = append(out, tx.data...)
		if tx.data[0] > 0x7f || tx.data[0] == 0 {
			legacy = append(legacy, tx)
		}
	}
	for range 2 * len(txs) { // nonces and gases
		out = binary.AppendUvarint(out, rng.Uint64()>>rng.Intn(64))
	}
	out = append(out, bitlist(len(legacy), func(i int) bool { return legacy[i].protected })...)
	return out
}

// bitlist encodes n bits as a span batch standard bitlist.
func bitlist(n int, bit func(int) bool) []byte {
	b := make([]byte, (n+7)/8)
	for i := range n {
		if bit(i) {
			b[len(b)-1-i/8] |= 1 << (i % 8)
		}
	}
	return b
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// randomTxData draws a tx_datas element: usually a well-formed payload of a known type, otherwise one with
// a wrong type byte, a wrong field count, a field of the wrong kind or size, or a non-canonical integer.
func randomTxData(rng *rand.Rand) []byte {
	typ := []int{-1, -1, 1, 2, 4, 4, 0x7d, 0, 3, 5, 0x7e, 0x7f}[rng.Intn(12)] // -1: legacy (no type byte)
	var fields []any
	switch typ {
	case -1, 0:
		fields = []any{uintField(rng), uintField(rng), bytesField(rng)}
	case 1:
		fields = []any{uintField(rng), uintField(rng), bytesField(rng), accessList(rng)}
	case 2, 3, 5, 0x7e, 0x7f:
		fields = []any{uintField(rng), uintField(rng), uintField(rng), bytesField(rng), accessList(rng)}
	case 4:
		fields = []any{uintField(rng), uintField(rng), uintField(rng), bytesField(rng), accessList(rng), authList(rng)}
	case 0x7d:
		fields = []any{bytesField(rng), uintField(rng)}
	}
	switch rng.Intn(8) {
	case 0: // a field too few
		fields = fields[:len(fields)-1]
	case 1: // a field too many
		fields = append(fields, uintField(rng))
	case 2: // a list where a value is expected, or the reverse
		i := rng.Intn(len(fields))
		if _, isList := fields[i].([]any); isList {
			fields[i] = uint64(1)
		} else {
			fields[i] = []any{}
		}
	}
	payload, err := rlp.EncodeToBytes(fields)
	if err != nil {
		panic(err)
	}
	if typ < 0 {
		return payload
	}
	return append([]byte{byte(typ)}, payload...)
}

// uintField is an RLP integer: usually canonical, sometimes with a leading zero or wider than 256 bits.
func uintField(rng *rand.Rand) any {
	switch rng.Intn(10) {
	case 0:
		return []byte{0, byte(1 + rng.Intn(255))} // non-canonical
	case 1:
		return append([]byte{1}, randomBytes(rng, 32)...) // 264 bits
	case 2:
		return randomBytes(rng, 32)
	}
	return rng.Uint64() >> rng.Intn(64)
}

func bytesField(rng *rand.Rand) any {
	return randomBytes(rng, []int{0, 1, rng.Intn(60)}[rng.Intn(3)])
}

// accessList is [[address, [key, ...]], ...], sometimes with a short address or key.
func accessList(rng *rand.Rand) any {
	list := []any{}
	for range rng.Intn(3) {
		addrLen, keyLen := 20, 32
		if rng.Intn(10) == 0 {
			addrLen = 19
		}
		if rng.Intn(10) == 0 {
			keyLen = 33
		}
		keys := []any{}
		for range rng.Intn(3) {
			keys = append(keys, randomBytes(rng, keyLen))
		}
		list = append(list, []any{randomBytes(rng, addrLen), keys})
	}
	return list
}

// authList is [[chain_id, address, nonce, y_parity, r, s], ...], sometimes with a y_parity over 8 bits or
// a field missing.
func authList(rng *rand.Rand) any {
	list := []any{}
	for range rng.Intn(3) {
		v := uint64(rng.Intn(2))
		if rng.Intn(10) == 0 {
			v = 256
		}
		auth := []any{uintField(rng), randomBytes(rng, 20), rng.Uint64() >> rng.Intn(64), v, uintField(rng), uintField(rng)}
		if rng.Intn(10) == 0 {
			auth = auth[:5]
		}
		list = append(list, auth)
	}
	return list
}

func TestBitlistHelper(t *testing.T) {
	require.Equal(t, []byte{0b1, 0b10000001}, bitlist(9, func(i int) bool { return i == 0 || i == 7 || i == 8 }))
}
