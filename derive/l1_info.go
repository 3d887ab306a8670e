package derive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/rollup"
)

// The L1 attributes deposited transaction (specs/protocol/deposits.md "L1 Attributes Deposited Transaction",
// ecotone/l1-attributes.md, isthmus/l1-attributes.md, jovian/l1-attributes.md): the first transaction of
// every L2 block, a deposit from the L1 attributes depositor to the L1Block predeploy that records the
// block's L1 origin and the fee parameters of the system config.

// L1InfoForm is the calldata layout of an L1 attributes transaction; it changes with forks.
type L1InfoForm uint8

const (
	// L1InfoFormBedrock is the ABI-encoded setL1BlockValues call (Bedrock to Delta, and the Ecotone
	// activation block).
	L1InfoFormBedrock L1InfoForm = iota
	// L1InfoFormEcotone is the packed setL1BlockValuesEcotone call.
	L1InfoFormEcotone
	// L1InfoFormIsthmus adds the operator fee parameters (setL1BlockValuesIsthmus).
	L1InfoFormIsthmus
	// L1InfoFormJovian adds the DA footprint gas scalar (setL1BlockValuesJovian).
	L1InfoFormJovian
)

func (f L1InfoForm) String() string {
	switch f {
	case L1InfoFormBedrock:
		return "bedrock"
	case L1InfoFormEcotone:
		return "ecotone"
	case L1InfoFormIsthmus:
		return "isthmus"
	case L1InfoFormJovian:
		return "jovian"
	}
	return fmt.Sprintf("L1InfoForm(%d)", uint8(f))
}

// Calldata lengths of each form, selector included.
const (
	L1InfoBedrockLen = 4 + 8*32 // eight ABI words
	L1InfoEcotoneLen = 4 + 5*32 // five packed 32-byte segments
	L1InfoIsthmusLen = L1InfoEcotoneLen + 4 + 8
	L1InfoJovianLen  = L1InfoIsthmusLen + 2
)

// Gas and defaults of the L1 attributes transaction.
const (
	// L1InfoGasBedrock is the gas limit before Regolith, when the transaction is a system transaction.
	L1InfoGasBedrock = 150_000_000
	// RegolithSystemTxGas is the gas limit from Regolith on.
	RegolithSystemTxGas = 1_000_000
	// DAFootprintGasScalarDefault replaces a zero DA footprint gas scalar in the Jovian form.
	DAFootprintGasScalarDefault = 400
)

// Scalar versions of the post-Ecotone system config scalar (specs/protocol/system-config.md "Post-Ecotone
// Scalar Encoding").
const (
	L1ScalarVersionBedrock = 0
	L1ScalarVersionEcotone = 1
)

var (
	// L1InfoFuncBedrockSelector and the others are the 4-byte selectors of the L1Block setters.
	L1InfoFuncBedrockSelector = l1InfoSelector("setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)")
	L1InfoFuncEcotoneSelector = l1InfoSelector("setL1BlockValuesEcotone()")
	L1InfoFuncIsthmusSelector = l1InfoSelector("setL1BlockValuesIsthmus()")
	L1InfoFuncJovianSelector  = l1InfoSelector("setL1BlockValuesJovian()")

	// L1InfoDepositerAddress is the L1 attributes depositor account.
	L1InfoDepositerAddress = common.HexToAddress("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001")
	// L1BlockAddress is the L1Block (L1 attributes) predeploy.
	L1BlockAddress = common.HexToAddress("0x4200000000000000000000000000000000000015")
)

// Errors of the L1 attributes codec.
var (
	ErrL1InfoLength      = errors.New("L1 info calldata has the wrong length")
	ErrL1InfoSelector    = errors.New("L1 info calldata has the wrong function selector")
	ErrL1InfoPadding     = errors.New("L1 info calldata has non-zero padding")
	ErrL1InfoBaseFee     = errors.New("L1 info base fee is missing or exceeds 256 bits")
	ErrL1InfoBlobBaseFee = errors.New("L1 info blob base fee exceeds 256 bits")
	ErrL1InfoForm        = errors.New("unknown L1 info form")
	// ErrEcotoneScalar is returned for a system config scalar of an unknown version, which the Ecotone L1
	// info forms cannot express.
	ErrEcotoneScalar = errors.New("unsupported system config scalar version")
	// ErrBlobBaseFee is returned when the L1 chain config has no blob parameters for an L1 block that
	// carries excess blob gas.
	ErrBlobBaseFee = errors.New("cannot compute the L1 blob base fee")
)

func l1InfoSelector(sig string) [4]byte {
	return [4]byte(crypto.Keccak256([]byte(sig))[:4])
}

// L1BlockInfo is what an L1 attributes transaction tells the L1Block predeploy.
type L1BlockInfo struct {
	Number    uint64
	Time      uint64
	BaseFee   *big.Int
	BlockHash common.Hash
	// SequenceNumber is the L2 block's distance to the first L2 block of its epoch.
	SequenceNumber uint64
	// BatcherAddr is the version-0 batcher hash: the address, left-padded with zeros.
	BatcherAddr common.Address

	// Bedrock form only: the L1 fee overhead and scalar, as the system config holds them.
	L1FeeOverhead common.Hash
	L1FeeScalar   common.Hash

	// From the Ecotone form.
	BlobBaseFee       *big.Int
	BaseFeeScalar     uint32
	BlobBaseFeeScalar uint32

	// From the Isthmus form.
	OperatorFeeScalar   uint32
	OperatorFeeConstant uint64

	// From the Jovian form.
	DAFootprintGasScalar uint16
}

// L1InfoFormAt is the form of the L1 attributes transaction of the L2 block at l2Time. A fork's activation
// block still uses the previous form, because the L1Block contract that understands the new one is only
// deployed by that block's upgrade transactions.
func L1InfoFormAt(cfg *rollup.Config, l2Time uint64) L1InfoForm {
	switch {
	case cfg.IsJovian(l2Time) && !cfg.IsActivationBlock(rollup.Jovian, l2Time):
		return L1InfoFormJovian
	case cfg.IsIsthmus(l2Time) && !cfg.IsActivationBlock(rollup.Isthmus, l2Time):
		return L1InfoFormIsthmus
	case cfg.IsEcotone(l2Time) && !cfg.IsActivationBlock(rollup.Ecotone, l2Time):
		return L1InfoFormEcotone
	}
	return L1InfoFormBedrock
}

// l1InfoWord writes a uint256 into a 32-byte word; nil or wider values are refused.
func l1InfoWord(dst []byte, v *big.Int, errBad error) error {
	if v == nil || v.Sign() < 0 || v.BitLen() > 256 {
		return errBad
	}
	v.FillBytes(dst[:32])
	return nil
}

// Marshal encodes the calldata of the L1 attributes transaction in the given form. Fields the form does
// not carry are ignored. A nil blob base fee is written as 1, EIP-4844's minimum.
func (info *L1BlockInfo) Marshal(form L1InfoForm) ([]byte, error) {
	if form == L1InfoFormBedrock {
		out := make([]byte, L1InfoBedrockLen)
		copy(out, L1InfoFuncBedrockSelector[:])
		w := out[4:]
		binary.BigEndian.PutUint64(w[0*32+24:], info.Number)
		binary.BigEndian.PutUint64(w[1*32+24:], info.Time)
		if err := l1InfoWord(w[2*32:], info.BaseFee, ErrL1InfoBaseFee); err != nil {
			return nil, err
		}
		copy(w[3*32:], info.BlockHash[:])
		binary.BigEndian.PutUint64(w[4*32+24:], info.SequenceNumber)
		copy(w[5*32+12:], info.BatcherAddr[:])
		copy(w[6*32:], info.L1FeeOverhead[:])
		copy(w[7*32:], info.L1FeeScalar[:])
		return out, nil
	}

	var size int
	var sel [4]byte
	switch form {
	case L1InfoFormEcotone:
		size, sel = L1InfoEcotoneLen, L1InfoFuncEcotoneSelector
	case L1InfoFormIsthmus:
		size, sel = L1InfoIsthmusLen, L1InfoFuncIsthmusSelector
	case L1InfoFormJovian:
		size, sel = L1InfoJovianLen, L1InfoFuncJovianSelector
	default:
		return nil, fmt.Errorf("%w: %d", ErrL1InfoForm, form)
	}
	out := make([]byte, size)
	copy(out, sel[:])
	binary.BigEndian.PutUint32(out[4:], info.BaseFeeScalar)
	binary.BigEndian.PutUint32(out[8:], info.BlobBaseFeeScalar)
	binary.BigEndian.PutUint64(out[12:], info.SequenceNumber)
	binary.BigEndian.PutUint64(out[20:], info.Time)
	binary.BigEndian.PutUint64(out[28:], info.Number)
	if err := l1InfoWord(out[36:], info.BaseFee, ErrL1InfoBaseFee); err != nil {
		return nil, err
	}
	blobBaseFee := info.BlobBaseFee
	if blobBaseFee == nil {
		blobBaseFee = big.NewInt(params.BlobTxMinBlobGasprice)
	}
	if err := l1InfoWord(out[68:], blobBaseFee, ErrL1InfoBlobBaseFee); err != nil {
		return nil, err
	}
	copy(out[100:], info.BlockHash[:])
	copy(out[132+12:], info.BatcherAddr[:])
	if form == L1InfoFormIsthmus || form == L1InfoFormJovian {
		binary.BigEndian.PutUint32(out[164:], info.OperatorFeeScalar)
		binary.BigEndian.PutUint64(out[168:], info.OperatorFeeConstant)
	}
	if form == L1InfoFormJovian {
		binary.BigEndian.PutUint16(out[176:], info.DAFootprintGasScalar)
	}
	return out, nil
}

// l1InfoZero reports whether b is all zero bytes.
func l1InfoZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// l1InfoUint64Word reads an ABI uint64 word, whose upper 24 bytes must be zero.
func l1InfoUint64Word(w []byte, what string) (uint64, error) {
	if !l1InfoZero(w[:24]) {
		return 0, fmt.Errorf("%w: %s", ErrL1InfoPadding, what)
	}
	return binary.BigEndian.Uint64(w[24:32]), nil
}

// l1InfoAddressWord reads an address left-padded to 32 bytes, whose padding must be zero.
func l1InfoAddressWord(w []byte, what string) (common.Address, error) {
	if !l1InfoZero(w[:12]) {
		return common.Address{}, fmt.Errorf("%w: %s", ErrL1InfoPadding, what)
	}
	return common.BytesToAddress(w[12:32]), nil
}

// UnmarshalL1BlockInfo decodes L1 attributes calldata of the given form. The length must be exact, the
// selector that of the form, and the padding of ABI-encoded integers and of the batcher hash zero.
func UnmarshalL1BlockInfo(form L1InfoForm, data []byte) (*L1BlockInfo, error) {
	var size int
	var sel [4]byte
	switch form {
	case L1InfoFormBedrock:
		size, sel = L1InfoBedrockLen, L1InfoFuncBedrockSelector
	case L1InfoFormEcotone:
		size, sel = L1InfoEcotoneLen, L1InfoFuncEcotoneSelector
	case L1InfoFormIsthmus:
		size, sel = L1InfoIsthmusLen, L1InfoFuncIsthmusSelector
	case L1InfoFormJovian:
		size, sel = L1InfoJovianLen, L1InfoFuncJovianSelector
	default:
		return nil, fmt.Errorf("%w: %d", ErrL1InfoForm, form)
	}
	if len(data) != size {
		return nil, fmt.Errorf("%w: %d bytes for the %s form, want %d", ErrL1InfoLength, len(data), form, size)
	}
	if [4]byte(data[:4]) != sel {
		return nil, fmt.Errorf("%w: %x for the %s form", ErrL1InfoSelector, data[:4], form)
	}
	info := new(L1BlockInfo)
	var err error
	if form == L1InfoFormBedrock {
		w := data[4:]
		if info.Number, err = l1InfoUint64Word(w[0*32:1*32], "number"); err != nil {
			return nil, err
		}
		if info.Time, err = l1InfoUint64Word(w[1*32:2*32], "timestamp"); err != nil {
			return nil, err
		}
		info.BaseFee = new(big.Int).SetBytes(w[2*32 : 3*32])
		info.BlockHash = common.BytesToHash(w[3*32 : 4*32])
		if info.SequenceNumber, err = l1InfoUint64Word(w[4*32:5*32], "sequence number"); err != nil {
			return nil, err
		}
		if info.BatcherAddr, err = l1InfoAddressWord(w[5*32:6*32], "batcher hash"); err != nil {
			return nil, err
		}
		info.L1FeeOverhead = common.BytesToHash(w[6*32 : 7*32])
		info.L1FeeScalar = common.BytesToHash(w[7*32 : 8*32])
		return info, nil
	}
	info.BaseFeeScalar = binary.BigEndian.Uint32(data[4:8])
	info.BlobBaseFeeScalar = binary.BigEndian.Uint32(data[8:12])
	info.SequenceNumber = binary.BigEndian.Uint64(data[12:20])
	info.Time = binary.BigEndian.Uint64(data[20:28])
	info.Number = binary.BigEndian.Uint64(data[28:36])
	info.BaseFee = new(big.Int).SetBytes(data[36:68])
	info.BlobBaseFee = new(big.Int).SetBytes(data[68:100])
	info.BlockHash = common.BytesToHash(data[100:132])
	if info.BatcherAddr, err = l1InfoAddressWord(data[132:164], "batcher hash"); err != nil {
		return nil, err
	}
	if form == L1InfoFormIsthmus || form == L1InfoFormJovian {
		info.OperatorFeeScalar = binary.BigEndian.Uint32(data[164:168])
		info.OperatorFeeConstant = binary.BigEndian.Uint64(data[168:176])
	}
	if form == L1InfoFormJovian {
		info.DAFootprintGasScalar = binary.BigEndian.Uint16(data[176:178])
	}
	return info, nil
}

// L1BlockInfoFromBytes decodes the L1 attributes calldata of the L2 block at l2Time, in the form that block
// must use.
func L1BlockInfoFromBytes(cfg *rollup.Config, l2Time uint64, data []byte) (*L1BlockInfo, error) {
	return UnmarshalL1BlockInfo(L1InfoFormAt(cfg, l2Time), data)
}

// EcotoneScalars decodes the fee scalars of a post-Ecotone system config scalar: version 0 carries the
// base fee scalar alone (the blob base fee scalar is 0, and non-zero padding makes the base fee scalar
// MaxUint32), version 1 both scalars. Any other version is an error.
func EcotoneScalars(scalar common.Hash) (baseFeeScalar, blobBaseFeeScalar uint32, err error) {
	switch scalar[0] {
	case L1ScalarVersionBedrock:
		if !l1InfoZero(scalar[1:28]) {
			return math.MaxUint32, 0, nil
		}
		return binary.BigEndian.Uint32(scalar[28:32]), 0, nil
	case L1ScalarVersionEcotone:
		if !l1InfoZero(scalar[1:24]) {
			return 0, 0, fmt.Errorf("%w: version 1 scalar %x has non-zero padding", ErrEcotoneScalar, scalar)
		}
		return binary.BigEndian.Uint32(scalar[28:32]), binary.BigEndian.Uint32(scalar[24:28]), nil
	}
	return 0, 0, fmt.Errorf("%w: %d (scalar %x)", ErrEcotoneScalar, scalar[0], scalar)
}

// EncodeEcotoneScalar packs the fee scalars as a version-1 system config scalar.
func EncodeEcotoneScalar(baseFeeScalar, blobBaseFeeScalar uint32) common.Hash {
	var s common.Hash
	s[0] = L1ScalarVersionEcotone
	binary.BigEndian.PutUint32(s[24:28], blobBaseFeeScalar)
	binary.BigEndian.PutUint32(s[28:32], baseFeeScalar)
	return s
}

// OperatorFeeParams decodes the system config's operator fee parameters: the scalar in bytes [20, 24) and
// the constant in bytes [24, 32).
func OperatorFeeParams(p common.Hash) (scalar uint32, constant uint64) {
	return binary.BigEndian.Uint32(p[20:24]), binary.BigEndian.Uint64(p[24:32])
}

// EncodeOperatorFeeParams is the inverse of OperatorFeeParams.
func EncodeOperatorFeeParams(scalar uint32, constant uint64) common.Hash {
	var p common.Hash
	binary.BigEndian.PutUint32(p[20:24], scalar)
	binary.BigEndian.PutUint64(p[24:32], constant)
	return p
}

// L1BlobBaseFee is the blob base fee of an L1 block for the L1 attributes transaction: nil when the header
// has no excess blob gas (L1 before Cancun), else computed with the blob parameters of the newest L1 fork
// active at the header's time. Until the rollup's PectraBlobScheduleTime (compared with the L1 block's
// time), Cancun's update fraction is used whatever the L1 fork (specs/protocol/pectra-blob-schedule).
func L1BlobBaseFee(cfg *rollup.Config, l1ChainConfig *params.ChainConfig, h *types.Header) (*big.Int, error) {
	if h.ExcessBlobGas == nil {
		return nil, nil
	}
	var fraction uint64
	if t := cfg.PectraBlobScheduleTime; t != nil && h.Time < *t {
		fraction = params.DefaultCancunBlobConfig.UpdateFraction // EIP-4844's 3338477
	} else {
		bc := l1InfoBlobConfig(l1ChainConfig, h.Time)
		if bc == nil || bc.UpdateFraction == 0 {
			return nil, fmt.Errorf("%w: no blob schedule in the L1 chain config for L1 block %d at time %d", ErrBlobBaseFee, h.Number, h.Time)
		}
		fraction = bc.UpdateFraction
	}
	return l1InfoFakeExponential(big.NewInt(params.BlobTxMinBlobGasprice), new(big.Int).SetUint64(*h.ExcessBlobGas), new(big.Int).SetUint64(fraction)), nil
}

// l1InfoBlobConfig picks the blob parameters of the newest fork active at time t that has them, like
// go-ethereum's eip4844 package (which panics where this returns nil).
func l1InfoBlobConfig(c *params.ChainConfig, t uint64) *params.BlobConfig {
	if c == nil || c.BlobScheduleConfig == nil {
		return nil
	}
	london, s := c.LondonBlock, c.BlobScheduleConfig
	switch {
	case c.IsBPO5(london, t) && s.BPO5 != nil:
		return s.BPO5
	case c.IsBPO4(london, t) && s.BPO4 != nil:
		return s.BPO4
	case c.IsBPO3(london, t) && s.BPO3 != nil:
		return s.BPO3
	case c.IsBPO2(london, t) && s.BPO2 != nil:
		return s.BPO2
	case c.IsBPO1(london, t) && s.BPO1 != nil:
		return s.BPO1
	case c.IsOsaka(london, t) && s.Osaka != nil:
		return s.Osaka
	case c.IsPrague(london, t) && s.Prague != nil:
		return s.Prague
	case c.IsCancun(london, t) && s.Cancun != nil:
		return s.Cancun
	}
	return nil
}

// l1InfoFakeExponential approximates factor * e^(num/denom) with EIP-4844's integer Taylor series.
func l1InfoFakeExponential(factor, num, denom *big.Int) *big.Int {
	out := new(big.Int)
	acc := new(big.Int).Mul(factor, denom)
	for i := int64(1); acc.Sign() > 0; i++ {
		out.Add(out, acc)
		acc.Mul(acc, num)
		acc.Div(acc, denom)
		acc.Div(acc, big.NewInt(i))
	}
	return out.Div(out, denom)
}

// L1InfoDepositSourceHash is the source hash of the L1 attributes deposit of the L2 block with sequence
// number seq in the epoch of L1 block l1Hash: keccak256(bytes32(1) ++ keccak256(l1Hash ++ bytes32(seq))).
func L1InfoDepositSourceHash(l1Hash common.Hash, seq uint64) common.Hash {
	return depositSourceHash(DepositSourceDomainL1Info, l1Hash, seq)
}

// L1InfoDeposit builds the L1 attributes deposited transaction of the L2 block at l2Timestamp, with
// sequence number seqNumber in the epoch of l1Header, for the system config sysCfg.
func L1InfoDeposit(cfg *rollup.Config, l1ChainConfig *params.ChainConfig, sysCfg rollup.SystemConfig, seqNumber uint64, l1Header *types.Header, l2Timestamp uint64) (*types.DepositTx, error) {
	if l1Header == nil || l1Header.Number == nil || !l1Header.Number.IsUint64() {
		return nil, errors.New("L1 info deposit: L1 header without a valid number")
	}
	if l1Header.BaseFee == nil {
		return nil, fmt.Errorf("L1 info deposit: %w (L1 block %d)", ErrL1InfoBaseFee, l1Header.Number)
	}
	l1Hash := l1Header.Hash()
	info := L1BlockInfo{
		Number:         l1Header.Number.Uint64(),
		Time:           l1Header.Time,
		BaseFee:        l1Header.BaseFee,
		BlockHash:      l1Hash,
		SequenceNumber: seqNumber,
		BatcherAddr:    sysCfg.BatcherAddr,
	}
	form := L1InfoFormAt(cfg, l2Timestamp)
	if form == L1InfoFormBedrock {
		info.L1FeeOverhead = sysCfg.Overhead
		info.L1FeeScalar = sysCfg.Scalar
	} else {
		blobBaseFee, err := L1BlobBaseFee(cfg, l1ChainConfig, l1Header)
		if err != nil {
			return nil, fmt.Errorf("L1 info deposit: %w", err)
		}
		info.BlobBaseFee = blobBaseFee // nil (L1 without blobs) is written as 1
		if info.BaseFeeScalar, info.BlobBaseFeeScalar, err = EcotoneScalars(sysCfg.Scalar); err != nil {
			return nil, fmt.Errorf("L1 info deposit: %w", err)
		}
	}
	if form >= L1InfoFormIsthmus {
		info.OperatorFeeScalar, info.OperatorFeeConstant = OperatorFeeParams(sysCfg.OperatorFeeParams)
	}
	if form >= L1InfoFormJovian {
		info.DAFootprintGasScalar = sysCfg.DAFootprintGasScalar
		if info.DAFootprintGasScalar == 0 {
			info.DAFootprintGasScalar = DAFootprintGasScalarDefault
		}
	}
	data, err := info.Marshal(form)
	if err != nil {
		return nil, fmt.Errorf("L1 info deposit: %w", err)
	}
	to := L1BlockAddress
	dep := &types.DepositTx{
		SourceHash:          L1InfoDepositSourceHash(l1Hash, seqNumber),
		From:                L1InfoDepositerAddress,
		To:                  &to,
		Mint:                nil,
		Value:               new(big.Int),
		Gas:                 L1InfoGasBedrock,
		IsSystemTransaction: true,
		Data:                data,
	}
	if cfg.IsRegolith(l2Timestamp) {
		dep.Gas = RegolithSystemTxGas
		dep.IsSystemTransaction = false
	}
	return dep, nil
}

// L1InfoDepositBytes is L1InfoDeposit encoded as an EIP-2718 transaction.
func L1InfoDepositBytes(cfg *rollup.Config, l1ChainConfig *params.ChainConfig, sysCfg rollup.SystemConfig, seqNumber uint64, l1Header *types.Header, l2Timestamp uint64) ([]byte, error) {
	dep, err := L1InfoDeposit(cfg, l1ChainConfig, sysCfg, seqNumber, l1Header, l2Timestamp)
	if err != nil {
		return nil, err
	}
	return types.NewTx(dep).MarshalBinary()
}
