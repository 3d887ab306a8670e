package devnet

import (
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// A Devnet is an L1 chain and an OP Stack L2 chain derivable from it, generated deterministically:
//
//   - L1 (chain 900, every Ethereum fork from genesis, 12-second blocks) is made with op-geth's chain maker.
//     Its genesis holds two tiny contracts that emit exactly the logs derivation reads: a deposit contract
//     (the OptimismPortal's TransactionDeposited) and a system config contract (ConfigUpdate). Users make
//     deposits, the system config changes over time (batcher, gas limit, fee scalars, EIP-1559 parameters,
//     operator fee, minimum base fee, DA footprint scalar), and a batcher posts every L2 block.
//   - L2 (chain 901, 2-second blocks, every OP fork from Regolith to Karst at its own block, see
//     DevnetForkHeights) is built by op-geth's block builder from payload attributes made by our derivation
//     code (derive.BuildAttributes), with L1 origins chosen as op-node's sequencer chooses them and
//     sequencer transactions of every kind: transfers of each transaction type, contract creations,
//     storage writes and deletes, precompile calls, EIP-7702 delegations.
//   - The batcher puts the blocks built since the previous L1 block in a channel (singular batches for
//     blocks whose L1 origin is before Delta, span batches after; zlib, and brotli from Fjord) and posts its
//     frames over two L1 blocks, in order, as calldata or, from Ecotone, as blobs.
//   - L1 also holds what derivation must ignore: a frame look-alike sent to the batch inbox by another
//     account (once before Holocene, once after), a call to the deposit contract that fails, and
//     TransactionDeposited and ConfigUpdate logs emitted by an EIP-7702 account running the contracts' code.
//   - The L2 chain is what our derivation (derive.Pipeline) makes of L1: after each L1 block the devnet
//     derives from its safe head, and where derivation makes another block than the sequencer built (a
//     faulty batcher's batch was taken, a rejected batch replaced by its deposits, a sequencing window ran
//     out), the sequencer builds on the derived block. With an honest batcher the two are the same.
//
// Config varies all of it: the fork schedule, the batches (types, calldata or blobs, channels and frames),
// random transactions, and a faulty batcher (Config.Faults); Configurations names a set of variations.
// The same Config gives byte-identical chains. A Devnet is read-only once made.
type Devnet struct {
	cfg      Config
	l1Config *params.ChainConfig
	l2Config *params.ChainConfig
	rollup   *rollup.Config

	l1Genesis  *core.Genesis
	l2Genesis  *core.Genesis
	l1Blocks   []*types.Block // index = number
	l1Receipts []types.Receipts
	l2Blocks   []*types.Block // index = number
	l2Attrs    []*rollup.PayloadAttributes
	outputs    []Output // index = L2 block number
	blobs      map[common.Hash]*blobRecord
	blobBlocks []uint64
	batches    []BatchInfo // index = L2 block number - 1

	preimages map[[32]byte][]byte
}

// Config sets what a Devnet holds. The zero value is the default devnet.
type Config struct {
	// L2Blocks is the number of L2 blocks after genesis (0: DefaultL2Blocks). Forks whose activation block
	// is above it are scheduled but never reached.
	L2Blocks uint64
	// Seed derives the accounts' keys and the channel IDs.
	Seed uint64
	// InvalidBatchAt lists L2 blocks, from Holocene on, whose batch carries a transaction the engine rejects
	// (a nonce far ahead) instead of the sequencer's transactions, as a faulty batcher could post. Derivation
	// replaces each by a deposit-only block (holocene/derivation.md), which is what the devnet's chain holds
	// there; each such batch ends its channel.
	InvalidBatchAt []uint64

	// Forks is the fork schedule (nil: DevnetForkHeights); forks it leaves out never activate (see
	// ParseForks).
	Forks ForkSchedule
	// SeqWindowSize is the sequencing window in L1 blocks (0: 100).
	SeqWindowSize uint64
	// ChannelTimeout is the channel timeout in L1 blocks before Granite (0: 300); from Granite it is 50.
	ChannelTimeout uint64
	// Batcher shapes the batches, channels and frames (the zero value is the default batcher).
	Batcher BatcherConfig
	// TxSeed, if not zero, seeds random sequencer transactions (transfers of every type, contract
	// creations, calls that revert or run out of gas, storage writes, precompile calls, self-destructs,
	// EIP-7702 authorizations from Isthmus) and random user deposits on L1, instead of the fixed mix.
	TxSeed uint64
	// Faults are attacks of a faulty batcher on derivation (see FaultKind). The devnet's L2 chain is then
	// what derivation makes of the batches.
	Faults []Fault
	// L1BlocksPast adds this many empty L1 blocks after the block that would be the head: a real L1 head is
	// often hundreds of blocks past the data of a claim, and a program walks back to the data from it.
	L1BlocksPast uint64

	// Interop, if set, makes an interop devnet: several L2 chains in one dependency set on this L1, with
	// cross-chain messages (see NewInterop). New refuses it.
	Interop *InteropConfig

	// HoloceneFutureRightParent gives FaultFutureTimestamp's batch its right parent hash from Holocene on.
	// The block then depends on where derivation starts (see FaultFutureTimestamp): the devnet's chain is
	// what a derivation reset at the block's parent makes, and a claim about the block from an older
	// agreed block gets another verdict. For showing that, with our program and op-program alike; a
	// devnet to sweep leaves it off.
	HoloceneFutureRightParent bool
}

// DefaultL2Blocks reaches every fork and a few blocks after Karst: 11 L1 epochs.
const DefaultL2Blocks = 70

// DevnetForkHeights is the devnet's fork schedule: with 6 L2 blocks per L1 block, the activations are spread
// over as many L1 blocks, so that what derivation decides by L1 time (span batches from Delta, blobs from
// Ecotone, brotli from Fjord, Holocene's strict ordering) changes between the L1 blocks of one devnet.
// Ecotone activates at the first block of an epoch (deposits and upgrade transactions in one block).
var DevnetForkHeights = ForkSchedule{
	{rollup.Regolith, 4}, {rollup.Canyon, 9}, {rollup.Delta, 15}, {rollup.Ecotone, 24}, {rollup.Fjord, 32},
	{rollup.Granite, 39}, {rollup.Holocene, 45}, {rollup.Isthmus, 50}, {rollup.Jovian, 56}, {rollup.Karst, 62},
}

// Devnet constants.
const (
	// L1GenesisTime is the time of the L1 genesis block and of the L2 genesis block.
	L1GenesisTime = 1_700_000_000
	// L1BlockTime is the L1 block time in seconds.
	L1BlockTime = 12
)

// Addresses of the devnet's rollup contracts on L1.
var (
	DepositContractAddress = common.HexToAddress("0x00000000000000000000000000000000deadbeef")
	SystemConfigAddress    = common.HexToAddress("0x0000000000000000000000000000000000005c0f")
	BatchInboxAddress      = common.HexToAddress("0xff00000000000000000000000000000000000901")
)

// chainConfigs are the L2 chain config and rollup config of the devnet's chain i, without the genesis
// blocks: cfg's fork schedule, sequencing window and channel timeout, with the batcher of acc. Chain 0 is
// chain 901 with the rollup contracts at DepositContractAddress, SystemConfigAddress and
// BatchInboxAddress; chain i of an interop devnet is chain 901+i, with its own contracts (chainAddress).
// cfg has its defaults filled in.
func chainConfigs(cfg Config, i int, acc *accounts) (*params.ChainConfig, *rollup.Config) {
	l2, rcfg := forkConfigs(L1GenesisTime, cfg.forkTime(L1GenesisTime))
	id := uint64(901 + i)
	l2.ChainID, rcfg.L2ChainID = new(big.Int).SetUint64(id), new(big.Int).SetUint64(id)
	rcfg.BatchInboxAddress = chainAddress(BatchInboxAddress, i)
	rcfg.DepositContractAddress = chainAddress(DepositContractAddress, i)
	rcfg.L1SystemConfigAddress = chainAddress(SystemConfigAddress, i)
	rcfg.SeqWindowSize = cfg.SeqWindowSize
	rcfg.ChannelTimeoutBedrock = cfg.ChannelTimeout
	rcfg.Genesis.SystemConfig = rollup.SystemConfig{
		BatcherAddr: acc.batchers[0].addr,
		Overhead:    common.BigToHash(big.NewInt(2100)),
		Scalar:      common.BigToHash(big.NewInt(1_000_000)),
		GasLimit:    l2GenesisGasLimit,
	}
	return l2, rcfg
}

// chainAddress is the address of chain i's copy of an L1 rollup contract: chain 0's is base, chain i's
// base with i added to its byte 10 (to its last byte for the batch inbox: 0xff00...0901 for chain 901,
// ...0902 for chain 902).
func chainAddress(base common.Address, i int) common.Address {
	if base == BatchInboxAddress {
		base[19] += byte(i)
		return base
	}
	base[10] += byte(i)
	return base
}

// Defaults of Config.
const (
	defaultSeqWindowSize  = 100
	defaultChannelTimeout = 300
)

// withDefaults is cfg with its defaults filled in, checked.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.L2Blocks == 0 {
		cfg.L2Blocks = DefaultL2Blocks
	}
	if cfg.Forks == nil {
		cfg.Forks = slices.Clone(DevnetForkHeights)
	}
	if err := checkForks(cfg.Forks); err != nil {
		return cfg, err
	}
	if cfg.SeqWindowSize == 0 {
		cfg.SeqWindowSize = defaultSeqWindowSize
	}
	if cfg.ChannelTimeout == 0 {
		cfg.ChannelTimeout = defaultChannelTimeout
	}
	for _, n := range cfg.InvalidBatchAt {
		if n == 0 || n > cfg.L2Blocks {
			return cfg, fmt.Errorf("invalid batch at L2 block %d: not a block of the devnet (1..%d)", n, cfg.L2Blocks)
		}
	}
	var err error
	if cfg.Batcher, err = cfg.Batcher.withDefaults(); err != nil {
		return cfg, err
	}
	for _, f := range cfg.Faults {
		if err := f.check(cfg.L2Blocks); err != nil {
			return cfg, err
		}
	}
	if cfg.Interop != nil {
		ic, err := cfg.Interop.withDefaults(cfg)
		if err != nil {
			return cfg, err
		}
		cfg.Interop = &ic
	}
	return cfg, nil
}

// Output is a version-0 L2 output.
type Output = rollup.Output

// BatchInfo says where the batch of an L2 block was posted, and how derivation took it.
type BatchInfo struct {
	Channel   derive.ChannelID // the channel holding it
	Span      bool             // in a span batch (else a singular batch)
	Blob      bool             // the channel's frames were posted in blobs (else calldata)
	Brotli    bool             // the channel is brotli-compressed (else zlib)
	FirstL1   uint64           // the L1 block with the channel's first frame
	LastL1    uint64           // the L1 block with the channel's last frame
	L1Origin  uint64           // the block's L1 origin
	SeqNumber uint64           // the block's position in its epoch
	// Invalid: the batch's transactions were rejected by the engine and the block holds the deposits
	// only (Config.InvalidBatchAt, or a faulty batcher's batch after Holocene).
	Invalid bool
	// Replaced: on an interop devnet, consolidation replaced the block derived from the batch (it, or a
	// block at its timestamp it depends on, executed an invalid message) by its deposits alone.
	Replaced bool
	// Sequenced: the block is the sequencer's, derived from the batch described here. Otherwise derivation
	// made it without the sequencer (from a faulty batcher's batch, or as an empty batch when the sequencing
	// window of its epoch ran out, or as the deposit-only replacement of a rejected batch), and Channel,
	// Span, Blob, Brotli, FirstL1 and LastL1 are zero.
	Sequenced bool
	// DerivedFrom is the L1 block at which derivation made the block safe: the L1 block that completed
	// its batch's channel, or that ended its epoch's sequencing window.
	DerivedFrom uint64
}

// Config is what the devnet was made with (defaults filled in).
func (d *Devnet) Config() Config { return d.cfg }

// L1ChainConfig is the L1 chain config.
func (d *Devnet) L1ChainConfig() *params.ChainConfig { return d.l1Config }

// L2ChainConfig is the L2 chain config.
func (d *Devnet) L2ChainConfig() *params.ChainConfig { return d.l2Config }

// Rollup is the rollup config, with the L1 and L2 genesis blocks.
func (d *Devnet) Rollup() *rollup.Config { return d.rollup }

// L1Genesis is the L1 genesis specification (shared: do not modify).
func (d *Devnet) L1Genesis() *core.Genesis { return d.l1Genesis }

// L2Genesis is the L2 genesis specification (shared: do not modify).
func (d *Devnet) L2Genesis() *core.Genesis { return d.l2Genesis }

// L1Head is the newest L1 block: every L2 block's batch is in an L1 block before it.
func (d *Devnet) L1Head() *types.Block { return d.l1Blocks[len(d.l1Blocks)-1] }

// L1Block returns L1 block n (0 is genesis); nil past the head.
func (d *Devnet) L1Block(n uint64) *types.Block {
	if n >= uint64(len(d.l1Blocks)) {
		return nil
	}
	return d.l1Blocks[n]
}

// L1Receipts returns the receipts of L1 block n, with the fields derived from the block filled in.
func (d *Devnet) L1Receipts(n uint64) types.Receipts { return d.l1Receipts[n] }

// L2Head is the newest L2 block.
func (d *Devnet) L2Head() *types.Block { return d.l2Blocks[len(d.l2Blocks)-1] }

// L2Block returns L2 block n (0 is genesis); nil past the head.
func (d *Devnet) L2Block(n uint64) *types.Block {
	if n >= uint64(len(d.l2Blocks)) {
		return nil
	}
	return d.l2Blocks[n]
}

// L2Attributes returns the payload attributes L2 block n was built from (nil for genesis and past the
// head): what derivation makes of its batch.
func (d *Devnet) L2Attributes(n uint64) *rollup.PayloadAttributes {
	if n >= uint64(len(d.l2Attrs)) {
		return nil
	}
	return d.l2Attrs[n]
}

// Output returns the output of L2 block n.
func (d *Devnet) Output(n uint64) Output { return d.outputs[n] }

// OutputRoot returns the output root of L2 block n.
func (d *Devnet) OutputRoot(n uint64) common.Hash { return d.outputs[n].Root() }

// Batch says where the batch of L2 block n (n >= 1) was posted.
func (d *Devnet) Batch(n uint64) BatchInfo { return d.batches[n-1] }

// BlobBlocks are the numbers of the L1 blocks that carry blobs, in order.
func (d *Devnet) BlobBlocks() []uint64 { return append([]uint64(nil), d.blobBlocks...) }

// Blob returns the blob with a versioned hash, its KZG commitment and the L1 block that carried it.
func (d *Devnet) Blob(versionedHash common.Hash) (*kzg4844.Blob, kzg4844.Commitment, uint64, bool) {
	r, ok := d.blobs[versionedHash]
	if !ok {
		return nil, kzg4844.Commitment{}, 0, false
	}
	return r.blob, r.commitment, r.l1Block, true
}

// Preimages returns what a host stores to serve any claim on the devnet, by preimage key: L1 headers and
// the nodes of their transaction and receipt tries; blobs as the oracle serves them (the KZG commitment
// under the sha256 key of the versioned hash, every field element under its blob key and the 80 bytes that
// key hashes); L2 headers, transaction trie nodes, state trie nodes and contract code; the output of every L2
// block; and the results of the accelerated precompile calls of the L2 transactions. The map is a new copy;
// the values are shared and must not be modified.
func (d *Devnet) Preimages() map[[32]byte][]byte { return maps.Clone(d.preimages) }

// LocalPreimages are the local keys of a program instance on the devnet (a custom chain: chain ID
// preimage.CustomChainIDIndicator, configs as JSON): the L1 head, the output at agreedBlock as the agreed
// output, claim as the claimed output at claimBlock.
func (d *Devnet) LocalPreimages(agreedBlock uint64, claim common.Hash, claimBlock uint64) (map[[32]byte][]byte, error) {
	enc := func(v any) ([]byte, error) { return json.Marshal(v) }
	l2, err := enc(d.l2Config)
	if err != nil {
		return nil, err
	}
	rc, err := enc(d.rollup)
	if err != nil {
		return nil, err
	}
	l1, err := enc(d.l1Config)
	if err != nil {
		return nil, err
	}
	if agreedBlock >= uint64(len(d.outputs)) {
		return nil, fmt.Errorf("no L2 block %d (head %d)", agreedBlock, len(d.outputs)-1)
	}
	be := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	out := map[[32]byte][]byte{}
	for k, v := range map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:             d.L1Head().Hash().Bytes(),
		preimage.L2OutputRootLocalIndex:       d.OutputRoot(agreedBlock).Bytes(),
		preimage.L2ClaimLocalIndex:            claim.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex: be(claimBlock),
		preimage.L2ChainIDLocalIndex:          be(preimage.CustomChainIDIndicator),
		preimage.L2ChainConfigLocalIndex:      l2,
		preimage.RollupConfigLocalIndex:       rc,
		preimage.L1ChainConfigLocalIndex:      l1,
	} {
		out[k.PreimageKey()] = v
	}
	return out, nil
}

// account is a devnet key and its address.
type account struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

// devKey derives the key of a named devnet account from the seed.
func devKey(seed uint64, name string) account {
	h := crypto.Keccak256(binary.BigEndian.AppendUint64([]byte("faultproof devnet "+name+"/"), seed))
	for {
		if key, err := crypto.ToECDSA(h); err == nil {
			return account{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
		}
		h = crypto.Keccak256(h) // not a valid scalar: practically never
	}
}

// accounts are the devnet's actors on one chain.
type accounts struct {
	batchers   [2]account // the genesis batcher, and the one the system config switches to
	sysOwner   account    // sends the system config updates
	depositors [2]account // make deposits on L1
	l1User     account    // other L1 traffic: transfers, EIP-7702 look-alike logs, spam to the batch inbox
	alice      account    // L2 sequencer transactions
	bob        account    // L2 legacy and access-list transactions
	carol      account    // L2 EIP-7702 authority
}

func newAccounts(seed uint64) *accounts { return newChainAccounts(seed, "") }

// newChainAccounts are the accounts of one chain of an interop devnet: each name with a suffix (none for
// the first chain, whose accounts are a single-chain devnet's).
func newChainAccounts(seed uint64, suffix string) *accounts {
	key := func(name string) account { return devKey(seed, name+suffix) }
	return &accounts{
		batchers:   [2]account{key("batcher"), key("batcher-2")},
		sysOwner:   key("system-config-owner"),
		depositors: [2]account{key("depositor"), key("depositor-2")},
		l1User:     key("l1-user"),
		alice:      key("alice"),
		bob:        key("bob"),
		carol:      key("carol"),
	}
}
