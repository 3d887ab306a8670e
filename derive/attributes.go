package derive

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/rollup"
)

// Payload attributes (specs/protocol/derivation.md "Deriving Payload Attributes"): the inputs of the
// engine for one L2 block derived from a batch.

// SequencerFeeVaultAddress is the suggested fee recipient of every derived block.
var SequencerFeeVaultAddress = common.HexToAddress("0x4200000000000000000000000000000000000011")

// Errors of BuildAttributes. ErrAttributesReset means the inputs are inconsistent with the chain (the L1
// origin does not follow the parent's, or the timestamps are off): the derivation pipeline must reset.
// ErrAttributesCritical means the block cannot be derived at all (a malformed deposit log of the deposit
// contract, an L1 block whose blob base fee cannot be computed, ...).
var (
	ErrAttributesReset    = errors.New("derivation reset needed")
	ErrAttributesCritical = errors.New("critical derivation error")
)

// AttributesParent is what payload attributes need of the parent L2 block.
type AttributesParent struct {
	Hash           common.Hash
	Number         uint64
	Time           uint64
	L1Origin       rollup.BlockID
	SequenceNumber uint64
}

// AttributesParentFromBlock reads what payload attributes need of an L2 block: for the rollup's genesis
// block (whose hash must match) the genesis L1 block as L1 origin and sequence number 0, else the L1 origin
// and sequence number of its L1 attributes deposit.
func AttributesParentFromBlock(cfg *rollup.Config, block *types.Block) (AttributesParent, error) {
	p := AttributesParent{Hash: block.Hash(), Number: block.NumberU64(), Time: block.Time()}
	if p.Number == cfg.Genesis.L2.Number {
		if p.Hash != cfg.Genesis.L2.Hash {
			return AttributesParent{}, fmt.Errorf("%w: block %d is %s, not the rollup's genesis %s", ErrL2BlockSystemConfig, p.Number, p.Hash, cfg.Genesis.L2.Hash)
		}
		p.L1Origin = cfg.Genesis.L1
		return p, nil
	}
	info, err := L1InfoFromL2Block(cfg, block)
	if err != nil {
		return AttributesParent{}, err
	}
	p.L1Origin = rollup.BlockID{Hash: info.BlockHash, Number: info.Number}
	p.SequenceNumber = info.SequenceNumber
	return p, nil
}

// AttributesInput holds the inputs of BuildAttributes.
type AttributesInput struct {
	Parent AttributesParent
	// SysCfg is the system config of the parent block, as SystemConfigFromL2Block reads it back from the
	// parent (the reference: on a KeepKarstUpgradeGas chain it keeps the Karst upgrade gas after the
	// activation block). BuildAttributes works on a copy, updated with the L1 origin's receipts when the
	// block starts a new epoch.
	SysCfg rollup.SystemConfig
	// L1Origin is the header of the block's L1 origin (the batch's epoch).
	L1Origin *types.Header
	// L1Receipts are the receipts of L1Origin, with block hash and log indices filled in. They are only
	// read when the block starts a new epoch (L1Origin is not the parent's L1 origin).
	L1Receipts types.Receipts
	// Timestamp is the batch's timestamp; it must be the parent's time plus the block time.
	Timestamp uint64
	// Transactions are the batch's (sequencer) transactions, EIP-2718 encoded.
	Transactions [][]byte
	// DependencySetSize is the number of chains in the chain's interop dependency set. Only the Lagoon
	// activation block reads it (more than one chain adds the interop wrapper deposits), and cannot be
	// derived without it (0: not known).
	DependencySetSize int
}

// BuildAttributes derives the payload attributes of the L2 block built on in.Parent from a batch with
// L1 origin in.L1Origin: the L1 attributes deposit, the user deposits (first block of an epoch only), the
// network upgrade transactions of a fork's activation block and the batch's transactions, in this order;
// the L1 origin's mix digest as prevRandao; the sequencer fee vault as fee recipient; the system config gas
// limit (plus the upgrade gas of a NUT bundle's activation block); from Canyon empty withdrawals; from
// Ecotone the L1 origin's parent beacon root (zero if it has none); from Holocene the system config's
// EIP-1559 parameters; from Jovian its minimum base fee. The transaction pool is never used.
//
// It also returns the system config the block was derived with: the parent's, updated with the L1
// origin's receipts at an epoch change. The next block's derivation must still start from
// SystemConfigFromL2Block of the built block, which is what op-node does and differs after a Karst
// activation block on a KeepKarstUpgradeGas chain. Errors wrap ErrAttributesReset or
// ErrAttributesCritical.
func BuildAttributes(cfg *rollup.Config, l1ChainConfig *params.ChainConfig, in *AttributesInput) (*rollup.PayloadAttributes, rollup.SystemConfig, error) {
	sysCfg := in.SysCfg
	parent, l1 := &in.Parent, in.L1Origin
	if l1 == nil || l1.Number == nil || !l1.Number.IsUint64() {
		return nil, sysCfg, fmt.Errorf("%w: L1 origin header missing or without a valid number", ErrAttributesCritical)
	}
	l1Hash, l1Num := l1.Hash(), l1.Number.Uint64()
	t := parent.Time + cfg.BlockTime
	if in.Timestamp != t {
		return nil, sysCfg, fmt.Errorf("%w: batch timestamp %d, want %d (parent time %d + block time)", ErrAttributesReset, in.Timestamp, t, parent.Time)
	}

	var seqNumber uint64
	var deposits [][]byte
	if parent.L1Origin.Number != l1Num {
		// First block of a new epoch: the L1 origin must be the child of the parent's.
		if l1.ParentHash != parent.L1Origin.Hash || l1Num != parent.L1Origin.Number+1 {
			return nil, sysCfg, fmt.Errorf("%w: L1 origin %d (%s, parent %s) does not follow the parent block's L1 origin %s",
				ErrAttributesReset, l1Num, l1Hash, l1.ParentHash, parent.L1Origin)
		}
		var err error
		if deposits, err = DeriveDeposits(in.L1Receipts, cfg.DepositContractAddress); err != nil {
			return nil, sysCfg, fmt.Errorf("%w: deposits of L1 block %d: %w", ErrAttributesCritical, l1Num, err)
		}
		// Malformed updates are skipped; the error only reports them.
		_ = ProcessSystemConfigUpdates(cfg, &sysCfg, in.L1Receipts, l1.Time)
	} else {
		if l1Hash != parent.L1Origin.Hash {
			return nil, sysCfg, fmt.Errorf("%w: L1 origin %d:%s conflicts with the parent block's L1 origin %s",
				ErrAttributesReset, l1Num, l1Hash, parent.L1Origin)
		}
		seqNumber = parent.SequenceNumber + 1
	}

	if t < l1.Time {
		return nil, sysCfg, fmt.Errorf("%w: L2 block time %d is before its L1 origin %d's time %d", ErrAttributesReset, t, l1Num, l1.Time)
	}

	upgradeTxs, upgradeGas, err := upgradeTransactionsAndGas(cfg, t, in.DependencySetSize)
	if err != nil {
		return nil, sysCfg, fmt.Errorf("%w: %w", ErrAttributesCritical, err)
	}
	l1InfoTx, err := L1InfoDepositBytes(cfg, l1ChainConfig, sysCfg, seqNumber, l1, t)
	if err != nil {
		return nil, sysCfg, fmt.Errorf("%w: %w", ErrAttributesCritical, err)
	}

	txs := make([][]byte, 0, 1+len(deposits)+len(upgradeTxs)+len(in.Transactions))
	txs = append(txs, l1InfoTx)
	txs = append(txs, deposits...)
	txs = append(txs, upgradeTxs...)
	txs = append(txs, in.Transactions...)

	gasLimit := sysCfg.GasLimit + upgradeGas
	if gasLimit < sysCfg.GasLimit {
		return nil, sysCfg, fmt.Errorf("%w: gas limit %d plus upgrade gas %d overflows", ErrAttributesCritical, sysCfg.GasLimit, upgradeGas)
	}
	attrs := &rollup.PayloadAttributes{
		Timestamp:             t,
		Random:                l1.MixDigest,
		SuggestedFeeRecipient: SequencerFeeVaultAddress,
		Transactions:          txs,
		NoTxPool:              true,
		GasLimit:              &gasLimit,
	}
	if cfg.IsCanyon(t) {
		attrs.Withdrawals = []*types.Withdrawal{}
	}
	if cfg.IsEcotone(t) {
		root := common.Hash{}
		if l1.ParentBeaconRoot != nil {
			root = *l1.ParentBeaconRoot
		}
		attrs.BeaconRoot = &root
	}
	if cfg.IsHolocene(t) {
		attrs.EIP1559Params = append([]byte{}, sysCfg.EIP1559Params[:]...)
	}
	if cfg.IsJovian(t) {
		minBaseFee := sysCfg.MinBaseFee
		attrs.MinBaseFee = &minBaseFee
	}
	return attrs, sysCfg, nil
}
