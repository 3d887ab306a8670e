package attributes_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-core/forks"
	"github.com/ethereum-optimism/optimism/op-core/nuts"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

func requireSameTxs(t *testing.T, theirs []hexutil.Bytes, ours [][]byte, what string) {
	t.Helper()
	require.Len(t, ours, len(theirs), what)
	for i := range theirs {
		require.Equal(t, []byte(theirs[i]), ours[i], "%s transaction %d", what, i)
		var a, b types.Transaction
		require.NoError(t, a.UnmarshalBinary(theirs[i]))
		require.NoError(t, b.UnmarshalBinary(ours[i]))
		require.Equal(t, a.Hash(), b.Hash(), "%s transaction %d", what, i)
		require.Equal(t, a.SourceHash(), b.SourceHash(), "%s transaction %d", what, i)
	}
}

// TestUpgradeTransactionsDifferential compares each fork's upgrade transactions byte for byte.
func TestUpgradeTransactionsDifferential(t *testing.T) {
	for _, f := range []struct {
		name   string
		theirs func() ([]hexutil.Bytes, error)
		ours   func() ([][]byte, error)
	}{
		{"ecotone", opderive.EcotoneNetworkUpgradeTransactions, derive.EcotoneUpgradeTransactions},
		{"fjord", opderive.FjordNetworkUpgradeTransactions, derive.FjordUpgradeTransactions},
		{"isthmus", opderive.IsthmusNetworkUpgradeTransactions, derive.IsthmusUpgradeTransactions},
		{"jovian", opderive.JovianNetworkUpgradeTransactions, derive.JovianUpgradeTransactions},
	} {
		theirs, err := f.theirs()
		require.NoError(t, err)
		ours, err := f.ours()
		require.NoError(t, err)
		requireSameTxs(t, theirs, ours, f.name)
	}

	theirs, theirGas, err := opderive.UpgradeTransactions(forks.Karst)
	require.NoError(t, err)
	ours, ourGas, err := derive.KarstUpgradeTransactions()
	require.NoError(t, err)
	requireSameTxs(t, theirs, ours, "karst")
	require.Equal(t, theirGas, ourGas)
	opGas, err := opderive.UpgradeGas(forks.Karst)
	require.NoError(t, err)
	require.Equal(t, opGas, ourGas)

	// derive embeds the bundle file itself; its unit test pins this digest.
	sum := sha256.Sum256(nuts.KarstNUTBundleJSON)
	require.Equal(t, "08f5df36f7ff29a9421ab84beebe96684a7455df9a5d234a2468613a4008ad91", hex.EncodeToString(sum[:]))

	// Lagoon: the bundle alone (a dependency set of one chain) and wrapped in the setFeature and
	// ETHLiquidity funding deposits (more than one), with the same gas either way.
	for _, wrapped := range []bool{false, true} {
		theirs, theirGas, err := opderive.LagoonActivationUpgradeTransactions(wrapped)
		require.NoError(t, err)
		ours, ourGas, err := derive.LagoonUpgradeTransactions(wrapped)
		require.NoError(t, err)
		requireSameTxs(t, theirs, ours, fmt.Sprintf("lagoon (wrapped %v)", wrapped))
		require.Equal(t, theirGas, ourGas)
	}
	opGas, err = opderive.UpgradeGas(forks.Lagoon)
	require.NoError(t, err)
	_, ourGas, err = derive.LagoonUpgradeTransactions(false)
	require.NoError(t, err)
	require.Equal(t, opGas, ourGas)
	sum = sha256.Sum256(nuts.LagoonNUTBundleJSON)
	require.Equal(t, "2124ce31c0947cac15f00114214dd4354848f7b4642ff2d12ebb3f94b28cc989", hex.EncodeToString(sum[:]))
}

// opDepSet is a dependency set of n chains as op-node's attributes builder sees it.
type opDepSet int

func (n opDepSet) Chains() []eth.ChainID {
	out := make([]eth.ChainID, n)
	for i := range out {
		out[i] = eth.ChainIDFromUInt64(uint64(901 + i))
	}
	return out
}

// TestUpgradeTransactionsByBlockDifferential checks which blocks get which upgrade transactions, over
// random fork schedules, against the selection in op-node's PreparePayloadAttributes.
func TestUpgradeTransactionsByBlockDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(301))
	eco, _ := opderive.EcotoneNetworkUpgradeTransactions()
	fjord, _ := opderive.FjordNetworkUpgradeTransactions()
	isthmus, _ := opderive.IsthmusNetworkUpgradeTransactions()
	jovian, _ := opderive.JovianNetworkUpgradeTransactions()
	karst, karstGas, _ := opderive.UpgradeTransactions(forks.Karst)
	lagoon, lagoonGas, _ := opderive.LagoonActivationUpgradeTransactions(false)
	lagoonWrapped, _, _ := opderive.LagoonActivationUpgradeTransactions(true)
	withUpgrades, withLagoon := 0, 0
	for i := 0; i < iterations(2000); i++ {
		cfg := randomForkConfig(rng)
		op := opConfig(cfg)
		l2Time := randomL2Time(rng, cfg)
		if cfg.LagoonTime != nil && rng.Intn(3) == 0 {
			l2Time = *cfg.LagoonTime &^ 1
		}
		depSetSize := 1 + rng.Intn(3)
		var want []hexutil.Bytes
		var wantGas uint64
		if op.IsEcotoneActivationBlock(l2Time) {
			want = append(want, eco...)
		}
		if op.IsFjordActivationBlock(l2Time) {
			want = append(want, fjord...)
		}
		if op.IsIsthmusActivationBlock(l2Time) {
			want = append(want, isthmus...)
		}
		if op.IsJovianActivationBlock(l2Time) {
			want = append(want, jovian...)
		}
		if op.IsL2CMActivationBlock(l2Time) {
			want = append(want, karst...)
			wantGas += karstGas
		}
		if op.IsLagoonActivationBlock(l2Time) {
			// op-node's PreparePayloadAttributes: wrapped when interop is active and the set has more
			// than one chain.
			if op.IsInterop(l2Time) && len(opDepSet(depSetSize).Chains()) > 1 {
				want = append(want, lagoonWrapped...)
			} else {
				want = append(want, lagoon...)
			}
			wantGas += lagoonGas
			withLagoon++
		}
		got, err := derive.UpgradeTransactions(cfg, l2Time, depSetSize)
		require.NoError(t, err)
		gas, err := derive.UpgradeGas(cfg, l2Time)
		require.NoError(t, err)
		require.Equal(t, len(want), len(got), "case %d", i)
		for j := range want {
			require.Equal(t, []byte(want[j]), got[j], "case %d tx %d", i, j)
		}
		require.Equal(t, wantGas, gas, "case %d", i)
		if len(want) > 0 {
			withUpgrades++
		}
	}
	t.Logf("%d blocks with upgrade transactions, %d Lagoon activations", withUpgrades, withLagoon)
	require.NotZero(t, withUpgrades)
	require.NotZero(t, withLagoon)
}
