package l1

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

func TestPrecompile(t *testing.T) {
	addr := common.HexToAddress("0x0000000000000000000000000000000000000001") // ecrecover
	input := []byte{0xaa, 0xbb, 0xcc}
	const gas = 3000
	call := append(append(addr.Bytes(), 0, 0, 0, 0, 0, 0, 0x0b, 0xb8), input...) // gas 3000 = 0x0bb8
	key := preimage.PrecompileKey(crypto.Keccak256Hash(call)).PreimageKey()
	wantHint := "l1-precompile-v2 0x0000000000000000000000000000000000000001" + "0000000000000bb8" + "aabbcc"

	tests := []struct {
		name    string
		answer  []byte
		present bool
		result  []byte
		ok      bool
		wantErr string
	}{
		{name: "success", answer: []byte{1, 0xde, 0xad}, present: true, result: []byte{0xde, 0xad}, ok: true},
		{name: "success, no data", answer: []byte{1}, present: true, result: []byte{}, ok: true},
		{name: "failure", answer: []byte{0}, present: true, result: []byte{}, ok: false},
		{name: "empty answer", answer: []byte{}, present: true, wantErr: "empty answer"},
		{name: "bad status", answer: []byte{2, 0}, present: true, wantErr: "status byte 2"},
		{name: "missing", wantErr: "no preimage for key 06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := newFakeHost()
			if tt.present {
				host.store[key] = tt.answer
			}
			o := NewOracle(host, host)
			result, ok, err := o.Precompile(addr, gas, input)
			require.Equal(t, []string{wantHint}, host.hints)
			require.Equal(t, [][32]byte{key}, host.gets)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.result, result)
			require.Equal(t, tt.ok, ok)

			// Cached: no hint, no request, and a caller's changes do not leak into the next answer.
			host.reset()
			if len(result) > 0 {
				result[0] ^= 0xff
			}
			again, okAgain, err := o.Precompile(addr, gas, input)
			require.NoError(t, err)
			require.Equal(t, tt.result, again)
			require.Equal(t, tt.ok, okAgain)
			require.Empty(t, host.hints)
			require.Empty(t, host.gets)

			// Another gas limit is another call.
			_, _, err = o.Precompile(addr, gas+1, input)
			require.Error(t, err)
			require.Len(t, host.hints, 1)
		})
	}
}

// TestPrecompileReadsTheLayout: what a host lays out for a call (preimage/layout) is what the program asks
// for and reads back, for a successful and a failed call.
func TestPrecompileReadsTheLayout(t *testing.T) {
	addr := common.BytesToAddress([]byte{0x08}) // bn256 pairing
	input := []byte{1, 2, 3, 4}
	for _, want := range []struct {
		ok     bool
		result []byte
	}{{true, []byte{0, 0, 1}}, {false, nil}} {
		host := newFakeHost()
		call := layout.PrecompileCall(addr, 45_000, input)
		layout.Precompile(func(k preimage.Key, v []byte) { host.store[k.PreimageKey()] = v }, call, layout.PrecompileAnswer(want.ok, want.result))
		result, ok, err := NewOracle(host, host).Precompile(addr, 45_000, input)
		require.NoError(t, err)
		require.Equal(t, want.ok, ok)
		require.Equal(t, string(want.result), string(result))
		require.Equal(t, [][32]byte{layout.PrecompileKeyOf(call).PreimageKey()}, host.gets)
	}
}
