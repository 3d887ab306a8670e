package crosscheck

import (
	"math/rand/v2"
	"testing"

	"github.com/ethereum-optimism/optimism/op-core/interop/depset"
	"github.com/ethereum-optimism/optimism/op-core/interop/messages"
	"github.com/ethereum-optimism/optimism/op-service/eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/interop"
)

func randHash(rng *rand.Rand) (h common.Hash) {
	for i := range h {
		h[i] = byte(rng.UintN(256))
	}
	return h
}

// randSuper makes a super root of 1-6 chains with random, distinct chain IDs (small and large).
func randSuper(rng *rand.Rand) (*interop.SuperV1, *eth.SuperV1) {
	n := 1 + rng.IntN(6)
	seen := map[uint64]bool{}
	var ours []interop.ChainOutput
	var theirs []eth.ChainIDAndOutput
	for len(ours) < n {
		id := rng.Uint64()
		if rng.IntN(2) == 0 {
			id = rng.Uint64N(100_000)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		out := randHash(rng)
		ours = append(ours, interop.ChainOutput{ChainID: id, Output: out})
		theirs = append(theirs, eth.ChainIDAndOutput{ChainID: eth.ChainIDFromUInt64(id), Output: eth.Bytes32(out)})
	}
	ts := rng.Uint64()
	return interop.NewSuperV1(ts, ours...), eth.NewSuperV1(ts, theirs...)
}

// TestSuperRootMatchesOpService: our super root encoding, root and decoding against op-service's eth.SuperV1
// on random super roots.
func TestSuperRootMatchesOpService(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		ours, theirs := randSuper(rng)
		require.Equal(t, theirs.Marshal(), ours.Marshal())
		require.Equal(t, common.Hash(eth.SuperRoot(theirs)), ours.Root())
		dec, err := interop.UnmarshalSuperRoot(theirs.Marshal())
		require.NoError(t, err)
		require.Equal(t, ours, dec)
	}
}

// TestTransitionStateMatchesOpService: our transition state encoding and hash against op-service's
// eth.TransitionState (the type op-program v1.19.0's client/interop/types had) on random states, and both
// decoders on each other's output.
func TestTransitionStateMatchesOpService(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		ours, _ := randSuper(rng)
		n := len(ours.Chains)
		step := rng.Uint64N(interop.StepsPerTimestamp)
		pending := min(int(step), n)
		ts := interop.TransitionState{SuperRoot: ours.Marshal(), Step: step}
		ref := eth.TransitionState{SuperRoot: ours.Marshal(), Step: step}
		for range pending {
			b := interop.OptimisticBlock{BlockHash: randHash(rng), OutputRoot: randHash(rng)}
			ts.PendingProgress = append(ts.PendingProgress, b)
			ref.PendingProgress = append(ref.PendingProgress, eth.OptimisticBlock{BlockHash: b.BlockHash, OutputRoot: eth.Bytes32(b.OutputRoot)})
		}
		require.Equal(t, ref.Marshal(), ts.Marshal())
		require.Equal(t, ref.Hash(), ts.Hash())

		pre, err := interop.UnmarshalPreState(ref.Marshal())
		require.NoError(t, err)
		require.Equal(t, ts.Marshal(), pre.Transition.Marshal())
		back, err := eth.UnmarshalTransitionState(ts.Marshal())
		require.NoError(t, err)
		require.Equal(t, ref.Hash(), back.Hash())
	}
	require.Equal(t, eth.InvalidTransitionHash, interop.InvalidTransitionHash)
	require.Equal(t, eth.IntermediateTransitionVersion, interop.TransitionStateVersion)
	require.Equal(t, eth.SuperRootVersionV1, interop.SuperRootVersionV1)
}

// TestExecutingMessagesMatchOpCore: the executing message event, payload hash and access-list checksum
// against op-core's interop messages package, and the dependency set JSON against op-core's depset.
func TestExecutingMessagesMatchOpCore(t *testing.T) {
	require.Equal(t, messages.ExecutingMessageEventTopic, interop.ExecutingMessageTopic)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		init := &types.Log{Address: common.Address(randHash(rng).Bytes()[:20]), Data: randHash(rng).Bytes()[:rng.IntN(32)]}
		for range rng.IntN(5) {
			init.Topics = append(init.Topics, randHash(rng))
		}
		m := interop.ExecutingMessage{
			ID: interop.Identifier{Origin: init.Address, BlockNumber: rng.Uint64(), LogIndex: rng.Uint32(),
				Timestamp: rng.Uint64(), ChainID: rng.Uint64()},
			PayloadHash: interop.PayloadHash(init),
		}
		require.Equal(t, messages.LogToMessagePayload(init), interop.MessagePayload(init))
		theirs, err := messages.DecodeExecutingMessageLog(interop.ExecutingMessageLog(m))
		require.NoError(t, err)
		require.Equal(t, m.ID.BlockNumber, theirs.BlockNum)
		require.Equal(t, m.ID.LogIndex, theirs.LogIdx)
		require.Equal(t, m.ID.Timestamp, theirs.Timestamp)
		require.Equal(t, eth.ChainIDFromUInt64(m.ID.ChainID), theirs.ChainID)
		require.Equal(t, common.Hash(theirs.Checksum), m.Checksum())
		args := messages.ChecksumArgs{BlockNumber: m.ID.BlockNumber, LogIndex: m.ID.LogIndex, Timestamp: m.ID.Timestamp,
			ChainID: eth.ChainIDFromUInt64(m.ID.ChainID), LogHash: messages.LogToLogHash(init)}
		require.Equal(t, common.Hash(args.Checksum()), m.Checksum())
		// The access list our devnet declares parses as op-geth's and op-core's entries of the same message.
		require.Equal(t, messages.EncodeAccessList([]messages.Access{args.Access()}), interop.AccessList(m)[0].StorageKeys)
		decoded, err := messages.DecodeAccessList(interop.AccessList(m))
		require.NoError(t, err)
		require.Equal(t, []messages.Access{args.Access()}, decoded)
	}

	ds, err := interop.NewDependencySet([]uint64{901, 10, 902}, 3600)
	require.NoError(t, err)
	enc, err := ds.MarshalJSON()
	require.NoError(t, err)
	theirs := new(depset.StaticConfigDependencySet)
	require.NoError(t, theirs.UnmarshalJSON(enc))
	require.Equal(t, []eth.ChainID{eth.ChainIDFromUInt64(10), eth.ChainIDFromUInt64(901), eth.ChainIDFromUInt64(902)}, theirs.Chains())
	require.Equal(t, uint64(3600), theirs.MessageExpiryWindow())
	back, err := theirs.MarshalJSON()
	require.NoError(t, err)
	again, err := interop.ParseDependencySet(back)
	require.NoError(t, err)
	require.Equal(t, ds, again)
}
