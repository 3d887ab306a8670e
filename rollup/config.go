// Package rollup holds the rollup configuration of an OP Stack chain (op-node's rollup.json format), its fork
// schedule and the protocol parameters that change with forks, and the lookup of chains by chain ID: the
// public chains of the superchain registry (generated into registry_gen.go) and custom chains built into
// the program. Both the host (flags, local keys) and the client (boot info, derivation) read chains
// through it.
package rollup

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/params"
)

// BlockID names a block by hash and number.
type BlockID struct {
	Hash   common.Hash `json:"hash"`
	Number uint64      `json:"number"`
}

func (id BlockID) String() string { return fmt.Sprintf("%s:%d", id.Hash, id.Number) }

// Bytes8 is an 8-byte value written as 0x-prefixed hex, like the Holocene EIP-1559 parameters.
type Bytes8 [8]byte

func (b Bytes8) MarshalText() ([]byte, error) { return hexutil.Bytes(b[:]).MarshalText() }
func (b *Bytes8) UnmarshalText(text []byte) error {
	return hexutil.UnmarshalFixedText("Bytes8", text, b[:])
}

// SystemConfig is the part of the L1 SystemConfig contract's state that derivation uses. The genesis copy is
// in the rollup config; later values come from L1 logs and the L1-info deposit of each L2 block.
type SystemConfig struct {
	BatcherAddr common.Address `json:"batcherAddr"`
	// Overhead and Scalar are the L1 fee parameters; from Ecotone, Scalar packs a version byte and the
	// base-fee and blob-base-fee scalars, and Overhead is unused.
	Overhead common.Hash `json:"overhead"`
	Scalar   common.Hash `json:"scalar"`
	GasLimit uint64      `json:"gasLimit"`
	// EIP1559Params are Holocene's denominator and elasticity (4 bytes each); zero means the chain defaults.
	EIP1559Params Bytes8 `json:"eip1559Params"`
	// OperatorFeeParams are Isthmus' operator fee scalar and constant.
	OperatorFeeParams common.Hash `json:"operatorFeeParams"`
	// MinBaseFee is Jovian's lower bound on the L2 base fee.
	MinBaseFee uint64 `json:"minBaseFee"`
	// DAFootprintGasScalar is Jovian's data-availability footprint scalar.
	DAFootprintGasScalar uint16 `json:"daFootprintGasScalar"`
}

// Genesis anchors the rollup: the L1 block it starts after, its first L2 block and the initial system config.
type Genesis struct {
	L1           BlockID      `json:"l1"`
	L2           BlockID      `json:"l2"`
	L2Time       uint64       `json:"l2_time"`
	SystemConfig SystemConfig `json:"system_config"`
}

// AltDAConfig configures alternative data availability. Fault proofs of alt-DA chains are not supported;
// the field is kept so such configs parse and can be rejected with a clear message.
type AltDAConfig struct {
	DAChallengeAddress common.Address `json:"da_challenge_contract_address,omitempty"`
	CommitmentType     string         `json:"da_commitment_type"`
	MaxInputSize       *uint64        `json:"da_max_input_size,omitempty"`
	DAChallengeWindow  uint64         `json:"da_challenge_window"`
	DAResolveWindow    uint64         `json:"da_resolve_window"`
}

// Config is a rollup configuration in op-node's rollup.json format; field names are part of the custom-chain
// local key (index 7) and must stay as op-node writes them.
type Config struct {
	Genesis           Genesis `json:"genesis"`
	BlockTime         uint64  `json:"block_time"`
	MaxSequencerDrift uint64  `json:"max_sequencer_drift,omitempty"`
	SeqWindowSize     uint64  `json:"seq_window_size"`
	// ChannelTimeoutBedrock applies until Granite fixes the channel timeout (see ChannelTimeout).
	ChannelTimeoutBedrock uint64   `json:"channel_timeout"`
	L1ChainID             *big.Int `json:"l1_chain_id"`
	L2ChainID             *big.Int `json:"l2_chain_id"`

	// Fork activation times (L2 block timestamps); nil means never. See forks.go.
	RegolithTime *uint64 `json:"regolith_time,omitempty"`
	CanyonTime   *uint64 `json:"canyon_time,omitempty"`
	DeltaTime    *uint64 `json:"delta_time,omitempty"`
	EcotoneTime  *uint64 `json:"ecotone_time,omitempty"`
	FjordTime    *uint64 `json:"fjord_time,omitempty"`
	GraniteTime  *uint64 `json:"granite_time,omitempty"`
	HoloceneTime *uint64 `json:"holocene_time,omitempty"`
	IsthmusTime  *uint64 `json:"isthmus_time,omitempty"`
	JovianTime   *uint64 `json:"jovian_time,omitempty"`
	KarstTime    *uint64 `json:"karst_time,omitempty"`
	// KeepKarstUpgradeGas keeps the one-time Karst upgrade gas in the gas limit after the activation block.
	KeepKarstUpgradeGas bool    `json:"keep_karst_upgrade_gas,omitempty"`
	LagoonTime          *uint64 `json:"lagoon_time,omitempty"`

	BatchInboxAddress      common.Address `json:"batch_inbox_address"`
	DepositContractAddress common.Address `json:"deposit_contract_address"`
	L1SystemConfigAddress  common.Address `json:"l1_system_config_address"`

	// ChainOpConfig holds the execution layer's EIP-1559 defaults, used where system config values are zero.
	ChainOpConfig *params.OptimismConfig `json:"chain_op_config,omitempty"`
	AltDAConfig   *AltDAConfig           `json:"alt_da,omitempty"`
	// PectraBlobScheduleTime: until this L1 origin time, the L1-info blob base fee uses Cancun's parameters
	// even on Prague L1 blocks (a fix for chains that missed the Pectra blob schedule).
	PectraBlobScheduleTime *uint64 `json:"pectra_blob_schedule_time,omitempty"`
}

// Errors returned by Check.
var (
	ErrBlockTimeZero         = errors.New("block time cannot be 0")
	ErrMissingChannelTimeout = errors.New("channel timeout must be set")
	ErrInvalidSeqWindowSize  = errors.New("sequencing window size must be at least 2")
	ErrInvalidMaxSeqDrift    = errors.New("maximum sequencer drift must be greater than 0")
	ErrMissingGenesisL1Hash  = errors.New("genesis L1 hash cannot be empty")
	ErrMissingGenesisL2Hash  = errors.New("genesis L2 hash cannot be empty")
	ErrGenesisHashesSame     = errors.New("genesis L1 and L2 hashes cannot be the same")
	ErrMissingGenesisL2Time  = errors.New("missing L2 genesis time")
	ErrMissingBatcherAddr    = errors.New("missing genesis system config batcher address")
	ErrMissingScalar         = errors.New("missing genesis system config scalar")
	ErrMissingGasLimit       = errors.New("missing genesis system config gas limit")
	ErrMissingBatchInbox     = errors.New("missing batch inbox address")
	ErrMissingDepositAddress = errors.New("missing deposit contract address")
	ErrMissingChainID        = errors.New("L1 and L2 chain IDs must be set and positive")
	ErrChainIDsSame          = errors.New("L1 and L2 chain IDs must be different")
	ErrAltDAUnsupported      = errors.New("alt-DA chains are not supported by fault proofs")
)

// Check reports the first problem that makes the config unusable for derivation.
func (c *Config) Check() error {
	switch {
	case c.BlockTime == 0:
		return ErrBlockTimeZero
	case c.ChannelTimeoutBedrock == 0:
		return ErrMissingChannelTimeout
	case c.SeqWindowSize < 2:
		return ErrInvalidSeqWindowSize
	case c.MaxSequencerDrift == 0:
		return ErrInvalidMaxSeqDrift
	case c.Genesis.L1.Hash == (common.Hash{}):
		return ErrMissingGenesisL1Hash
	case c.Genesis.L2.Hash == (common.Hash{}):
		return ErrMissingGenesisL2Hash
	case c.Genesis.L1.Hash == c.Genesis.L2.Hash:
		return ErrGenesisHashesSame
	case c.Genesis.L2Time == 0:
		return ErrMissingGenesisL2Time
	case c.Genesis.SystemConfig.BatcherAddr == (common.Address{}):
		return ErrMissingBatcherAddr
	case c.Genesis.SystemConfig.Scalar == (common.Hash{}):
		return ErrMissingScalar
	case c.Genesis.SystemConfig.GasLimit == 0:
		return ErrMissingGasLimit
	case c.BatchInboxAddress == (common.Address{}):
		return ErrMissingBatchInbox
	case c.DepositContractAddress == (common.Address{}):
		return ErrMissingDepositAddress
	case c.L1ChainID == nil || c.L2ChainID == nil || c.L1ChainID.Sign() < 1 || c.L2ChainID.Sign() < 1:
		return ErrMissingChainID
	case c.L1ChainID.Cmp(c.L2ChainID) == 0:
		return ErrChainIDsSame
	case c.AltDAConfig != nil:
		return ErrAltDAUnsupported
	}
	if !c.L2ChainID.IsUint64() {
		return fmt.Errorf("L2 chain ID %v does not fit in 64 bits", c.L2ChainID)
	}
	return c.checkForkOrder()
}

// ParseConfig decodes a rollup.json. Unknown fields are ignored, as op-node's newer files carry fields
// derivation does not need, except unknown fork activations ("<name>_time" set to a time): a fork we do
// not know would otherwise silently never activate.
func ParseConfig(data []byte) (*Config, error) {
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("decode rollup config: %w", err)
	}
	if err := checkUnknownForks(data); err != nil {
		return nil, err
	}
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("invalid rollup config: %w", err)
	}
	return &cfg, nil
}

// knownFields are the JSON names of Config's fields, computed when a config is first parsed rather than at
// start-up (the program inside the VM pays for every step of its init).
var knownFields = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		known[name] = true
	}
	return known
})

// ErrUnknownFork is returned for a rollup config that schedules a fork this build does not implement.
var ErrUnknownFork = errors.New("unknown fork")

func checkUnknownForks(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("decode rollup config: %w", err)
	}
	var unknown []string
	for name, v := range fields {
		if !knownFields()[name] && strings.HasSuffix(name, "_time") && string(v) != "null" {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%w scheduled in rollup config (%s): this build cannot derive it", ErrUnknownFork, strings.Join(unknown, ", "))
	}
	return nil
}

// LoadConfig reads and checks a rollup.json file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rollup config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ChainID is the L2 chain ID as a number; Check guarantees it fits.
func (c *Config) ChainID() uint64 { return c.L2ChainID.Uint64() }

// TimestampForBlock is the timestamp of L2 block number n.
func (c *Config) TimestampForBlock(n uint64) uint64 {
	return c.Genesis.L2Time + (n-c.Genesis.L2.Number)*c.BlockTime
}
