package devnet

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// A contract that always reverts, in the L2 genesis of devnets with random transactions.
var (
	reverterAddr = common.HexToAddress("0x4e7e47")
	reverterCode = common.FromHex("0x60006000fd") // REVERT(0, 0)
)

// txGen makes random sequencer transactions and user deposits (Config.TxSeed). Each L2 block's
// transactions and each L1 block's deposits come from a generator seeded by the seed and the block number,
// so a block the sequencer builds again after a reorg draws the same kinds of transactions.
type txGen struct{ seed uint64 }

func newTxGen(seed uint64) *txGen { return &txGen{seed: seed} }

func (g *txGen) rand(domain string, n uint64) *rand.Rand {
	h := crypto.Keccak256([]byte("faultproof devnet transactions/"+domain), binary.BigEndian.AppendUint64(nil, g.seed), binary.BigEndian.AppendUint64(nil, n))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])))
}

// sequencerTxs are up to eight random transactions for L2 block n at t, from alice and bob: transfers of
// every transaction type, contract creations (some whose constructor reverts), calls that revert or run
// out of gas, storage writes and deletes, ecrecover calls, self-destructs, calls to created contracts, and
// from Isthmus EIP-7702 transactions whose authorization is valid or not. Every transaction is valid for
// the engine: the block carries them all, some failed.
func (g *txGen) sequencerTxs(c *l2Chain, parent *types.Block, n, t uint64) ([][]byte, error) {
	r := g.rand("l2", n)
	feeCap := new(big.Int).Mul(parent.BaseFee(), big.NewInt(3))
	if floor := big.NewInt(50 * params.GWei); feeCap.Cmp(floor) < 0 {
		feeCap = floor
	}
	prague := c.config.IsPrague(new(big.Int).SetUint64(n), t)
	senders := []account{c.acc.alice, c.acc.bob}
	kinds := []l2TxKind{l2Dynamic, l2Legacy, l2Unprotected, l2AccessList}
	var txs [][]byte
	add := func(enc []byte, err error) error {
		if err != nil {
			return err
		}
		txs = append(txs, enc)
		return nil
	}
	// tx signs a transaction with gas for its intrinsic cost (and from Isthmus the EIP-7623 floor) plus
	// extra for execution.
	tx := func(from account, kind l2TxKind, to *common.Address, value *big.Int, extra uint64, data []byte) error {
		var al types.AccessList
		if kind == l2AccessList && to != nil {
			al = types.AccessList{{Address: *to, StorageKeys: []common.Hash{{31: 1}, {31: 2}}}} // as seqTx makes it
		}
		gas, err := core.IntrinsicGas(data, al, nil, to == nil, true, true, true)
		if err != nil {
			return err
		}
		if prague {
			floor, err := core.FloorDataGas(data)
			if err != nil {
				return err
			}
			gas = max(gas, floor)
		}
		return add(c.seqTx(from, kind, to, value, gas+extra, data, feeCap))
	}
	for range r.IntN(9) {
		from, kind := senders[r.IntN(2)], kinds[r.IntN(len(kinds))]
		var err error
		switch r.IntN(11) {
		case 0: // a transfer
			to := common.Address{0xaa, byte(r.IntN(8)), byte(n)}
			err = tx(from, kind, &to, big.NewInt(r.Int64N(params.Ether)), 0, nil)
		case 1: // a contract creation
			created := crypto.CreateAddress(from.addr, c.nonces[from.addr])
			if err = tx(from, kind, nil, nil, 150_000, initCode(StorageCode)); err == nil {
				c.created = append(c.created, createdContract{n, created})
			}
		case 2: // a contract creation whose constructor reverts
			err = tx(from, kind, nil, big.NewInt(5), 50_000, reverterCode)
		case 3: // a call that reverts
			err = tx(from, kind, &reverterAddr, nil, 20_000, []byte{byte(n)})
		case 4: // a storage write that runs out of gas (a new slot costs more than 20,000)
			err = tx(from, kind, &storageAddr, nil, 1_000+uint64(r.IntN(500)), append(word(1_000_000+n), word(7)...))
		case 5: // a storage write or delete
			err = tx(from, kind, &storageAddr, nil, 60_000, append(word(uint64(r.IntN(6))), word(uint64(r.IntN(3))*n)...))
		case 6: // ecrecover of a valid or an invalid signature
			input := validEcrecoverInput(n + uint64(r.IntN(100)))
			if r.IntN(2) == 0 {
				input = make([]byte, 128)
			}
			c.calls = append(c.calls, precompileCall{addr: common.BytesToAddress([]byte{0x01}), input: input, number: n, time: t})
			err = tx(from, kind, &ecrecoverCaller, nil, 60_000, input)
		case 7: // a self-destruct
			err = tx(from, kind, &destructorAddr, big.NewInt(1), 30_000, nil)
		case 8: // a call to a created contract
			if len(c.created) == 0 {
				continue
			}
			to := c.created[r.IntN(len(c.created))].addr
			err = tx(from, kind, &to, nil, 60_000, append(word(9), word(n)...))
		case 9, 10: // an EIP-7702 delegation of carol, whose authorization is valid or, one time in three, not
			if !prague {
				continue
			}
			err = add(g.setCodeTx(c, from, r.IntN(3) != 0, append(word(uint64(r.IntN(4))), word(n)...), feeCap))
		}
		if err != nil {
			return nil, err
		}
	}
	return txs, nil
}

// setCodeTx is an EIP-7702 transaction from `from` that delegates carol's account to the storage contract
// and calls carol with data. An invalid authorization (for another chain) is skipped by the engine: carol's
// nonce does not move and the call runs carol's current code.
func (g *txGen) setCodeTx(c *l2Chain, from account, valid bool, data []byte, feeCap *big.Int) ([]byte, error) {
	carol := c.acc.carol
	chainID := uint256.MustFromBig(c.config.ChainID)
	authChain := *chainID
	if !valid {
		authChain = *uint256.NewInt(424242)
	}
	auth, err := types.SignSetCode(carol.key, types.SetCodeAuthorization{ChainID: authChain, Address: storageAddr, Nonce: c.nonces[carol.addr]})
	if err != nil {
		return nil, err
	}
	if valid {
		c.nonces[carol.addr]++
	}
	nonce := c.nonces[from.addr]
	c.nonces[from.addr]++
	tx, err := types.SignNewTx(from.key, types.LatestSignerForChainID(c.config.ChainID), &types.SetCodeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: uint256.NewInt(params.GWei / 100), GasFeeCap: uint256.MustFromBig(feeCap),
		Gas: 200_000, To: carol.addr, Value: new(uint256.Int), Data: data, AuthList: []types.SetCodeAuthorization{auth},
	})
	if err != nil {
		return nil, err
	}
	return tx.MarshalBinary()
}

// deposits returns the deposit maker of the generator's L1 blocks: up to four random deposits from the
// two depositors in the three L1 transaction types: ETH to an L2 account, a contract call, a contract
// creation, a call that runs out of gas or reverts on L2, a transfer of more value than the depositor has
// on L2 (which fails there; the mint stays).
func (g *txGen) deposits(c *chainGen) func(n uint64) ([]l1TxFunc, error) {
	return func(n uint64) ([]l1TxFunc, error) {
		r := g.rand("l1", n)
		var txs []l1TxFunc
		for range r.IntN(5) {
			from := c.acc.depositors[r.IntN(2)]
			kind := []l1TxKind{l1Dynamic, l1Legacy, l1AccessList}[r.IntN(3)]
			mint := big.NewInt(r.Int64N(params.Ether))
			dep := &types.DepositTx{From: from.addr, Mint: mint, Value: new(big.Int), Gas: 100_000}
			switch r.IntN(6) {
			case 0:
				to := common.Address{0xd0, byte(r.IntN(8)), byte(n)}
				dep.To, dep.Value, dep.Gas = &to, mint, 50_000
			case 1:
				dep.To, dep.Data = &storageAddr, append(word(3000+n), word(uint64(r.IntN(9)))...)
			case 2:
				dep.Data, dep.Gas = initCode(StorageCode), 200_000
			case 3:
				dep.To, dep.Data, dep.Gas = &storageAddr, append(word(n), word(1)...), 21_500
			case 4:
				dep.To = &reverterAddr
			case 5:
				to := common.Address{0xd1, byte(n)}
				dep.To, dep.Mint, dep.Value = &to, new(big.Int), new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(params.Ether))
			}
			data, err := depositCalldata(dep)
			if err != nil {
				return nil, fmt.Errorf("l1 block %d deposit: %w", n, err)
			}
			txs = append(txs, c.g.l1.l1Call(from, kind, c.l2.rollup.DepositContractAddress, dep.Mint, data, 100_000))
		}
		return txs, nil
	}
}
