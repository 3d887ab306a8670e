package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// The step layout and markers are part of the dispute game's ABI: the game bisects over 128 claims a
// second (kona's TRANSITION_STATE_MAX_STEPS = 2^7 - 1 is the consolidation step).
func TestStepLayoutPinned(t *testing.T) {
	require.Equal(t, 128, StepsPerTimestamp)
	require.Equal(t, 127, ConsolidateStep)
	require.Equal(t, byte(0xFF), TransitionStateVersion)
	require.Equal(t, byte(1), SuperRootVersionV1)
	require.Equal(t, common.HexToHash("0xffd7db0f9d5cdeb49c4c9eba649d4dc6d852d64671e65488e57f58584992ac68"), InvalidTransitionHash)
	require.Equal(t, crypto.Keccak256Hash(InvalidTransition), InvalidTransitionHash)
	require.Equal(t, crypto.Keccak256Hash([]byte("ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))")), ExecutingMessageTopic)
	require.Equal(t, crypto.Keccak256([]byte("validateMessage((address,uint256,uint256,uint256,uint256),bytes32)"))[:4], ValidateMessageSelector[:])
	require.Equal(t, uint64(604800), MessageExpiryWindow)
	require.Equal(t, 73, SuperV1MinLen)
}

func TestSuperRootEncoding(t *testing.T) {
	a, b := common.Hash{0xaa}, common.Hash{0xbb}
	s := NewSuperV1(0x0102030405060708, ChainOutput{ChainID: 902, Output: b}, ChainOutput{ChainID: 901, Output: a})
	want := []byte{1, 1, 2, 3, 4, 5, 6, 7, 8}
	want = append(want, common.LeftPadBytes([]byte{0x03, 0x85}, 32)...) // 901 sorts first
	want = append(want, a[:]...)
	want = append(want, common.LeftPadBytes([]byte{0x03, 0x86}, 32)...)
	want = append(want, b[:]...)
	require.Equal(t, want, s.Marshal())
	require.Equal(t, crypto.Keccak256Hash(want), s.Root())
	got, err := UnmarshalSuperRoot(want)
	require.NoError(t, err)
	require.Equal(t, s, got)
	require.Equal(t, []uint64{901, 902}, got.ChainIDs())
}

func TestSuperRootDecodeErrors(t *testing.T) {
	good := NewSuperV1(5, ChainOutput{ChainID: 1}, ChainOutput{ChainID: 2}).Marshal()
	unsorted := NewSuperV1(5, ChainOutput{ChainID: 1}).Marshal()
	unsorted = append(append(bytes.Clone(good[:9]), good[9+64:]...), good[9:9+64]...)
	bigID := bytes.Clone(good)
	bigID[9] = 1
	for name, data := range map[string][]byte{
		"empty":          nil,
		"version 2":      append([]byte{2}, good[1:]...),
		"no chains":      good[:9],
		"partial chain":  good[:len(good)-1],
		"unsorted":       unsorted,
		"duplicate":      append(bytes.Clone(good[:9+64]), good[9:9+64]...),
		"chain ID > 64b": bigID,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := UnmarshalSuperRoot(data)
			require.Error(t, err)
		})
	}
}

func TestTransitionStateEncoding(t *testing.T) {
	super := NewSuperV1(9, ChainOutput{ChainID: 1, Output: common.Hash{1}}).Marshal() // 73 bytes
	ts := &TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{{BlockHash: common.Hash{2}, OutputRoot: common.Hash{3}}}, Step: 1}
	// 0xFF ++ RLP list [string(73 bytes), [[hash, hash]], 1], headers written out by hand.
	item := append(append([]byte{0xf8, 0x42, 0xa0}, common.Hash{2}.Bytes()...), append([]byte{0xa0}, common.Hash{3}.Bytes()...)...)
	payload := append(append([]byte{0xb8, 73}, super...), append(append([]byte{0xf8, 0x44}, item...), 0x01)...)
	want := append([]byte{0xff, 0xf8, byte(len(payload))}, payload...)
	require.Equal(t, want, ts.Marshal())
	require.Equal(t, crypto.Keccak256Hash(want), ts.Hash())

	pre, err := UnmarshalPreState(want)
	require.NoError(t, err)
	require.False(t, pre.IsSuperRoot)
	require.Equal(t, *ts, pre.Transition)
	require.Equal(t, uint64(9), pre.Super.Timestamp)

	// A bare super root is step 0 with nothing pending.
	pre, err = UnmarshalPreState(super)
	require.NoError(t, err)
	require.True(t, pre.IsSuperRoot)
	require.Equal(t, uint64(0), pre.Transition.Step)
	require.Empty(t, pre.Transition.PendingProgress)
}

func TestPreStateDecodeErrors(t *testing.T) {
	super := NewSuperV1(9, ChainOutput{ChainID: 1}, ChainOutput{ChainID: 2}).Marshal()
	enc := func(ts TransitionState) []byte { return ts.Marshal() }
	blk := OptimisticBlock{BlockHash: common.Hash{1}}
	for name, c := range map[string]struct {
		data []byte
		is   error
	}{
		"bad version":        {append([]byte{0x02}, super[1:]...), ErrTransitionStateVersion},
		"bad version 0x00":   {[]byte{0, 1, 2}, ErrTransitionStateVersion},
		"invalid marker":     {InvalidTransition, ErrTransitionStateVersion},
		"truncated rlp":      {enc(TransitionState{SuperRoot: super, Step: 1})[:20], nil},
		"bad super root":     {enc(TransitionState{SuperRoot: super[:50]}), ErrInvalidSuperRoot},
		"too many pending":   {enc(TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{blk, blk, blk}, Step: 3}), nil},
		"step past 127":      {enc(TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{blk, blk}, Step: 128}), nil},
		"pending short":      {enc(TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{blk}, Step: 2}), nil},
		"pending ahead":      {enc(TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{blk}, Step: 0}), nil},
		"padding short":      {enc(TransitionState{SuperRoot: super, PendingProgress: []OptimisticBlock{blk}, Step: 50}), nil},
		"trailing rlp bytes": {append(enc(TransitionState{SuperRoot: super}), 0x80), nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := UnmarshalPreState(c.data)
			require.Error(t, err)
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
			}
		})
	}
}

func TestTransitionSteps(t *testing.T) {
	prev := NewSuperV1(100, ChainOutput{ChainID: 10, Output: common.Hash{1}}, ChainOutput{ChainID: 20, Output: common.Hash{2}})
	ts := &TransitionState{SuperRoot: prev.Marshal()}
	a, b := OptimisticBlock{BlockHash: common.Hash{0xa}, OutputRoot: common.Hash{0xa1}}, OptimisticBlock{BlockHash: common.Hash{0xb}, OutputRoot: common.Hash{0xb1}}
	ts1 := ts.Next(&a)
	ts2 := ts1.Next(&b)
	require.Len(t, ts1.PendingProgress, 1, "Next must not alias the earlier state's progress")
	require.Equal(t, uint64(2), ts2.Step)
	p := ts2
	for p.Step < ConsolidateStep {
		p = p.Next(nil)
	}
	require.Equal(t, []OptimisticBlock{a, b}, p.PendingProgress)
	next, err := NextSuperRoot(prev, []common.Hash{a.OutputRoot, b.OutputRoot})
	require.NoError(t, err)
	require.Equal(t, NewSuperV1(101, ChainOutput{ChainID: 10, Output: a.OutputRoot}, ChainOutput{ChainID: 20, Output: b.OutputRoot}), next)
	_, err = NextSuperRoot(prev, []common.Hash{a.OutputRoot})
	require.Error(t, err)
}

func TestDependencySetJSON(t *testing.T) {
	ds, err := ParseDependencySet([]byte(`{"dependencies":{"902":{},"10":{},"901":{}},"overrideMessageExpiryWindow":null}`))
	require.NoError(t, err)
	require.Equal(t, []uint64{10, 901, 902}, ds.Chains())
	require.Equal(t, MessageExpiryWindow, ds.ExpiryWindow())
	require.True(t, ds.HasChain(901))
	require.False(t, ds.HasChain(903))
	enc, err := json.Marshal(ds)
	require.NoError(t, err)
	require.Equal(t, `{"dependencies":{"10":{},"901":{},"902":{}}}`, string(enc))

	ds, err = ParseDependencySet([]byte(`{"dependencies":{"1":{}},"overrideMessageExpiryWindow":60}`))
	require.NoError(t, err)
	require.Equal(t, uint64(60), ds.ExpiryWindow())
	require.ErrorContains(t, ds.CheckCovers([]uint64{1, 2}), "chain 2 is not in the dependency set")

	for name, bad := range map[string]string{
		"empty":         `{"dependencies":{}}`,
		"not a number":  `{"dependencies":{"op":{}}}`,
		"unknown field": `{"dependencies":{"1":{}},"expiry":5}`,
		"not json":      `{`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDependencySet([]byte(bad))
			require.Error(t, err)
		})
	}
}

func TestExecutingMessageLog(t *testing.T) {
	require.Equal(t, common.HexToHash("0x5c37832d2e8d10e346e55ad62071a6a2f9fa5130614ef2ec6617555c6f467ba7"), ExecutingMessageTopic)
	m := ExecutingMessage{ID: Identifier{Origin: common.Address{0x11}, BlockNumber: 7, LogIndex: 3, Timestamp: 1234, ChainID: 901}, PayloadHash: common.Hash{0x22}}
	l := ExecutingMessageLog(m)
	got, err := ExecutingMessageFromLog(l)
	require.NoError(t, err)
	require.Equal(t, &m, got)

	other := *l
	other.Address = common.Address{1}
	got, err = ExecutingMessageFromLog(&other)
	require.NoError(t, err)
	require.Nil(t, got, "only the CrossL2Inbox emits executing messages")

	short := *l
	short.Data = l.Data[:100]
	_, err = ExecutingMessageFromLog(&short)
	require.ErrorIs(t, err, ErrMalformedExecutingMessage)

	// Words wider than their Go type saturate: such a message names nothing that exists.
	wide := *l
	wide.Data = bytes.Clone(l.Data)
	wide.Data[32] = 1 // block number >= 2^248
	wide.Data[64] = 1 // log index
	got, err = ExecutingMessageFromLog(&wide)
	require.NoError(t, err)
	require.Equal(t, uint64(1<<64-1), got.ID.BlockNumber)
	require.Equal(t, uint32(1<<32-1), got.ID.LogIndex)
}

func TestPayloadHashAndChecksum(t *testing.T) {
	l := &types.Log{Address: common.Address{0xaa}, Topics: []common.Hash{{0xcc}, {0xdd}}, Data: []byte{0xee, 0xff}}
	require.Equal(t, append(append(common.Hash{0xcc}.Bytes(), common.Hash{0xdd}.Bytes()...), 0xee, 0xff), MessagePayload(l))
	m := ExecutingMessage{ID: Identifier{Origin: l.Address, BlockNumber: 0x0102, LogIndex: 3, Timestamp: 0x0a0b, ChainID: 901}, PayloadHash: PayloadHash(l)}
	// The checksum by the spec's steps (predeploys.md "type 3: Checksum"), written out again.
	logHash := crypto.Keccak256(l.Address[:], m.PayloadHash[:])
	idPacked := make([]byte, 32)
	idPacked[18], idPacked[19] = 0x01, 0x02
	idPacked[26], idPacked[27] = 0x0a, 0x0b
	idPacked[31] = 3
	idLogHash := crypto.Keccak256(logHash, idPacked)
	sum := crypto.Keccak256(idLogHash, common.LeftPadBytes([]byte{0x03, 0x85}, 32))
	sum[0] = 3
	require.Equal(t, common.BytesToHash(sum), m.Checksum())
	lookup := m.LookupEntry()
	require.Equal(t, common.HexToHash("0x01000000000000000000038500000000000001020000000000000a0b00000003"), lookup)
	al := AccessList(m)
	require.Equal(t, CrossL2InboxAddr, al[0].Address)
	require.Equal(t, []common.Hash{lookup, m.Checksum()}, al[0].StorageKeys)
	cd := ValidateMessageCalldata(m)
	require.Len(t, cd, 4+5*32+32)
	require.Equal(t, crypto.Keccak256([]byte("validateMessage((address,uint256,uint256,uint256,uint256),bytes32)"))[:4], cd[:4])
}

func u64(v uint64) *uint64 { return &v }

func TestCheckLinkRules(t *testing.T) {
	cfg := func(lagoon *uint64) *rollup.Config {
		return &rollup.Config{BlockTime: 2, Genesis: rollup.Genesis{L2Time: 0}, LagoonTime: lagoon}
	}
	configs := map[uint64]*rollup.Config{1: cfg(u64(10)), 2: cfg(u64(10)), 3: cfg(nil)}
	get := func(id uint64) *rollup.Config { return configs[id] }
	ds, err := NewDependencySet([]uint64{1, 2, 3}, 100)
	require.NoError(t, err)
	small, err := NewDependencySet([]uint64{1}, 0)
	require.NoError(t, err)
	id := func(chain, ts uint64) Identifier { return Identifier{ChainID: chain, Timestamp: ts} }
	for _, c := range []struct {
		rule      string
		ds        *DependencySet
		execChain uint64
		execTime  uint64
		id        Identifier
		want      error
	}{
		{"valid", ds, 1, 20, id(2, 14), nil},
		{"valid same timestamp", ds, 1, 20, id(2, 20), nil},
		{"valid at the expiry bound", ds, 1, 120, id(2, 20), nil},
		{"executing chain not in the set", small, 2, 20, id(1, 14), ErrExecutingChainNotInSet},
		{"initiating chain not in the set", small, 1, 20, id(2, 14), ErrInitiatingChainNotInSet},
		{"initiating chain unknown", ds, 1, 20, id(7, 14), ErrInitiatingChainNotInSet},
		{"executed in the activation block", ds, 1, 10, id(2, 10), ErrExecutedTooEarly},
		{"executed before interop", ds, 1, 8, id(2, 8), ErrExecutedTooEarly},
		{"message from the future", ds, 1, 20, id(2, 22), ErrMessageInFuture},
		{"initiated in the activation block", ds, 1, 20, id(2, 10), ErrInitiatedTooEarly},
		{"initiated on a chain without interop", ds, 1, 20, id(3, 14), ErrInitiatedTooEarly},
		{"expired", ds, 1, 121, id(2, 20), ErrMessageExpired},
	} {
		t.Run(c.rule, func(t *testing.T) {
			err := CheckLink(c.ds, get, c.execChain, c.execTime, c.id)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.True(t, errors.Is(err, c.want), "got %v", err)
		})
	}
}

func TestCyclicChains(t *testing.T) {
	msg := func(chain uint64, logIx uint32, initChain uint64, initLog uint32, initTs uint64) BlockMessage {
		return BlockMessage{Chain: chain, Timestamp: 10, LogIndex: logIx, Msg: ExecutingMessage{ID: Identifier{ChainID: initChain, LogIndex: initLog, Timestamp: initTs}}}
	}
	for _, c := range []struct {
		name string
		msgs []BlockMessage
		want []uint64
	}{
		{"no messages", nil, nil},
		{"earlier timestamp is never a cycle", []BlockMessage{msg(1, 0, 2, 0, 8), msg(2, 0, 1, 0, 8)}, nil},
		{"one way", []BlockMessage{msg(1, 5, 2, 0, 10)}, nil},
		{"earlier log of the same block", []BlockMessage{msg(1, 0, 3, 0, 10), msg(1, 4, 1, 2, 10)}, nil},
		{"itself", []BlockMessage{msg(1, 4, 1, 4, 10)}, []uint64{1}},
		{"a later log of the same block", []BlockMessage{msg(1, 4, 1, 6, 10)}, []uint64{1}},
		{"mutual", []BlockMessage{msg(1, 0, 2, 0, 10), msg(2, 0, 1, 0, 10)}, []uint64{1, 2}},
		{"three chains", []BlockMessage{msg(1, 0, 2, 1, 10), msg(2, 1, 3, 3, 10), msg(3, 3, 1, 5, 10)}, []uint64{1, 2, 3}},
		// A message that depends on a cycle is not part of it (kona keeps what the cycle depends on).
		{"behind a cycle", []BlockMessage{msg(1, 0, 2, 0, 10), msg(2, 0, 1, 0, 10), msg(3, 0, 1, 0, 10)}, []uint64{1, 2}},
		{"what a cycle depends on", []BlockMessage{msg(3, 0, 4, 0, 10), msg(1, 0, 3, 0, 10), msg(1, 1, 2, 0, 10), msg(2, 0, 1, 1, 10)}, []uint64{1, 2, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, CyclicChains(c.msgs, 10))
		})
	}
}
