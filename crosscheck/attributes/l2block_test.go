package attributes_test

import (
	"encoding/binary"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// randomExtra is the extra data of an L2 block: Holocene's 9 or Jovian's 17 bytes with random (sometimes
// zero) parameters, empty, or random bytes.
func randomExtra(rng *rand.Rand) []byte {
	var e []byte
	switch rng.Intn(5) {
	case 0:
		return nil
	case 1:
		e = make([]byte, 9)
	case 2, 3:
		e = make([]byte, 17)
		e[0] = 1
	default:
		e = make([]byte, rng.Intn(20))
		rng.Read(e)
		return e
	}
	binary.BigEndian.PutUint32(e[1:5], uint32(rng.Intn(3))*rng.Uint32())
	binary.BigEndian.PutUint32(e[5:9], uint32(rng.Intn(3))*rng.Uint32())
	if len(e) == 17 {
		binary.BigEndian.PutUint64(e[9:], rng.Uint64())
	}
	if rng.Intn(6) == 0 {
		e[0] ^= 1
	}
	return e
}

// TestSystemConfigFromL2BlockDifferential reads the system config and L1 origin back from random L2 blocks
// (L1 info deposits built for the block's time or another, random gas limits around the Karst upgrade gas,
// random extra data, the genesis block) with derive and with op-node's PayloadToSystemConfig and
// PayloadToBlockRef.
func TestSystemConfigFromL2BlockDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(501))
	l1 := l1ChainConfig()
	_, karstGas, err := derive.KarstUpgradeTransactions()
	require.NoError(t, err)
	_, lagoonGas, err := derive.LagoonUpgradeTransactions(false)
	require.NoError(t, err)
	accepted, karst, lagoon := 0, 0, 0
	for i := 0; i < iterations(3000); i++ {
		cfg := randomForkConfig(rng)
		sysCfg := randomSysCfg(rng)
		if rng.Intn(2) == 0 {
			sysCfg.Scalar = derive.EncodeEcotoneScalar(rng.Uint32(), rng.Uint32())
		}
		l2Time := randomL2Time(rng, cfg)
		if at := cfg.KarstTime; at != nil && *at > 0 && rng.Intn(4) == 0 {
			l2Time = (*at + 1) &^ 1
		}
		if at := cfg.LagoonTime; at != nil && *at > 0 && rng.Intn(3) == 0 {
			l2Time = (*at + 1) &^ 1
		}
		depTime := l2Time
		if rng.Intn(8) == 0 {
			depTime = randomL2Time(rng, cfg) // an L1 info deposit of another block's form
		}
		header := randomL1Header(rng, l1, uint64(rng.Intn(1<<30)), randomHash(rng), uint64(rng.Intn(4000)))
		dep, err := derive.L1InfoDeposit(cfg, l1, sysCfg, uint64(rng.Intn(5)), header, depTime)
		if err != nil {
			continue // unusable scalar
		}
		var txs []*types.Transaction
		switch rng.Intn(10) {
		case 0:
		case 1:
			txs = []*types.Transaction{types.NewTx(&types.LegacyTx{Data: dep.Data})}
		default:
			txs = []*types.Transaction{types.NewTx(dep), types.NewTx(&types.LegacyTx{})}
		}
		gasLimit := uint64(rng.Intn(100_000_000))
		switch rng.Intn(6) {
		case 0, 1:
			gasLimit += karstGas - 50_000_000
		case 2:
			gasLimit += lagoonGas - 50_000_000
		case 3:
			gasLimit += karstGas + lagoonGas - 50_000_000
		}
		h := &types.Header{
			Number:   big.NewInt(int64(1 + l2Time/blockTime)),
			Time:     l2Time,
			GasLimit: gasLimit,
			Extra:    randomExtra(rng),
			BaseFee:  big.NewInt(int64(rng.Intn(1000))),
		}
		if rng.Intn(2) == 0 { // well-formed extra data for the block's fork
			switch {
			case cfg.IsJovian(l2Time):
				h.Extra = []byte{1, 0, 0, 0, 250, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 1, 0}
			case cfg.IsHolocene(l2Time):
				h.Extra = []byte{0, 0, 0, 0, 50, 0, 0, 0, 6}
			default:
				h.Extra = nil
			}
		}
		block := types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: txs})
		if rng.Intn(20) == 0 {
			cfg.Genesis.L2 = rollup.BlockID{Hash: block.Hash(), Number: block.NumberU64()}
			cfg.Genesis.SystemConfig = sysCfg
			cfg.Genesis.L1 = rollup.BlockID{Hash: randomHash(rng), Number: 7}
			if rng.Intn(3) == 0 {
				cfg.Genesis.L2.Hash = randomHash(rng)
			}
		}
		op := opConfig(cfg)
		payload, err := eth.BlockAsPayload(block, op)
		require.NoError(t, err)

		theirs, theirErr := opderive.PayloadToSystemConfig(op, payload)
		ours, ourErr := derive.SystemConfigFromL2Block(cfg, block)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v", i, theirErr, ourErr)
		if ourErr == nil {
			accepted++
			require.Equal(t, fromOpSysCfg(theirs), ours, "case %d", i)
			if cfg.IsActivationBlock(rollup.Karst, l2Time) && block.NumberU64() != cfg.Genesis.L2.Number {
				karst++
			}
			if cfg.IsActivationBlock(rollup.Lagoon, l2Time) && block.NumberU64() != cfg.Genesis.L2.Number {
				lagoon++
			}
		}

		ref, theirErr := opderive.PayloadToBlockRef(op, payload)
		parent, ourErr := derive.AttributesParentFromBlock(cfg, block)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v", i, theirErr, ourErr)
		if ourErr == nil {
			require.Equal(t, ref.Hash, parent.Hash)
			require.Equal(t, ref.Number, parent.Number)
			require.Equal(t, ref.Time, parent.Time)
			require.Equal(t, ref.L1Origin.Hash, parent.L1Origin.Hash)
			require.Equal(t, ref.L1Origin.Number, parent.L1Origin.Number)
			require.Equal(t, ref.SequenceNumber, parent.SequenceNumber)
		}
	}
	t.Logf("%d system configs read, %d of Karst activation blocks, %d of Lagoon's", accepted, karst, lagoon)
	require.NotZero(t, accepted)
	require.NotZero(t, karst)
	require.NotZero(t, lagoon)
}
