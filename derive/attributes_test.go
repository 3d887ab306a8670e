package derive

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// attrEpoch makes an L1 origin header that follows parent (or is the first of the chain with parent nil).
func attrEpoch(parent *types.Header, time uint64) *types.Header {
	h := attrL1Header(1, time, attrPtr(0))
	if parent != nil {
		h.Number = new(big.Int).Add(parent.Number, common.Big1)
		h.ParentHash = parent.Hash()
	}
	return h
}

func attrInput(cfg *rollup.Config, parentOrigin, origin *types.Header, parentTime, parentSeq uint64) *AttributesInput {
	return &AttributesInput{
		Parent: AttributesParent{
			Hash:           common.HexToHash("0x9a"),
			Number:         parentTime / 2,
			Time:           parentTime,
			L1Origin:       rollup.BlockID{Hash: parentOrigin.Hash(), Number: parentOrigin.Number.Uint64()},
			SequenceNumber: parentSeq,
		},
		SysCfg: rollup.SystemConfig{
			BatcherAddr:   common.HexToAddress("0xba7c4e7"),
			Scalar:        EncodeEcotoneScalar(10, 20),
			GasLimit:      30_000_000,
			EIP1559Params: rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6},
			MinBaseFee:    1234,
		},
		L1Origin:  origin,
		Timestamp: parentTime + cfg.BlockTime,
	}
}

func TestBuildAttributesSameEpoch(t *testing.T) {
	cfg := attrForkConfig()
	l1 := attrL1Config()
	origin := attrEpoch(nil, 1500)
	in := attrInput(cfg, origin, origin, 1500, 4)
	in.Transactions = [][]byte{{0x02, 0xc0}, {0x01, 0xc0}}
	// Receipts are not read inside an epoch.
	in.L1Receipts = types.Receipts{{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{{Address: cfg.DepositContractAddress, Topics: []common.Hash{DepositEventTopic}}}}}

	attrs, sysCfg, err := BuildAttributes(cfg, l1, in)
	require.NoError(t, err)
	require.Equal(t, in.SysCfg, sysCfg)
	require.Equal(t, uint64(1502), attrs.Timestamp)
	require.Equal(t, origin.MixDigest, attrs.Random)
	require.Equal(t, common.HexToAddress("0x4200000000000000000000000000000000000011"), attrs.SuggestedFeeRecipient)
	require.True(t, attrs.NoTxPool)
	require.Equal(t, uint64(30_000_000), *attrs.GasLimit)
	require.NotNil(t, attrs.Withdrawals)
	require.Empty(t, attrs.Withdrawals)
	require.Equal(t, *origin.ParentBeaconRoot, *attrs.BeaconRoot)
	require.Equal(t, []byte{0, 0, 0, 250, 0, 0, 0, 6}, attrs.EIP1559Params)
	require.Equal(t, uint64(1234), *attrs.MinBaseFee)
	require.Len(t, attrs.Transactions, 3)
	require.Equal(t, in.Transactions, attrs.Transactions[1:])

	want, err := L1InfoDepositBytes(cfg, l1, in.SysCfg, 5, origin, 1502)
	require.NoError(t, err)
	require.Equal(t, want, attrs.Transactions[0], "sequence number is the parent's plus one")
}

func TestBuildAttributesNewEpoch(t *testing.T) {
	cfg := attrForkConfig()
	l1 := attrL1Config()
	parentOrigin := attrEpoch(nil, 1490)
	origin := attrEpoch(parentOrigin, 1500)
	in := attrInput(cfg, parentOrigin, origin, 1500, 7)
	in.Transactions = [][]byte{{0x02, 0xc0}}

	dep := &types.DepositTx{From: common.HexToAddress("0x01"), Value: big.NewInt(5), Gas: 100_000, Data: []byte{}}
	ev, err := MarshalDepositLogEvent(cfg.DepositContractAddress, dep)
	require.NoError(t, err)
	ev.BlockHash, ev.Index = origin.Hash(), 1
	gasUpdate := attrConfigLog(cfg, SystemConfigUpdateGasLimit, attrABIBytes(attrWords("0x02faf080"))) // 50M
	badUpdate := attrConfigLog(cfg, SystemConfigUpdateBatcher, []byte{1})
	in.L1Receipts = types.Receipts{
		{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{gasUpdate, ev, badUpdate}},
	}

	attrs, sysCfg, err := BuildAttributes(cfg, l1, in)
	require.NoError(t, err)
	require.Equal(t, uint64(50_000_000), sysCfg.GasLimit, "the epoch's system config updates apply; malformed ones are skipped")
	require.Equal(t, in.SysCfg.BatcherAddr, sysCfg.BatcherAddr)
	require.Equal(t, uint64(50_000_000), *attrs.GasLimit)
	require.Len(t, attrs.Transactions, 3)

	wantInfo, err := L1InfoDepositBytes(cfg, l1, sysCfg, 0, origin, 1502)
	require.NoError(t, err)
	require.Equal(t, wantInfo, attrs.Transactions[0], "sequence number 0 at a new epoch")
	wantDeps, err := DeriveDeposits(in.L1Receipts, cfg.DepositContractAddress)
	require.NoError(t, err)
	require.Equal(t, wantDeps[0], attrs.Transactions[1])
	require.Equal(t, in.Transactions[0], attrs.Transactions[2])
	require.Equal(t, uint64(30_000_000), in.SysCfg.GasLimit, "the input system config is not modified")

	// A malformed deposit is a critical error.
	ev.Topics[3] = common.HexToHash("0x01")
	_, _, err = BuildAttributes(cfg, l1, in)
	require.ErrorIs(t, err, ErrAttributesCritical)
	require.ErrorIs(t, err, ErrMalformedDeposit)
}

func TestBuildAttributesRejects(t *testing.T) {
	cfg := attrForkConfig()
	l1 := attrL1Config()
	parentOrigin := attrEpoch(nil, 1490)
	origin := attrEpoch(parentOrigin, 1500)
	unrelated := attrL1Header(2, 1500, attrPtr(0))
	unrelated.ParentHash = common.HexToHash("0x0bad")
	skip := attrEpoch(origin, 1510)

	tests := []struct {
		name string
		in   func() *AttributesInput
		err  error
	}{
		{"new epoch not the child of the parent's origin", func() *AttributesInput {
			return attrInput(cfg, parentOrigin, unrelated, 1500, 0)
		}, ErrAttributesReset},
		{"epoch skipped", func() *AttributesInput {
			return attrInput(cfg, parentOrigin, skip, 1510, 0)
		}, ErrAttributesReset},
		{"same epoch number, other hash", func() *AttributesInput {
			other := attrEpoch(nil, 1490)
			other.Extra = []byte("fork")
			return attrInput(cfg, parentOrigin, other, 1500, 0)
		}, ErrAttributesReset},
		{"timestamp not parent plus block time", func() *AttributesInput {
			in := attrInput(cfg, origin, origin, 1500, 0)
			in.Timestamp++
			return in
		}, ErrAttributesReset},
		{"L2 time before the L1 origin", func() *AttributesInput {
			return attrInput(cfg, parentOrigin, origin, 1496, 0) // block at 1498 < 1500
		}, ErrAttributesReset},
		{"no L1 origin", func() *AttributesInput {
			in := attrInput(cfg, origin, origin, 1500, 0)
			in.L1Origin = nil
			return in
		}, ErrAttributesCritical},
		{"unknown scalar version", func() *AttributesInput {
			in := attrInput(cfg, origin, origin, 1500, 0)
			in.SysCfg.Scalar[0] = 7
			return in
		}, ErrAttributesCritical},
		{"blob base fee not computable", func() *AttributesInput {
			early := attrL1Header(1, 500, attrPtr(5)) // excess blob gas before the L1's Cancun
			return attrInput(cfg, early, early, 1500, 0)
		}, ErrAttributesCritical},
		{"lagoon activation", func() *AttributesInput {
			return attrInput(cfg, origin, origin, 1500, 0)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := BuildAttributes(cfg, l1, tt.in())
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
		})
	}

	// The Lagoon activation block needs the size of the dependency set.
	lagoon := attrForkConfig()
	lagoon.LagoonTime = attrPtr(1502)
	_, _, err := BuildAttributes(lagoon, l1, attrInput(lagoon, origin, origin, 1500, 0))
	require.ErrorIs(t, err, ErrAttributesCritical)
	require.ErrorIs(t, err, ErrNoDependencySet)
	in := attrInput(lagoon, origin, origin, 1500, 0)
	in.DependencySetSize = 1
	_, _, err = BuildAttributes(lagoon, l1, in)
	require.NoError(t, err)
}

// TestBuildAttributesForks checks the fork-dependent fields and the upgrade transactions of each
// activation block.
func TestBuildAttributesForks(t *testing.T) {
	cfg := attrForkConfig()
	cfg.CanyonTime = attrPtr(50)
	cfg.DeltaTime = attrPtr(50)
	l1 := attrL1Config()
	origin := attrEpoch(nil, 10)
	origin.ParentBeaconRoot = nil // L1 before Cancun: no beacon root (zero from Ecotone), no blobs
	origin.ExcessBlobGas, origin.BlobGasUsed = nil, nil

	for _, tt := range []struct {
		time        uint64
		withdrawals bool
		beaconRoot  bool
		eip1559     bool
		minBaseFee  bool
		upgradeTxs  int
		upgradeGas  uint64
	}{
		{48, false, false, false, false, 0, 0},
		{50, true, false, false, false, 0, 0},       // Canyon
		{100, true, true, false, false, 6, 0},       // Ecotone activation
		{120, true, true, false, false, 3, 0},       // Fjord activation
		{160, true, true, true, false, 0, 0},        // Holocene
		{180, true, true, true, false, 8, 0},        // Isthmus activation
		{200, true, true, true, true, 5, 0},         // Jovian activation
		{220, true, true, true, true, 31, 55370657}, // Karst activation: bundle gas on top
		{222, true, true, true, true, 0, 0},
	} {
		in := attrInput(cfg, origin, origin, tt.time-2, 0)
		in.Transactions = [][]byte{{0x02}}
		attrs, _, err := BuildAttributes(cfg, l1, in)
		require.NoError(t, err, "time %d", tt.time)
		require.Equal(t, tt.withdrawals, attrs.Withdrawals != nil, "time %d", tt.time)
		require.Equal(t, tt.beaconRoot, attrs.BeaconRoot != nil, "time %d", tt.time)
		if tt.beaconRoot {
			require.Equal(t, common.Hash{}, *attrs.BeaconRoot)
		}
		require.Equal(t, tt.eip1559, attrs.EIP1559Params != nil, "time %d", tt.time)
		require.Equal(t, tt.minBaseFee, attrs.MinBaseFee != nil, "time %d", tt.time)
		require.Len(t, attrs.Transactions, 1+tt.upgradeTxs+1, "time %d", tt.time)
		upgrades, err := UpgradeTransactions(cfg, tt.time, 0)
		require.NoError(t, err)
		require.Len(t, upgrades, tt.upgradeTxs)
		for i := range upgrades {
			require.Equal(t, upgrades[i], attrs.Transactions[1+i], "upgrade transactions follow the L1 info deposit")
		}
		require.Equal(t, []byte{0x02}, attrs.Transactions[len(attrs.Transactions)-1], "sequencer transactions come last")
		require.Equal(t, 30_000_000+tt.upgradeGas, *attrs.GasLimit, "time %d", tt.time)
	}
}
