package devnet

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/derive"
)

// generator makes a devnet: L1 blocks, and between two of them the L2 blocks whose time is before the
// next one; after each L1 block, derivation makes the L2 blocks it can from L1 safe (see derivation.go).
type generator struct {
	cfg     Config
	acc     *accounts
	l1      *l1Chain
	l2      *l2Chain
	batcher *batcher
	blobs   map[common.Hash]*blobRecord
	// blobBlocks are the L1 blocks with blobs.
	blobBlocks []uint64
	// spammedPre and spammedPost say whether the spam transaction before Holocene and the one after
	// have been sent.
	spammedPre, spammedPost bool
	// batcherSwitched: the system config made the second batcher the batcher.
	batcherSwitched bool
	// batchTxs are the transactions of every batch with the L2 block they are for: the program recovers
	// their senders, including those of transactions the engine then rejects.
	batchTxs []batchTx
	// safe is the safe head: the last L2 block derivation made from the L1 blocks so far.
	safe uint64
	txs  *txGen // random transactions and deposits (Config.TxSeed), or nil
	log  log.Logger
}

type batchTx struct {
	block *types.Block
	tx    []byte
}

// New generates a devnet.
func New(cfg Config) (*Devnet, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, acc: newAccounts(cfg.Seed), blobs: map[common.Hash]*blobRecord{}, log: discardLogs()}
	if cfg.TxSeed != 0 {
		g.txs = newTxGen(cfg.TxSeed)
	}
	if g.l1, err = newL1Chain(g.acc); err != nil {
		return nil, err
	}
	l2Config, rcfg := devnetConfigs(cfg)
	rcfg.Genesis.L1 = rollupBlockID(g.l1.blocks[0])
	if g.l2, err = newL2Chain(l2Config, rcfg, g.acc, g.txs != nil); err != nil {
		return nil, err
	}
	defer g.l2.close()
	g.l2.txs = g.txs
	if err := rcfg.Check(); err != nil {
		return nil, fmt.Errorf("rollup config: %w", err)
	}
	g.batcher = newBatcher(rcfg, cfg, g.l1, g.l2.rejectedTx)

	// Enough L1 blocks to sequence every L2 block and to wait out a sequencing window and a channel timeout.
	maxL1 := cfg.L2Blocks*rcfg.BlockTime/L1BlockTime + 2*rcfg.SeqWindowSize + max(rcfg.ChannelTimeoutBedrock, rcfg.ChannelTimeout(^uint64(0))) + 16
	for {
		// The L2 blocks before the next L1 block.
		nextL1 := g.l1.head().Time() + L1BlockTime
		for g.l2.next() <= cfg.L2Blocks && rcfg.TimestampForBlock(g.l2.next()) < nextL1 {
			built, err := g.l2.addBlock(g.l1, slices.Contains(cfg.InvalidBatchAt, g.l2.next()))
			if err != nil {
				return nil, err
			}
			g.batcher.add(built)
			for _, tx := range built.batch.Transactions {
				g.batchTxs = append(g.batchTxs, batchTx{built.block, tx})
			}
			if built.invalid {
				g.batcher.cut() // derivation flushes the rest of the channel: nothing may follow in it
			}
		}
		sequencing := g.l2.next() <= cfg.L2Blocks
		if !sequencing && g.safe == cfg.L2Blocks && g.batcher.idle() {
			break
		}
		if g.l1.head().NumberU64() >= maxL1 {
			return nil, fmt.Errorf("derivation made L2 blocks up to %d of %d by L1 block %d: the devnet does not converge", g.safe, cfg.L2Blocks, maxL1)
		}
		if err := g.addL1Block(sequencing); err != nil {
			return nil, err
		}
		if _, err := g.deriveSafe(); err != nil {
			return nil, fmt.Errorf("l1 block %d: %w", g.l1.head().NumberU64(), err)
		}
		// The batcher posts the blocks again when derivation did not take one it posted in full.
		if n := g.safe + 1; n < g.l2.next() && g.batcher.stalled(n, g.l1.head().NumberU64()) {
			g.batcher.repostFrom(n, g.l2.built[n:])
		}
	}
	// The head: one more L1 block, after the last batch.
	if err := g.addL1Block(false); err != nil {
		return nil, err
	}
	g.batchTxs = append(g.batchTxs, g.batcher.attackTxs...)

	d := &Devnet{
		cfg: cfg, l1Config: g.l1.config, l2Config: l2Config, rollup: rcfg, l1Genesis: g.l1.genesis, l2Genesis: g.l2.genesis,
		l1Blocks: g.l1.blocks, l1Receipts: g.l1.receipts, l2Blocks: g.l2.blocks, l2Attrs: g.l2.attrs, outputs: g.l2.outputs,
		blobs: g.blobs, blobBlocks: g.blobBlocks, batches: g.batcher.infos[:cfg.L2Blocks],
	}
	if d.preimages, err = g.preimages(); err != nil {
		return nil, err
	}
	return d, nil
}

// addL1Block makes the next L1 block: spam to the batch inbox, the batcher's transactions, then while the
// L2 chain is being sequenced the deposits and system config updates scheduled for the block, and other
// traffic.
func (g *generator) addL1Block(sequencing bool) error {
	parent := g.l1.head()
	n, t := parent.NumberU64()+1, parent.Time()+L1BlockTime
	rcfg := g.batcher.rollup
	holocene := rcfg.IsHolocene(t)
	spam := n >= 2 && ((!holocene && !g.spammedPre) || (holocene && !g.spammedPost))
	btxs, spamPayload, err := g.batcher.post(n, t, spam)
	if err != nil {
		return fmt.Errorf("l1 block %d: batcher: %w", n, err)
	}
	var txs []l1TxFunc
	if spamPayload != nil {
		if holocene {
			g.spammedPost = true
		} else {
			g.spammedPre = true
		}
		txs = append(txs, g.l1.l1Call(g.acc.l1User, l1Dynamic, BatchInboxAddress, nil, spamPayload, 0))
	}
	batcherKey := g.batcherAt(n, sequencing)
	blobs := 0
	for _, btx := range btxs {
		if !btx.blob {
			txs = append(txs, g.l1.l1Call(batcherKey, l1Dynamic, BatchInboxAddress, nil, btx.payloads[0], 0))
			continue
		}
		sidecar, ptrs, err := blobSidecar(btx.payloads)
		if err != nil {
			return fmt.Errorf("l1 block %d: blobs: %w", n, err)
		}
		for i, c := range sidecar.Commitments {
			g.blobs[versionedHash(&c)] = &blobRecord{blob: ptrs[i], commitment: c, l1Block: n}
		}
		blobs += len(ptrs)
		txs = append(txs, g.l1.l1BlobTx(batcherKey, BatchInboxAddress, sidecar))
	}
	if sequencing {
		deposits := g.deposits
		if g.txs != nil {
			deposits = g.txs.deposits(g)
		}
		deps, err := deposits(n)
		if err != nil {
			return err
		}
		txs = append(txs, deps...)
		txs = append(txs, g.sysConfigUpdates(n, t)...)
	}
	txs = append(txs, g.l1.l1Call(g.acc.l1User, l1Dynamic, common.Address{0xee, byte(n)}, big.NewInt(int64(n)), nil, 0))
	if _, err := g.l1.addBlock(txs); err != nil {
		return err
	}
	if blobs > 0 {
		g.blobBlocks = append(g.blobBlocks, n)
	}
	return nil
}

// batcherSwitchBlock is the L1 block whose system config update makes the second batcher the batcher; its
// own batcher transactions already come from it (derivation applies a block's updates before reading its
// batcher transactions). The update is made only while the L2 chain is being sequenced.
const batcherSwitchBlock = 5

// batcherAt is the batcher of L1 block n: the second one once the switch is made (in n or before).
func (g *generator) batcherAt(n uint64, sequencing bool) account {
	if n == batcherSwitchBlock && sequencing {
		g.batcherSwitched = true
	}
	if g.batcherSwitched {
		return g.acc.batchers[1]
	}
	return g.acc.batchers[0]
}

// firstL1At reports whether the L1 block at t is the first one at or after the fork time ft plus offset.
func firstL1At(ft *uint64, offset, t uint64) bool {
	return ft != nil && t >= *ft+offset && t < *ft+offset+L1BlockTime
}

// sysConfigUpdates are the system config updates of L1 block n at t, sent by the system config owner:
// the gas limit in block 2 and after Karst, the unsafe block signer (no effect) in block 4, the batcher in
// batcherSwitchBlock, the fee scalars before Ecotone (block 3) and after it (Ecotone encoding), the EIP-1559
// parameters after Holocene, the operator fee after Isthmus, the minimum base fee and DA footprint gas
// scalar after Jovian. Block 6 also has a ConfigUpdate log of the wrong contract (an EIP-7702 account
// running the system config code), which derivation must ignore.
func (g *generator) sysConfigUpdates(n, t uint64) []l1TxFunc {
	rcfg := g.batcher.rollup
	var txs []l1TxFunc
	update := func(typ derive.SystemConfigUpdateType, payload ...[]byte) {
		var data []byte
		for _, p := range payload {
			data = append(data, p...)
		}
		txs = append(txs, g.l1.l1Call(g.acc.sysOwner, l1Dynamic, SystemConfigAddress, nil, sysConfigCalldata(typ, data), 100_000))
	}
	switch n {
	case 2:
		update(derive.SystemConfigUpdateGasLimit, word(36_000_000))
	case 3:
		update(derive.SystemConfigUpdateFeeScalars, word(2000), word(800_000))
	case 4:
		update(derive.SystemConfigUpdateUnsafeBlockSigner, common.LeftPadBytes(g.acc.l1User.addr[:], 32))
	case batcherSwitchBlock:
		update(derive.SystemConfigUpdateBatcher, common.LeftPadBytes(g.acc.batchers[1].addr[:], 32))
	case 6:
		bogus := sysConfigCalldata(derive.SystemConfigUpdateGasLimit, word(1_000_000))
		txs = append(txs, g.l1.l1SetCodeCall(g.acc.l1User, SystemConfigAddress, bogus))
	}
	if firstL1At(rcfg.EcotoneTime, L1BlockTime, t) {
		update(derive.SystemConfigUpdateFeeScalars, make([]byte, 32), derive.EncodeEcotoneScalar(1368, 810_949).Bytes())
	}
	if firstL1At(rcfg.HoloceneTime, L1BlockTime, t) {
		var p [32]byte
		binary.BigEndian.PutUint32(p[24:], 100) // denominator
		binary.BigEndian.PutUint32(p[28:], 4)   // elasticity
		update(derive.SystemConfigUpdateEIP1559Params, p[:])
	}
	if firstL1At(rcfg.IsthmusTime, 0, t) {
		update(derive.SystemConfigUpdateOperatorFeeParams, derive.EncodeOperatorFeeParams(20_000, 300).Bytes())
	}
	if firstL1At(rcfg.JovianTime, 0, t) {
		update(derive.SystemConfigUpdateMinBaseFee, word(params.GWei+params.GWei/10))
		update(derive.SystemConfigUpdateDAFootprintGasScalar, word(500))
	}
	if firstL1At(rcfg.KarstTime, 0, t) {
		update(derive.SystemConfigUpdateGasLimit, word(40_000_000))
	}
	return txs
}

// deposits are the deposits of L1 block n, each to the deposit contract with value equal to the mint: ETH
// to an L2 account, a contract call, a contract creation, a deposit that runs out of gas on L2, from two
// depositors and in three transaction types. Block 2 also has a call to the deposit contract that fails
// on L1 (too little calldata) and block 3 a TransactionDeposited log of the wrong contract (an EIP-7702
// account running the deposit code): derivation must ignore both.
func (g *generator) deposits(n uint64) ([]l1TxFunc, error) {
	d0, d1 := g.acc.depositors[0], g.acc.depositors[1]
	ether := big.NewInt(params.Ether)
	var txs []l1TxFunc
	var errs []error
	deposit := func(from account, kind l1TxKind, dep *types.DepositTx) {
		dep.From = from.addr
		data, err := depositCalldata(dep)
		if err != nil {
			errs = append(errs, err)
			return
		}
		txs = append(txs, g.l1.l1Call(from, kind, DepositContractAddress, dep.Mint, data, 100_000))
	}
	switch n % 3 {
	case 1:
		to := common.Address{0xd0, byte(n)}
		deposit(d0, l1Dynamic, &types.DepositTx{To: &to, Mint: ether, Value: ether, Gas: 50_000})
	case 2:
		deposit(d0, l1Dynamic, &types.DepositTx{To: &storageAddr, Gas: 100_000, Data: append(word(1000+n), word(n)...)})
		deposit(d1, l1Legacy, &types.DepositTx{Mint: big.NewInt(params.Ether / 100), Value: new(big.Int), Gas: 200_000, Data: initCode(StorageCode)})
	case 0:
		deposit(d1, l1AccessList, &types.DepositTx{To: &storageAddr, Mint: big.NewInt(params.Ether / 2), Value: new(big.Int), Gas: 21_100, Data: append(word(2000+n), word(n)...)})
		alice := g.acc.alice.addr
		deposit(d0, l1Dynamic, &types.DepositTx{To: &alice, Mint: ether, Value: big.NewInt(params.GWei), Gas: 30_000})
	}
	switch n {
	case 2:
		txs = append(txs, g.l1.l1Call(d0, l1Dynamic, DepositContractAddress, nil, []byte{0x01, 0x02}, 100_000))
	case 3:
		to := common.Address{0x0b, 0xad}
		data, err := depositCalldata(&types.DepositTx{From: g.acc.l1User.addr, To: &to, Mint: ether, Value: ether, Gas: 50_000})
		if err != nil {
			return nil, err
		}
		txs = append(txs, g.l1.l1SetCodeCall(g.acc.l1User, DepositContractAddress, data))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("l1 block %d deposits: %v", n, errs)
	}
	return txs, nil
}
