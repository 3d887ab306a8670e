package devnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

const l2GenesisGasLimit = 30_000_000

var kzgCaller = common.HexToAddress("0x4a6e0a")

// l2Chain is the L2 chain: op-geth's blockchain and block builder, and the sequencer's state.
type l2Chain struct {
	genesis *core.Genesis
	config  *params.ChainConfig
	rollup  *rollup.Config
	acc     *accounts
	db      ethdb.Database
	chain   *core.BlockChain
	miner   *miner.Miner

	blocks  []*types.Block
	attrs   []*rollup.PayloadAttributes // index = number (nil for genesis)
	outputs []Output
	built   []*l2Built // index = number: what the sequencer built (nil for genesis and derived blocks)
	byHash  map[common.Hash]uint64
	nonces  map[common.Address]uint64
	created []createdContract // contracts created by sequencer transactions
	txs     *txGen            // random sequencer transactions (Config.TxSeed), or nil
	// calls are the accelerated precompile calls the sequencer transactions make, for the host's answers.
	calls    []precompileCall
	kzgInput []byte // a valid KZG point evaluation input
	// depSetSize is the size of the chain's interop dependency set (0: not an interop chain).
	depSetSize int
	// messages, on an interop devnet, makes the cross-chain message transactions of block n at t (after
	// the other sequencer transactions).
	messages func(c *l2Chain, n, t uint64, feeCap *big.Int) ([][]byte, error)
	// receipts caches the receipts of the blocks built, by hash.
	receipts map[common.Hash]types.Receipts
}

// createdContract is a contract a sequencer transaction of an L2 block created.
type createdContract struct {
	block uint64
	addr  common.Address
}

// precompileCall is a precompile called with input in L2 block number at time.
type precompileCall struct {
	addr         common.Address
	input        []byte
	number, time uint64
}

// l2Genesis is the L2 genesis: funded sequencer accounts, the devnet's contracts and the message passer;
// with random transactions also a contract that always reverts. For forks active at genesis it is what
// op-chain-ops makes (genesis.NewL2Genesis): from Holocene the EIP-1559 parameters in the extra data (from
// Jovian with the minimum base fee), from Isthmus EIP-2935's block hash contract, which the Isthmus
// upgrade transactions deploy otherwise; from Ecotone also EIP-4788's beacon roots contract, which the
// Ecotone upgrade transactions deploy otherwise.
func l2Genesis(cfg *params.ChainConfig, acc *accounts, random bool, extra types.GenesisAlloc) *core.Genesis {
	g := l2GenesisBase(cfg, acc)
	if random {
		g.Alloc[reverterAddr] = types.Account{Code: reverterCode}
	}
	for addr, a := range extra {
		g.Alloc[addr] = a
	}
	if cfg.IsEcotone(g.Timestamp) {
		g.Alloc[params.BeaconRootsAddress] = types.Account{Nonce: 1, Code: params.BeaconRootsCode}
	}
	if cfg.IsIsthmus(g.Timestamp) {
		g.Alloc[params.HistoryStorageAddress] = types.Account{Nonce: 1, Code: params.HistoryStorageCode}
	}
	denominator, elasticity := *cfg.Optimism.EIP1559DenominatorCanyon, cfg.Optimism.EIP1559Elasticity
	if cfg.IsHolocene(g.Timestamp) {
		g.ExtraData = eip1559.EncodeHoloceneExtraData(denominator, elasticity)
	}
	if cfg.IsJovian(g.Timestamp) {
		g.ExtraData = eip1559.EncodeJovianExtraData(denominator, elasticity, 0)
	}
	return g
}

func l2GenesisBase(cfg *params.ChainConfig, acc *accounts) *core.Genesis {
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	return &core.Genesis{
		Config:     cfg,
		Timestamp:  L1GenesisTime,
		GasLimit:   l2GenesisGasLimit,
		Difficulty: common.Big0,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Alloc: types.GenesisAlloc{
			acc.alice.addr:                     {Balance: funds},
			acc.bob.addr:                       {Balance: funds},
			acc.carol.addr:                     {Balance: funds},
			storageAddr:                        {Code: StorageCode, Storage: map[common.Hash]common.Hash{{31: 1}: {31: 7}, {31: 2}: {31: 8}}},
			ecrecoverCaller:                    {Code: precompileCaller(0x01)},
			sha256Caller:                       {Code: precompileCaller(0x02)},
			pairingCaller:                      {Code: precompileCaller(0x08)},
			kzgCaller:                          {Code: precompileCaller(0x0a)},
			blsAddCaller:                       {Code: precompileCaller(0x0b)},
			destructorAddr:                     {Code: destructorCode, Balance: big.NewInt(12345)},
			params.OptimismL2ToL1MessagePasser: {Code: []byte{0x00}, Storage: map[common.Hash]common.Hash{{31: 9}: {31: 1}}},
		},
	}
}

func newL2Chain(cfg *params.ChainConfig, rcfg *rollup.Config, acc *accounts, random bool, extra types.GenesisAlloc) (*l2Chain, error) {
	db := rawdb.NewMemoryDatabase()
	genesis := l2Genesis(cfg, acc, random, extra)
	chain, err := core.NewBlockChain(db, genesis, beacon.New(ethash.NewFaker()), core.DefaultConfig().WithStateScheme(rawdb.HashScheme).WithArchive(true))
	if err != nil {
		return nil, fmt.Errorf("l2 genesis: %w", err)
	}
	c := &l2Chain{
		genesis: genesis, config: cfg, rollup: rcfg, acc: acc, db: db, chain: chain,
		miner:  miner.New(minerBackend{chain}, miner.Config{GasCeil: l2GenesisGasLimit}, chain.Engine()),
		blocks: []*types.Block{chain.Genesis()}, nonces: map[common.Address]uint64{},
	}
	rcfg.Genesis.L2 = rollup.BlockID{Hash: chain.Genesis().Hash(), Number: 0}
	if c.kzgInput, err = kzgPointEvaluationInput(); err != nil {
		c.close()
		return nil, err
	}
	out, err := c.output(chain.Genesis())
	if err != nil {
		c.close()
		return nil, err
	}
	c.outputs = []Output{out}
	c.attrs = []*rollup.PayloadAttributes{nil}
	c.built = []*l2Built{nil}
	c.byHash = map[common.Hash]uint64{chain.Genesis().Hash(): 0}
	return c, nil
}

// next is the number of the next block.
func (c *l2Chain) next() uint64 { return uint64(len(c.blocks)) }

// appendBlock makes block, built from attrs, the chain's head.
func (c *l2Chain) appendBlock(block *types.Block, attrs *rollup.PayloadAttributes, built *l2Built) error {
	out, err := c.output(block)
	if err != nil {
		return err
	}
	c.blocks = append(c.blocks, block)
	c.attrs = append(c.attrs, attrs)
	c.outputs = append(c.outputs, out)
	c.built = append(c.built, built)
	c.byHash[block.Hash()] = block.NumberU64()
	return nil
}

// truncate drops the blocks from n on: the sequencer builds on block n-1 again.
func (c *l2Chain) truncate(n uint64) {
	for _, b := range c.blocks[n:] {
		delete(c.byHash, b.Hash())
	}
	c.blocks, c.attrs, c.outputs, c.built = c.blocks[:n], c.attrs[:n], c.outputs[:n], c.built[:n]
	c.created = slices.DeleteFunc(c.created, func(cc createdContract) bool { return cc.block >= n })
}

// loadNonces sets the sequencer accounts' nonces to their state after block parent.
func (c *l2Chain) loadNonces(parent *types.Block) error {
	st, err := c.chain.StateAt(parent.Root())
	if err != nil {
		return fmt.Errorf("state of l2 block %d: %w", parent.NumberU64(), err)
	}
	for _, a := range []account{c.acc.alice, c.acc.bob, c.acc.carol} {
		c.nonces[a.addr] = st.GetNonce(a.addr)
	}
	return nil
}

func (c *l2Chain) close() {
	c.miner.Close()
	c.chain.Stop()
}

func (c *l2Chain) head() *types.Block { return c.blocks[len(c.blocks)-1] }

func (c *l2Chain) output(b *types.Block) (Output, error) {
	st, err := c.chain.StateAt(b.Root())
	if err != nil {
		return Output{}, fmt.Errorf("state of l2 block %d: %w", b.NumberU64(), err)
	}
	return Output{StateRoot: b.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Hash()}, nil
}

// l2Built is what the batcher needs of a new L2 block.
type l2Built struct {
	block  *types.Block
	batch  *derive.SingularBatch
	seq    uint64 // sequence number in its epoch
	origin *types.Header
	// invalid says the batch's transactions are rejected and the block holds the deposits only.
	invalid bool
}

// addBlock sequences the next L2 block on l1 (the L1 blocks made so far) as op-node's sequencer does: the L1
// origin is the parent's, or the next L1 block once the L2 block's time reaches it; the payload attributes
// come from derive.BuildAttributes with the sequencer's transactions; op-geth builds the block.
//
// With invalid, the batch carries a transaction the engine rejects instead of the sequencer's, and the
// block is what derivation makes of it from Holocene: the attributes' deposits alone.
func (c *l2Chain) addBlock(l1 *l1Chain, invalid bool) (*l2Built, error) {
	parent := c.head()
	n := parent.NumberU64() + 1
	t := c.rollup.TimestampForBlock(n)
	p, err := derive.AttributesParentFromBlock(c.rollup, parent)
	if err != nil {
		return nil, fmt.Errorf("l2 block %d: parent: %w", n, err)
	}
	sysCfg, err := derive.SystemConfigFromL2Block(c.rollup, parent)
	if err != nil {
		return nil, fmt.Errorf("l2 block %d: parent system config: %w", n, err)
	}
	origin := p.L1Origin.Number
	if next := origin + 1; next < uint64(len(l1.blocks)) && l1.blocks[next].Time() <= t {
		origin = next
	}
	l1Origin := l1.blocks[origin].Header()
	if drift := c.rollup.MaxSequencerDriftAt(l1Origin.Time); t > l1Origin.Time+drift {
		return nil, fmt.Errorf("l2 block %d at %d is past the sequencer drift of its L1 origin %d at %d", n, t, origin, l1Origin.Time)
	}
	if err := c.loadNonces(parent); err != nil {
		return nil, err
	}
	var txs [][]byte
	switch {
	case invalid:
		if !c.rollup.IsHolocene(t) || !c.userTxsAllowed(t) {
			return nil, fmt.Errorf("l2 block %d: an invalid batch needs a block from Holocene on that may carry transactions", n)
		}
		tx, err := c.rejectedTx()
		if err != nil {
			return nil, fmt.Errorf("l2 block %d: %w", n, err)
		}
		txs = [][]byte{tx}
	case c.userTxsAllowed(t) && c.txs != nil:
		if txs, err = c.txs.sequencerTxs(c, parent, n, t); err != nil {
			return nil, fmt.Errorf("l2 block %d: %w", n, err)
		}
	case c.userTxsAllowed(t):
		if txs, err = c.sequencerTxs(parent, n, t); err != nil {
			return nil, fmt.Errorf("l2 block %d: %w", n, err)
		}
	}
	if c.messages != nil && !invalid && c.userTxsAllowed(t) {
		msgs, err := c.messages(c, n, t, seqFeeCap(parent))
		if err != nil {
			return nil, fmt.Errorf("chain %d: l2 block %d: messages: %w", c.rollup.ChainID(), n, err)
		}
		txs = append(txs, msgs...)
	}
	attrs, _, err := derive.BuildAttributes(c.rollup, l1.config, &derive.AttributesInput{
		Parent: p, SysCfg: sysCfg, L1Origin: l1Origin, L1Receipts: l1.receipts[origin], Timestamp: t, Transactions: txs,
		DependencySetSize: c.depSetSize,
	})
	if err != nil {
		return nil, fmt.Errorf("l2 block %d: attributes: %w", n, err)
	}
	if invalid {
		// op-geth's builder must refuse the batch's attributes, or the block would not be replaced.
		if _, err := c.miner.BuildPayload(context.Background(), payloadArgs(parent.Hash(), attrs), false); err == nil {
			return nil, fmt.Errorf("l2 block %d: op-geth accepts the invalid batch's transaction", n)
		}
		attrs = depositsOnly(attrs)
	}
	block, _, err := buildBlock(c.miner, c.chain, c.config, parent, attrs, false)
	if err != nil {
		return nil, err
	}
	batch := &derive.SingularBatch{ParentHash: parent.Hash(), EpochNum: origin, EpochHash: l1Origin.Hash(), Timestamp: t}
	for _, tx := range txs {
		batch.Transactions = append(batch.Transactions, hexutil.Bytes(tx))
	}
	seq := uint64(0)
	if origin == p.L1Origin.Number {
		seq = p.SequenceNumber + 1
	}
	built := &l2Built{block: block, batch: batch, seq: seq, origin: l1Origin, invalid: invalid}
	// attrs are what derivation builds the block from.
	if err := c.appendBlock(block, attrs, built); err != nil {
		return nil, err
	}
	return built, nil
}

// rejectedTx is a well-formed, signed transfer whose nonce is far ahead of its sender's: batch checks take
// it, the engine rejects it. The sender's nonce is not used up.
func (c *l2Chain) rejectedTx() ([]byte, error) {
	from := c.acc.alice
	tx, err := types.SignNewTx(from.key, types.LatestSignerForChainID(c.config.ChainID), &types.DynamicFeeTx{
		ChainID: c.config.ChainID, Nonce: c.nonces[from.addr] + 1<<20, GasTipCap: big.NewInt(params.GWei / 100),
		GasFeeCap: big.NewInt(100 * params.GWei), Gas: params.TxGas, To: &common.Address{0xde, 0xad}, Value: big.NewInt(1),
	})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// depositsOnly is attrs with its deposit transactions only: Holocene's replacement of a rejected payload.
func depositsOnly(attrs *rollup.PayloadAttributes) *rollup.PayloadAttributes {
	out := *attrs
	out.Transactions = nil
	for _, tx := range attrs.Transactions {
		if len(tx) > 0 && tx[0] == types.DepositTxType {
			out.Transactions = append(out.Transactions, tx)
		}
	}
	return &out
}

// userTxsAllowed says whether the sequencer puts transactions in the block at t: not in the activation
// blocks of forks with upgrade transactions (op-node's sequencer policy; a derivation rule at Jovian and
// Karst).
func (c *l2Chain) userTxsAllowed(t uint64) bool {
	for _, f := range []rollup.Fork{rollup.Ecotone, rollup.Fjord, rollup.Isthmus, rollup.Jovian, rollup.Karst, rollup.Lagoon} {
		if c.rollup.IsActivationBlock(f, t) {
			return false
		}
	}
	return true
}

// l2TxKind is the type of a sequencer transaction.
type l2TxKind int

const (
	l2Dynamic     l2TxKind = iota // EIP-1559
	l2Legacy                      // EIP-155 legacy
	l2Unprotected                 // legacy without a chain ID
	l2AccessList                  // EIP-2930
)

// seqTx signs a sequencer transaction; the fee cap is far above the base fee, so every one is valid.
func (c *l2Chain) seqTx(from account, kind l2TxKind, to *common.Address, value *big.Int, gas uint64, data []byte, feeCap *big.Int) ([]byte, error) {
	nonce := c.nonces[from.addr]
	c.nonces[from.addr]++
	if value == nil {
		value = new(big.Int)
	}
	tip := big.NewInt(params.GWei / 100)
	var (
		inner  types.TxData
		signer = types.LatestSignerForChainID(c.config.ChainID)
	)
	switch kind {
	case l2Legacy:
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: feeCap, Gas: gas, To: to, Value: value, Data: data}
	case l2Unprotected:
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: feeCap, Gas: gas, To: to, Value: value, Data: data}
		signer = types.HomesteadSigner{}
	case l2AccessList:
		var al types.AccessList
		if to != nil {
			al = types.AccessList{{Address: *to, StorageKeys: []common.Hash{{31: 1}, {31: 2}}}}
		}
		inner = &types.AccessListTx{ChainID: c.config.ChainID, Nonce: nonce, GasPrice: feeCap, Gas: gas, To: to, Value: value, Data: data, AccessList: al}
	default:
		inner = &types.DynamicFeeTx{ChainID: c.config.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data}
	}
	tx, err := types.SignNewTx(from.key, signer, inner)
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// setCodeTx is an EIP-7702 transaction from `from` that delegates authority's account to target and
// calls the authority with data.
func (c *l2Chain) setCodeTx(from, authority account, target common.Address, data []byte, feeCap *big.Int) ([]byte, error) {
	chainID := uint256.MustFromBig(c.config.ChainID)
	auth, err := types.SignSetCode(authority.key, types.SetCodeAuthorization{ChainID: *chainID, Address: target, Nonce: c.nonces[authority.addr]})
	if err != nil {
		return nil, err
	}
	c.nonces[authority.addr]++ // the authorization is valid: it bumps the authority's nonce
	nonce := c.nonces[from.addr]
	c.nonces[from.addr]++
	tx, err := types.SignNewTx(from.key, types.LatestSignerForChainID(c.config.ChainID), &types.SetCodeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: uint256.NewInt(params.GWei / 100), GasFeeCap: uint256.MustFromBig(feeCap),
		Gas: 200_000, To: authority.addr, Value: new(uint256.Int), Data: data, AuthList: []types.SetCodeAuthorization{auth},
	})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// sequencerTxs are the sequencer transactions of block n at t: a transfer, and a mix that depends on n of
// storage writes and deletes, contract creations and calls, precompile calls, self-destructs, EIP-7702
// delegations, in every transaction type the block's fork accepts.
func (c *l2Chain) sequencerTxs(parent *types.Block, n, t uint64) ([][]byte, error) {
	feeCap := seqFeeCap(parent)
	alice, bob, carol := c.acc.alice, c.acc.bob, c.acc.carol
	num := new(big.Int).SetUint64(n)
	prague, cancun := c.config.IsPrague(num, t), c.config.IsCancun(num, t)

	var txs [][]byte
	add := func(enc []byte, err error) error {
		if err != nil {
			return err
		}
		txs = append(txs, enc)
		return nil
	}
	call := func(addr common.Address, input []byte) {
		c.calls = append(c.calls, precompileCall{addr: addr, input: input, number: n, time: t})
	}
	recipient := common.Address{0xaa, byte(n)}
	if err := add(c.seqTx(alice, l2Dynamic, &recipient, big.NewInt(int64(1000+n)), params.TxGas, nil, feeCap)); err != nil {
		return nil, err
	}
	var err error
	switch n % 6 {
	case 0: // a storage write, a delete
		if err = add(c.seqTx(alice, l2Dynamic, &storageAddr, nil, 100_000, append(word(n), word(n*3)...), feeCap)); err == nil {
			err = add(c.seqTx(bob, l2Legacy, &storageAddr, nil, 100_000, append(word(1), word(0)...), feeCap))
		}
	case 1: // a contract creation; a call to the previous one
		created := crypto.CreateAddress(bob.addr, c.nonces[bob.addr])
		if err = add(c.seqTx(bob, l2Legacy, nil, nil, 200_000, initCode(StorageCode), feeCap)); err == nil && len(c.created) > 0 {
			prev := c.created[len(c.created)-1].addr
			err = add(c.seqTx(alice, l2AccessList, &prev, nil, 100_000, append(word(2), word(n)...), feeCap))
		}
		c.created = append(c.created, createdContract{n, created})
	case 2: // ecrecover of a valid and of an invalid signature, sha256
		valid, invalid := validEcrecoverInput(n), make([]byte, 128)
		call(common.BytesToAddress([]byte{0x01}), valid)
		call(common.BytesToAddress([]byte{0x01}), invalid)
		if err = add(c.seqTx(alice, l2Dynamic, &ecrecoverCaller, nil, 100_000, valid, feeCap)); err == nil {
			if err = add(c.seqTx(alice, l2AccessList, &ecrecoverCaller, nil, 100_000, invalid, feeCap)); err == nil {
				err = add(c.seqTx(bob, l2Legacy, &sha256Caller, nil, 100_000, []byte(fmt.Sprintf("faultproof %d", n)), feeCap))
			}
		}
	case 3: // an empty pairing (true), a self-destruct
		call(common.BytesToAddress([]byte{0x08}), nil)
		if err = add(c.seqTx(alice, l2Dynamic, &pairingCaller, nil, 200_000, nil, feeCap)); err == nil {
			err = add(c.seqTx(bob, l2Dynamic, &destructorAddr, nil, 100_000, nil, feeCap))
		}
	case 4: // from Isthmus a BLS12-381 addition and an EIP-7702 delegation; before, a storage delete
		if prague {
			input := make([]byte, 256) // infinity + infinity
			call(common.BytesToAddress([]byte{0x0b}), input)
			if err = add(c.seqTx(alice, l2Dynamic, &blsAddCaller, nil, 100_000, input, feeCap)); err == nil {
				err = add(c.setCodeTx(alice, carol, storageAddr, append(word(n), word(n+1)...), feeCap))
			}
		} else {
			err = add(c.seqTx(alice, l2Dynamic, &storageAddr, nil, 100_000, append(word(n-4), word(0)...), feeCap))
		}
	case 5: // a legacy transaction without chain ID; from Ecotone a KZG point evaluation
		to := common.Address{0xbb, byte(n)}
		if err = add(c.seqTx(bob, l2Unprotected, &to, big.NewInt(7), params.TxGas, nil, feeCap)); err == nil && cancun {
			call(common.BytesToAddress([]byte{0x0a}), c.kzgInput)
			err = add(c.seqTx(alice, l2Dynamic, &kzgCaller, nil, 150_000, c.kzgInput, feeCap))
		}
	}
	if err != nil {
		return nil, err
	}
	return txs, nil
}

// seqFeeCap is the fee cap of the sequencer's transactions on parent: three times its base fee, at least
// 50 gwei.
func seqFeeCap(parent *types.Block) *big.Int {
	feeCap := new(big.Int).Mul(parent.BaseFee(), big.NewInt(3))
	if floor := big.NewInt(50 * params.GWei); feeCap.Cmp(floor) < 0 {
		feeCap = floor
	}
	return feeCap
}

// receiptsOf returns the receipts of a block built on the chain, log indices filled in.
func (c *l2Chain) receiptsOf(b *types.Block) (types.Receipts, error) {
	if r, ok := c.receipts[b.Hash()]; ok {
		return r, nil
	}
	r := c.chain.GetReceiptsByHash(b.Hash())
	if r == nil && len(b.Transactions()) > 0 {
		return nil, fmt.Errorf("no receipts of l2 block %d (%s)", b.NumberU64(), b.Hash())
	}
	if c.receipts == nil {
		c.receipts = map[common.Hash]types.Receipts{}
	}
	c.receipts[b.Hash()] = r
	return r, nil
}

// kzgPointEvaluationInput is a valid input of the KZG point evaluation precompile: versioned hash, z, y,
// commitment and proof of a small blob.
func kzgPointEvaluationInput() ([]byte, error) {
	var blob kzg4844.Blob
	for i := 0; i < 8; i++ {
		blob[i*32+31] = byte(i + 1)
	}
	commitment, err := kzg4844.BlobToCommitment(&blob)
	if err != nil {
		return nil, err
	}
	z := kzg4844.Point{31: 5}
	proof, y, err := kzg4844.ComputeProof(&blob, z)
	if err != nil {
		return nil, err
	}
	vh := kzg4844.CalcBlobHashV1(sha256.New(), &commitment)
	in := append(vh[:], z[:]...)
	in = append(in, y[:]...)
	in = append(in, commitment[:]...)
	return append(in, proof[:]...), nil
}
