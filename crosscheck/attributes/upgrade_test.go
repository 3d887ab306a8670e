package attributes_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-core/forks"
	"github.com/ethereum-optimism/optimism/op-core/nuts"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"

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
	withUpgrades := 0
	for i := 0; i < iterations(2000); i++ {
		cfg := randomForkConfig(rng)
		op := opConfig(cfg)
		l2Time := randomL2Time(rng, cfg)
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
		got, err := derive.UpgradeTransactions(cfg, l2Time)
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
	t.Logf("%d blocks with upgrade transactions", withUpgrades)
	require.NotZero(t, withUpgrades)
}
