package devnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// generator makes a devnet: L1 blocks, and between two of them the L2 blocks of each chain whose time is
// before the next one; after each L1 block, derivation makes the L2 blocks it can from L1 safe (see
// derivation.go), and with several chains, consolidation checks their executing messages (consolidate.go).
type generator struct {
	cfg    Config
	l1     *l1Chain
	chains []*chainGen
	blobs  map[common.Hash]*blobRecord
	// blobBlocks are the L1 blocks with blobs.
	blobBlocks []uint64
	txs        *txGen      // random transactions and deposits (Config.TxSeed), or nil
	ix         *interopGen // an interop devnet's consolidation, or nil
	log        log.Logger
}

// chainGen is one L2 chain being made: its sequencer, batcher, L1 contracts and derivation.
type chainGen struct {
	g       *generator
	acc     *accounts
	l2      *l2Chain
	batcher *batcher
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
}

type batchTx struct {
	block *types.Block
	tx    []byte
}

// New generates a devnet.
func New(cfg Config) (*Devnet, error) {
	if cfg.Interop != nil {
		return nil, errors.New("an interop devnet has several chains: make it with NewInterop")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g, err := newGenerator(cfg, []*accounts{newAccounts(cfg.Seed)})
	if err != nil {
		return nil, err
	}
	defer g.close()
	if err := g.run(); err != nil {
		return nil, err
	}
	pre, err := g.preimages()
	if err != nil {
		return nil, err
	}
	return g.devnet(g.chains[0], pre), nil
}

// newGenerator starts the L1 chain and an L2 chain for each set of accounts (chain i has the configs of
// chainConfigs(cfg, i)).
func newGenerator(cfg Config, accs []*accounts) (*generator, error) {
	g := &generator{cfg: cfg, blobs: map[common.Hash]*blobRecord{}, log: discardLogs()}
	if cfg.TxSeed != 0 {
		g.txs = newTxGen(cfg.TxSeed)
	}
	var chainRollups []*rollup.Config
	var chainL2s []*params.ChainConfig
	for i := range accs {
		l2, rcfg := chainConfigs(cfg, i, accs[i])
		chainL2s, chainRollups = append(chainL2s, l2), append(chainRollups, rcfg)
	}
	alloc, err := cfg.genesisAlloc()
	if err != nil {
		return nil, err
	}
	if g.l1, err = newL1Chain(accs, chainRollups); err != nil {
		return nil, err
	}
	for i, acc := range accs {
		rcfg := chainRollups[i]
		rcfg.Genesis.L1 = rollupBlockID(g.l1.blocks[0])
		c := &chainGen{g: g, acc: acc}
		if c.l2, err = newL2Chain(chainL2s[i], rcfg, acc, g.txs != nil, alloc); err != nil {
			g.close()
			return nil, err
		}
		g.chains = append(g.chains, c)
		c.l2.txs = g.txs
		c.l2.depSetSize = cfg.dependencySetSize()
		if err := rcfg.Check(); err != nil {
			g.close()
			return nil, fmt.Errorf("rollup config: %w", err)
		}
		c.batcher = newBatcher(rcfg, cfg, g.l1, c.l2.rejectedTx)
	}
	return g, nil
}

func (g *generator) close() {
	for _, c := range g.chains {
		c.l2.close()
	}
}

// run makes the chains: L2 blocks up to each L1 block's time, the L1 block, derivation (and
// consolidation), until every chain's last block is safe and its batcher has posted everything.
func (g *generator) run() error {
	cfg := g.cfg
	rcfg := g.chains[0].l2.rollup
	// Enough L1 blocks to sequence every L2 block and to wait out a sequencing window and a channel timeout.
	maxL1 := cfg.L2Blocks*rcfg.BlockTime/L1BlockTime + 2*rcfg.SeqWindowSize + max(rcfg.ChannelTimeoutBedrock, rcfg.ChannelTimeout(^uint64(0))) + 16
	for {
		// The L2 blocks before the next L1 block, block by block across the chains: a chain may execute
		// the messages of the chains before it at the same time.
		nextL1 := g.l1.head().Time() + L1BlockTime
		for {
			var next *chainGen
			for _, c := range g.chains {
				if c.l2.next() <= cfg.L2Blocks && rcfg.TimestampForBlock(c.l2.next()) < nextL1 &&
					(next == nil || c.l2.next() < next.l2.next()) {
					next = c
				}
			}
			if next == nil {
				break
			}
			if err := next.sequence(); err != nil {
				return err
			}
		}
		sequencing, done := false, true
		for _, c := range g.chains {
			sequencing = sequencing || c.l2.next() <= cfg.L2Blocks
			done = done && c.safe == cfg.L2Blocks && c.batcher.idle()
		}
		if !sequencing && done && g.consolidated() {
			break
		}
		if g.l1.head().NumberU64() >= maxL1 {
			return fmt.Errorf("derivation made L2 blocks up to %v of %d by L1 block %d: the devnet does not converge", g.safeHeads(), cfg.L2Blocks, maxL1)
		}
		if err := g.addL1Block(sequencing); err != nil {
			return err
		}
		if err := g.deriveAll(); err != nil {
			return fmt.Errorf("l1 block %d: %w", g.l1.head().NumberU64(), err)
		}
		for _, c := range g.chains {
			// The batcher posts the blocks again when derivation did not take one it posted in full.
			if n := c.safe + 1; n < c.l2.next() && c.batcher.stalled(n, g.l1.head().NumberU64()) {
				c.batcher.repostFrom(n, c.l2.built[n:])
			}
		}
	}
	// The head: one more L1 block, after the last batch.
	if err := g.addL1Block(false); err != nil {
		return err
	}
	for range g.cfg.L1BlocksPast {
		if _, err := g.l1.addBlock(nil); err != nil {
			return err
		}
	}
	for _, c := range g.chains {
		c.batchTxs = append(c.batchTxs, c.batcher.attackTxs...)
	}
	return nil
}

// sequence builds the chain's next L2 block and hands it to the batcher.
func (c *chainGen) sequence() error {
	built, err := c.l2.addBlock(c.g.l1, slices.Contains(c.g.cfg.InvalidBatchAt, c.l2.next()))
	if err != nil {
		return err
	}
	c.batcher.add(built)
	for _, tx := range built.batch.Transactions {
		c.batchTxs = append(c.batchTxs, batchTx{built.block, tx})
	}
	if built.invalid {
		c.batcher.cut() // derivation flushes the rest of the channel: nothing may follow in it
	}
	return nil
}

// safeHeads lists the chains' safe heads.
func (g *generator) safeHeads() []uint64 {
	out := make([]uint64, len(g.chains))
	for i, c := range g.chains {
		out[i] = c.safe
	}
	return out
}

// devnet is the Devnet of chain c, once made, with the preimages of every chain.
func (g *generator) devnet(c *chainGen, preimages map[[32]byte][]byte) *Devnet {
	return &Devnet{
		cfg: g.cfg, l1Config: g.l1.config, l2Config: c.l2.config, rollup: c.l2.rollup, l1Genesis: g.l1.genesis, l2Genesis: c.l2.genesis,
		l1Blocks: g.l1.blocks, l1Receipts: g.l1.receipts, l2Blocks: c.l2.blocks, l2Attrs: c.l2.attrs, outputs: c.l2.outputs,
		blobs: g.blobs, blobBlocks: g.blobBlocks, batches: c.batcher.infos[:g.cfg.L2Blocks], preimages: preimages,
	}
}

// addL1Block makes the next L1 block: for each chain, spam to its batch inbox, its batcher's transactions,
// then while the L2 chains are being sequenced the deposits and system config updates scheduled for the
// block, and other traffic.
func (g *generator) addL1Block(sequencing bool) error {
	parent := g.l1.head()
	n, t := parent.NumberU64()+1, parent.Time()+L1BlockTime
	var txs []l1TxFunc
	blobs := 0
	for _, c := range g.chains {
		ctxs, cblobs, err := c.l1Txs(n, t, sequencing)
		if err != nil {
			return err
		}
		txs = append(txs, ctxs...)
		blobs += cblobs
	}
	if _, err := g.l1.addBlock(txs); err != nil {
		return err
	}
	if blobs > 0 {
		g.blobBlocks = append(g.blobBlocks, n)
	}
	return nil
}

// l1Txs are the chain's transactions of L1 block n at t, and the number of blobs they carry.
func (c *chainGen) l1Txs(n, t uint64, sequencing bool) ([]l1TxFunc, int, error) {
	g := c.g
	rcfg := c.batcher.rollup
	holocene := rcfg.IsHolocene(t)
	spam := n >= 2 && ((!holocene && !c.spammedPre) || (holocene && !c.spammedPost))
	btxs, spamPayload, err := c.batcher.post(n, t, spam)
	if err != nil {
		return nil, 0, fmt.Errorf("l1 block %d: batcher: %w", n, err)
	}
	var txs []l1TxFunc
	if spamPayload != nil {
		if holocene {
			c.spammedPost = true
		} else {
			c.spammedPre = true
		}
		txs = append(txs, g.l1.l1Call(c.acc.l1User, l1Dynamic, rcfg.BatchInboxAddress, nil, spamPayload, 0))
	}
	batcherKey := c.batcherAt(n, sequencing)
	blobs := 0
	for _, btx := range btxs {
		if !btx.blob {
			txs = append(txs, g.l1.l1Call(batcherKey, l1Dynamic, rcfg.BatchInboxAddress, nil, btx.payloads[0], 0))
			continue
		}
		sidecar, ptrs, err := blobSidecar(btx.payloads)
		if err != nil {
			return nil, 0, fmt.Errorf("l1 block %d: blobs: %w", n, err)
		}
		for i, cm := range sidecar.Commitments {
			g.blobs[versionedHash(&cm)] = &blobRecord{blob: ptrs[i], commitment: cm, l1Block: n}
		}
		blobs += len(ptrs)
		txs = append(txs, g.l1.l1BlobTx(batcherKey, rcfg.BatchInboxAddress, sidecar))
	}
	if sequencing {
		deposits := c.deposits
		if g.txs != nil {
			deposits = g.txs.deposits(c)
		}
		deps, err := deposits(n)
		if err != nil {
			return nil, 0, err
		}
		txs = append(txs, deps...)
		txs = append(txs, c.sysConfigUpdates(n, t)...)
	}
	txs = append(txs, g.l1.l1Call(c.acc.l1User, l1Dynamic, common.Address{0xee, byte(n)}, big.NewInt(int64(n)), nil, 0))
	return txs, blobs, nil
}

// batcherSwitchBlock is the L1 block whose system config update makes the second batcher the batcher; its
// own batcher transactions already come from it (derivation applies a block's updates before reading its
// batcher transactions). The update is made only while the L2 chain is being sequenced.
const batcherSwitchBlock = 5

// batcherAt is the batcher of L1 block n: the second one once the switch is made (in n or before).
func (c *chainGen) batcherAt(n uint64, sequencing bool) account {
	if n == batcherSwitchBlock && sequencing {
		c.batcherSwitched = true
	}
	if c.batcherSwitched {
		return c.acc.batchers[1]
	}
	return c.acc.batchers[0]
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
func (c *chainGen) sysConfigUpdates(n, t uint64) []l1TxFunc {
	g, rcfg := c.g, c.batcher.rollup
	var txs []l1TxFunc
	update := func(typ derive.SystemConfigUpdateType, payload ...[]byte) {
		var data []byte
		for _, p := range payload {
			data = append(data, p...)
		}
		txs = append(txs, g.l1.l1Call(c.acc.sysOwner, l1Dynamic, rcfg.L1SystemConfigAddress, nil, sysConfigCalldata(typ, data), 100_000))
	}
	switch n {
	case 2:
		update(derive.SystemConfigUpdateGasLimit, word(36_000_000))
	case 3:
		update(derive.SystemConfigUpdateFeeScalars, word(2000), word(800_000))
	case 4:
		update(derive.SystemConfigUpdateUnsafeBlockSigner, common.LeftPadBytes(c.acc.l1User.addr[:], 32))
	case batcherSwitchBlock:
		update(derive.SystemConfigUpdateBatcher, common.LeftPadBytes(c.acc.batchers[1].addr[:], 32))
	case 6:
		bogus := sysConfigCalldata(derive.SystemConfigUpdateGasLimit, word(1_000_000))
		txs = append(txs, g.l1.l1SetCodeCall(c.acc.l1User, rcfg.L1SystemConfigAddress, bogus))
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
func (c *chainGen) deposits(n uint64) ([]l1TxFunc, error) {
	g, depositContract := c.g, c.l2.rollup.DepositContractAddress
	d0, d1 := c.acc.depositors[0], c.acc.depositors[1]
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
		txs = append(txs, g.l1.l1Call(from, kind, depositContract, dep.Mint, data, 100_000))
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
		alice := c.acc.alice.addr
		deposit(d0, l1Dynamic, &types.DepositTx{To: &alice, Mint: ether, Value: big.NewInt(params.GWei), Gas: 30_000})
	}
	switch n {
	case 2:
		txs = append(txs, g.l1.l1Call(d0, l1Dynamic, depositContract, nil, []byte{0x01, 0x02}, 100_000))
	case 3:
		to := common.Address{0x0b, 0xad}
		data, err := depositCalldata(&types.DepositTx{From: c.acc.l1User.addr, To: &to, Mint: ether, Value: ether, Gas: 50_000})
		if err != nil {
			return nil, err
		}
		txs = append(txs, g.l1.l1SetCodeCall(c.acc.l1User, depositContract, data))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("l1 block %d deposits: %v", n, errs)
	}
	return txs, nil
}
