package derive

import (
	"encoding/hex"
	"math"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

func attrPtr(v uint64) *uint64 { return &v }

// attrForkConfig is a chain with Regolith and Canyon at genesis, then one fork every 10 blocks of 2s:
// Ecotone at 100, Fjord 120, Granite 140, Holocene 160, Isthmus 180, Jovian 200, Karst 220 (Delta at 0).
func attrForkConfig() *rollup.Config {
	return &rollup.Config{
		BlockTime:              2,
		Genesis:                rollup.Genesis{L2Time: 0, SystemConfig: rollup.SystemConfig{GasLimit: 30_000_000}},
		L2ChainID:              big.NewInt(901),
		L1ChainID:              big.NewInt(900),
		RegolithTime:           attrPtr(0),
		CanyonTime:             attrPtr(0),
		DeltaTime:              attrPtr(0),
		EcotoneTime:            attrPtr(100),
		FjordTime:              attrPtr(120),
		GraniteTime:            attrPtr(140),
		HoloceneTime:           attrPtr(160),
		IsthmusTime:            attrPtr(180),
		JovianTime:             attrPtr(200),
		KarstTime:              attrPtr(220),
		DepositContractAddress: common.HexToAddress("0xdeadbeef00000000000000000000000000000001"),
		L1SystemConfigAddress:  common.HexToAddress("0xdeadbeef00000000000000000000000000000002"),
	}
}

// attrHex decodes hex written in pieces, ignoring spaces.
func attrHex(t testing.TB, pieces ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(pieces, ""), " ", ""))
	require.NoError(t, err)
	return b
}

func TestL1InfoSelectors(t *testing.T) {
	// The specs list the Ecotone, Isthmus and Jovian selectors; Bedrock's is that of the ABI signature.
	require.Equal(t, "015d8eb9", hex.EncodeToString(L1InfoFuncBedrockSelector[:]))
	require.Equal(t, "440a5e20", hex.EncodeToString(L1InfoFuncEcotoneSelector[:]))
	require.Equal(t, "098999be", hex.EncodeToString(L1InfoFuncIsthmusSelector[:]))
	require.Equal(t, "3db6be2b", hex.EncodeToString(L1InfoFuncJovianSelector[:]))
	require.Equal(t, 260, L1InfoBedrockLen)
	require.Equal(t, 164, L1InfoEcotoneLen)
	require.Equal(t, 176, L1InfoIsthmusLen)
	require.Equal(t, 178, L1InfoJovianLen)
}

func attrSampleInfo() *L1BlockInfo {
	return &L1BlockInfo{
		Number:               0x1122334455,
		Time:                 0x66778899,
		BaseFee:              big.NewInt(0x0abcdef0),
		BlockHash:            common.HexToHash("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		SequenceNumber:       7,
		BatcherAddr:          common.HexToAddress("0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
		L1FeeOverhead:        common.HexToHash("0xbc"),
		L1FeeScalar:          common.HexToHash("0x0a6fe0"),
		BlobBaseFee:          big.NewInt(0x77),
		BaseFeeScalar:        0x01020304,
		BlobBaseFeeScalar:    0x05060708,
		OperatorFeeScalar:    0x090a0b0c,
		OperatorFeeConstant:  0x0d0e0f1011121314,
		DAFootprintGasScalar: 0x1516,
	}
}

// TestL1InfoGolden checks each form against calldata written out by hand from the spec tables.
func TestL1InfoGolden(t *testing.T) {
	info := attrSampleInfo()
	zero24 := strings.Repeat("00", 24)
	hash := strings.Repeat("aa", 32)
	batcher := strings.Repeat("00", 12) + strings.Repeat("bb", 20)
	word := func(v string) string { return strings.Repeat("0", 64-len(v)) + v }
	bedrock := attrHex(t,
		"015d8eb9",
		zero24, "0000001122334455", // number
		zero24, "0000000066778899", // time
		word("0abcdef0"),           // basefee
		hash,                       // block hash
		zero24, "0000000000000007", // sequence number
		batcher,       // batcher hash
		word("bc"),    // overhead
		word("a6fe0"), // scalar
	)
	ecotoneBody := []string{
		"01020304",         // base fee scalar
		"05060708",         // blob base fee scalar
		"0000000000000007", // sequence number
		"0000000066778899", // l1 timestamp
		"0000001122334455", // l1 number
		word("0abcdef0"),   // basefee
		word("77"),         // blob base fee
		hash,               // block hash
		batcher,            // batcher hash
	}
	ecotone := attrHex(t, append([]string{"440a5e20"}, ecotoneBody...)...)
	isthmus := attrHex(t, append(append([]string{"098999be"}, ecotoneBody...), "090a0b0c", "0d0e0f1011121314")...)
	jovian := attrHex(t, append(append([]string{"3db6be2b"}, ecotoneBody...), "090a0b0c", "0d0e0f1011121314", "1516")...)

	for _, tt := range []struct {
		form L1InfoForm
		want []byte
	}{
		{L1InfoFormBedrock, bedrock},
		{L1InfoFormEcotone, ecotone},
		{L1InfoFormIsthmus, isthmus},
		{L1InfoFormJovian, jovian},
	} {
		t.Run(tt.form.String(), func(t *testing.T) {
			got, err := info.Marshal(tt.form)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(tt.want), hex.EncodeToString(got))

			back, err := UnmarshalL1BlockInfo(tt.form, tt.want)
			require.NoError(t, err)
			again, err := back.Marshal(tt.form)
			require.NoError(t, err)
			require.Equal(t, tt.want, again)
		})
	}
}

func TestL1InfoRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		form := L1InfoForm(i % 4)
		info := attrRandomInfo(rng)
		data, err := info.Marshal(form)
		require.NoError(t, err)
		got, err := UnmarshalL1BlockInfo(form, data)
		require.NoError(t, err)
		// Only the fields of the form survive.
		want := *info
		switch form {
		case L1InfoFormBedrock:
			want.BlobBaseFee, want.BaseFeeScalar, want.BlobBaseFeeScalar = nil, 0, 0
			want.OperatorFeeScalar, want.OperatorFeeConstant, want.DAFootprintGasScalar = 0, 0, 0
		default:
			want.L1FeeOverhead, want.L1FeeScalar = common.Hash{}, common.Hash{}
			if form < L1InfoFormIsthmus {
				want.OperatorFeeScalar, want.OperatorFeeConstant = 0, 0
			}
			if form < L1InfoFormJovian {
				want.DAFootprintGasScalar = 0
			}
		}
		require.Equal(t, want, *got, "form %s", form)
	}
}

func attrRandomInfo(rng *rand.Rand) *L1BlockInfo {
	var h, o, s common.Hash
	var a common.Address
	rng.Read(h[:])
	rng.Read(o[:])
	rng.Read(s[:])
	rng.Read(a[:])
	return &L1BlockInfo{
		Number:               rng.Uint64(),
		Time:                 rng.Uint64(),
		BaseFee:              new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), 256)),
		BlockHash:            h,
		SequenceNumber:       rng.Uint64(),
		BatcherAddr:          a,
		L1FeeOverhead:        o,
		L1FeeScalar:          s,
		BlobBaseFee:          new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), 256)),
		BaseFeeScalar:        rng.Uint32(),
		BlobBaseFeeScalar:    rng.Uint32(),
		OperatorFeeScalar:    rng.Uint32(),
		OperatorFeeConstant:  rng.Uint64(),
		DAFootprintGasScalar: uint16(rng.Uint32()),
	}
}

func TestL1InfoMarshalRefuses(t *testing.T) {
	info := attrSampleInfo()
	info.BaseFee = nil
	_, err := info.Marshal(L1InfoFormEcotone)
	require.ErrorIs(t, err, ErrL1InfoBaseFee)
	info.BaseFee = new(big.Int).Lsh(big.NewInt(1), 256)
	_, err = info.Marshal(L1InfoFormBedrock)
	require.ErrorIs(t, err, ErrL1InfoBaseFee)

	info = attrSampleInfo()
	info.BlobBaseFee = nil // written as EIP-4844's minimum
	data, err := info.Marshal(L1InfoFormEcotone)
	require.NoError(t, err)
	require.Equal(t, big.NewInt(1), new(big.Int).SetBytes(data[68:100]))

	_, err = info.Marshal(L1InfoForm(9))
	require.ErrorIs(t, err, ErrL1InfoForm)
}

func TestL1InfoUnmarshalRejects(t *testing.T) {
	info := attrSampleInfo()
	enc := func(form L1InfoForm) []byte {
		b, err := info.Marshal(form)
		require.NoError(t, err)
		return b
	}
	edit := func(b []byte, i int, v byte) []byte {
		c := append([]byte{}, b...)
		c[i] = v
		return c
	}
	tests := []struct {
		name string
		form L1InfoForm
		data []byte
		err  error
	}{
		{"bedrock one byte short", L1InfoFormBedrock, enc(L1InfoFormBedrock)[:259], ErrL1InfoLength},
		{"bedrock one byte long", L1InfoFormBedrock, append(enc(L1InfoFormBedrock), 0), ErrL1InfoLength},
		{"bedrock with ecotone selector", L1InfoFormBedrock, append(L1InfoFuncEcotoneSelector[:], enc(L1InfoFormBedrock)[4:]...), ErrL1InfoSelector},
		{"bedrock number padding", L1InfoFormBedrock, edit(enc(L1InfoFormBedrock), 4+23, 1), ErrL1InfoPadding},
		{"bedrock time padding", L1InfoFormBedrock, edit(enc(L1InfoFormBedrock), 4+32, 1), ErrL1InfoPadding},
		{"bedrock sequence number padding", L1InfoFormBedrock, edit(enc(L1InfoFormBedrock), 4+4*32, 1), ErrL1InfoPadding},
		{"bedrock batcher hash version byte", L1InfoFormBedrock, edit(enc(L1InfoFormBedrock), 4+5*32, 1), ErrL1InfoPadding},
		{"ecotone as isthmus", L1InfoFormIsthmus, enc(L1InfoFormEcotone), ErrL1InfoLength},
		{"ecotone with isthmus length", L1InfoFormEcotone, enc(L1InfoFormIsthmus), ErrL1InfoLength},
		{"ecotone wrong selector", L1InfoFormEcotone, edit(enc(L1InfoFormEcotone), 0, 0), ErrL1InfoSelector},
		{"ecotone batcher hash padding", L1InfoFormEcotone, edit(enc(L1InfoFormEcotone), 132, 1), ErrL1InfoPadding},
		{"isthmus with jovian selector", L1InfoFormIsthmus, append(L1InfoFuncJovianSelector[:], enc(L1InfoFormIsthmus)[4:]...), ErrL1InfoSelector},
		{"isthmus batcher hash padding", L1InfoFormIsthmus, edit(enc(L1InfoFormIsthmus), 143, 1), ErrL1InfoPadding},
		{"jovian one byte short", L1InfoFormJovian, enc(L1InfoFormJovian)[:177], ErrL1InfoLength},
		{"jovian batcher hash padding", L1InfoFormJovian, edit(enc(L1InfoFormJovian), 140, 1), ErrL1InfoPadding},
		{"empty", L1InfoFormEcotone, nil, ErrL1InfoLength},
		{"unknown form", L1InfoForm(4), enc(L1InfoFormJovian), ErrL1InfoForm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalL1BlockInfo(tt.form, tt.data)
			require.ErrorIs(t, err, tt.err)
		})
	}
}

// TestL1InfoFormAtActivations: each fork's activation block still uses the previous form
// (ecotone/l1-attributes.md, isthmus/l1-attributes.md, jovian/l1-attributes.md).
func TestL1InfoFormAtActivations(t *testing.T) {
	cfg := attrForkConfig()
	tests := []struct {
		time uint64
		want L1InfoForm
	}{
		{98, L1InfoFormBedrock},
		{100, L1InfoFormBedrock}, // Ecotone activation block
		{102, L1InfoFormEcotone},
		{178, L1InfoFormEcotone},
		{180, L1InfoFormEcotone}, // Isthmus activation block
		{182, L1InfoFormIsthmus},
		{200, L1InfoFormIsthmus}, // Jovian activation block
		{202, L1InfoFormJovian},
		{220, L1InfoFormJovian}, // Karst keeps the Jovian form
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, L1InfoFormAt(cfg, tt.time), "time %d", tt.time)
	}

	// An activation time off the block grid: the first block after it is the activation block.
	off := attrForkConfig()
	off.EcotoneTime = attrPtr(99)
	require.Equal(t, L1InfoFormBedrock, L1InfoFormAt(off, 98))
	require.Equal(t, L1InfoFormBedrock, L1InfoFormAt(off, 100))
	require.Equal(t, L1InfoFormEcotone, L1InfoFormAt(off, 102))

	// Forks active at genesis have no activation block: the new form from the first block.
	gen := &rollup.Config{BlockTime: 2, EcotoneTime: attrPtr(0), FjordTime: attrPtr(0), GraniteTime: attrPtr(0),
		HoloceneTime: attrPtr(0), IsthmusTime: attrPtr(0), JovianTime: attrPtr(0)}
	require.Equal(t, L1InfoFormJovian, L1InfoFormAt(gen, 0))
	require.Equal(t, L1InfoFormJovian, L1InfoFormAt(gen, 2))

	// Forks activating together: the block uses the form from before all of them.
	same := &rollup.Config{BlockTime: 2, EcotoneTime: attrPtr(10), FjordTime: attrPtr(10), GraniteTime: attrPtr(10),
		HoloceneTime: attrPtr(10), IsthmusTime: attrPtr(10), JovianTime: attrPtr(10)}
	require.Equal(t, L1InfoFormBedrock, L1InfoFormAt(same, 10))
	require.Equal(t, L1InfoFormJovian, L1InfoFormAt(same, 12))
}

func TestEcotoneScalars(t *testing.T) {
	h := func(s string) common.Hash { return common.HexToHash(s) }
	tests := []struct {
		name          string
		scalar        common.Hash
		base, blob    uint32
		wantErr       bool
		versionOneEnc bool
	}{
		{"version 0", h("0x00000000000000000000000000000000000000000000000000000000000a6fe0"), 0xa6fe0, 0, false, false},
		{"version 0 with dirty padding means MaxUint32", h("0x0000000000000000000000000000000000000000000000000000000100000001"), math.MaxUint32, 0, false, false},
		{"version 1", h("0x01" + strings.Repeat("00", 23) + "0abcdef112345678"), 0x12345678, 0x0abcdef1, false, true},
		{"version 1 with dirty padding", h("0x010000000000000000000000000000000000000000000001000000000000000a"), 0, 0, true, false},
		{"version 2", h("0x020000000000000000000000000000000000000000000000000000000000000a"), 0, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, blob, err := EcotoneScalars(tt.scalar)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrEcotoneScalar)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.base, base)
			require.Equal(t, tt.blob, blob)
			if tt.versionOneEnc {
				require.Equal(t, tt.scalar, EncodeEcotoneScalar(base, blob))
			}
		})
	}
	s, c := OperatorFeeParams(EncodeOperatorFeeParams(0xdeadbeef, 0x0102030405060708))
	require.Equal(t, uint32(0xdeadbeef), s)
	require.Equal(t, uint64(0x0102030405060708), c)
}

// attrL1Config is an L1 with Cancun at 1000, Prague at 2000 and Osaka at 3000, with the mainnet blob schedule.
func attrL1Config() *params.ChainConfig {
	return &params.ChainConfig{
		ChainID:            big.NewInt(900),
		LondonBlock:        big.NewInt(0),
		ShanghaiTime:       attrPtr(0),
		CancunTime:         attrPtr(1000),
		PragueTime:         attrPtr(2000),
		OsakaTime:          attrPtr(3000),
		BlobScheduleConfig: params.DefaultBlobSchedule,
	}
}

func attrL1Header(number, time uint64, excessBlobGas *uint64) *types.Header {
	root := common.HexToHash("0xbeac0")
	h := &types.Header{
		ParentHash:    common.HexToHash("0x01"),
		Number:        new(big.Int).SetUint64(number),
		Time:          time,
		BaseFee:       big.NewInt(7_000_000_000),
		MixDigest:     common.HexToHash("0x4a4d"),
		ExcessBlobGas: excessBlobGas,
	}
	if excessBlobGas != nil {
		h.ParentBeaconRoot = &root
		h.BlobGasUsed = new(uint64)
	}
	return h
}

func TestL1BlobBaseFee(t *testing.T) {
	cfg := attrForkConfig()
	l1 := attrL1Config()
	// e^(excess/fraction): with excess = 2 * fraction the fee is floor(e^2) = 7.
	cancun, prague := params.DefaultCancunBlobConfig.UpdateFraction, params.DefaultPragueBlobConfig.UpdateFraction

	fee, err := L1BlobBaseFee(cfg, l1, attrL1Header(1, 500, nil))
	require.NoError(t, err)
	require.Nil(t, fee, "no excess blob gas: no blob base fee")

	fee, err = L1BlobBaseFee(cfg, l1, attrL1Header(1, 1500, attrPtr(2*cancun)))
	require.NoError(t, err)
	require.Equal(t, big.NewInt(7), fee)

	fee, err = L1BlobBaseFee(cfg, l1, attrL1Header(1, 2500, attrPtr(2*prague)))
	require.NoError(t, err)
	require.Equal(t, big.NewInt(7), fee, "Prague update fraction on a Prague block")

	fee, err = L1BlobBaseFee(cfg, l1, attrL1Header(1, 2500, attrPtr(2*cancun)))
	require.NoError(t, err)
	require.Equal(t, big.NewInt(3), fee, "e^(2*cancun/prague) = e^1.3")

	// Before PectraBlobScheduleTime (by L1 time) Cancun's fraction applies even on Prague blocks.
	cfg.PectraBlobScheduleTime = attrPtr(2600)
	fee, err = L1BlobBaseFee(cfg, l1, attrL1Header(1, 2500, attrPtr(2*cancun)))
	require.NoError(t, err)
	require.Equal(t, big.NewInt(7), fee)
	fee, err = L1BlobBaseFee(cfg, l1, attrL1Header(1, 2600, attrPtr(2*cancun)))
	require.NoError(t, err)
	require.Equal(t, big.NewInt(3), fee)

	// Excess blob gas on a block the L1 config knows no blob parameters for: an error, not a panic.
	_, err = L1BlobBaseFee(attrForkConfig(), l1, attrL1Header(1, 500, attrPtr(1)))
	require.ErrorIs(t, err, ErrBlobBaseFee)
	_, err = L1BlobBaseFee(attrForkConfig(), &params.ChainConfig{ChainID: big.NewInt(1)}, attrL1Header(1, 500, attrPtr(1)))
	require.ErrorIs(t, err, ErrBlobBaseFee)
	_, err = L1BlobBaseFee(attrForkConfig(), nil, attrL1Header(1, 500, attrPtr(1)))
	require.ErrorIs(t, err, ErrBlobBaseFee)
}

func TestL1InfoDepositSourceHash(t *testing.T) {
	l1Hash := common.HexToHash("0xa1b2")
	var inner [64]byte
	copy(inner[:32], l1Hash[:])
	inner[63] = 5
	var outer [64]byte
	outer[31] = 1
	copy(outer[32:], crypto.Keccak256(inner[:]))
	require.Equal(t, crypto.Keccak256Hash(outer[:]), L1InfoDepositSourceHash(l1Hash, 5))
	require.NotEqual(t, UserDepositSourceHash(l1Hash, 5), L1InfoDepositSourceHash(l1Hash, 5), "domains separate")
}

func TestL1InfoDeposit(t *testing.T) {
	cfg := attrForkConfig()
	cfg.RegolithTime = attrPtr(10)
	l1 := attrL1Config()
	sysCfg := rollup.SystemConfig{
		BatcherAddr:          common.HexToAddress("0xba7c4e7"),
		Overhead:             common.HexToHash("0xbc"),
		Scalar:               EncodeEcotoneScalar(1368, 810949),
		GasLimit:             30_000_000,
		OperatorFeeParams:    EncodeOperatorFeeParams(11, 22),
		DAFootprintGasScalar: 0,
	}
	header := attrL1Header(77, 1500, attrPtr(0))

	tests := []struct {
		name     string
		l2Time   uint64
		form     L1InfoForm
		gas      uint64
		systemTx bool
	}{
		{"bedrock before regolith", 8, L1InfoFormBedrock, L1InfoGasBedrock, true},
		{"regolith", 10, L1InfoFormBedrock, RegolithSystemTxGas, false},
		{"ecotone activation block", 100, L1InfoFormBedrock, RegolithSystemTxGas, false},
		{"ecotone", 102, L1InfoFormEcotone, RegolithSystemTxGas, false},
		{"isthmus activation block", 180, L1InfoFormEcotone, RegolithSystemTxGas, false},
		{"isthmus", 182, L1InfoFormIsthmus, RegolithSystemTxGas, false},
		{"jovian activation block", 200, L1InfoFormIsthmus, RegolithSystemTxGas, false},
		{"jovian", 202, L1InfoFormJovian, RegolithSystemTxGas, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dep, err := L1InfoDeposit(cfg, l1, sysCfg, 3, header, tt.l2Time)
			require.NoError(t, err)
			require.Equal(t, L1InfoDepositerAddress, dep.From)
			require.Equal(t, common.HexToAddress("0x4200000000000000000000000000000000000015"), *dep.To)
			require.Nil(t, dep.Mint)
			require.Zero(t, dep.Value.Sign())
			require.Equal(t, tt.gas, dep.Gas)
			require.Equal(t, tt.systemTx, dep.IsSystemTransaction)
			require.Equal(t, L1InfoDepositSourceHash(header.Hash(), 3), dep.SourceHash)

			info, err := UnmarshalL1BlockInfo(tt.form, dep.Data)
			require.NoError(t, err)
			require.Equal(t, info, attrMust(L1BlockInfoFromBytes(cfg, tt.l2Time, dep.Data)))
			require.Equal(t, uint64(77), info.Number)
			require.Equal(t, uint64(1500), info.Time)
			require.Equal(t, header.BaseFee, info.BaseFee)
			require.Equal(t, header.Hash(), info.BlockHash)
			require.Equal(t, uint64(3), info.SequenceNumber)
			require.Equal(t, sysCfg.BatcherAddr, info.BatcherAddr)
			if tt.form == L1InfoFormBedrock {
				require.Equal(t, sysCfg.Overhead, info.L1FeeOverhead)
				require.Equal(t, sysCfg.Scalar, info.L1FeeScalar)
				return
			}
			require.Equal(t, uint32(1368), info.BaseFeeScalar)
			require.Equal(t, uint32(810949), info.BlobBaseFeeScalar)
			require.Equal(t, big.NewInt(1), info.BlobBaseFee) // zero excess blob gas
			if tt.form >= L1InfoFormIsthmus {
				require.Equal(t, uint32(11), info.OperatorFeeScalar)
				require.Equal(t, uint64(22), info.OperatorFeeConstant)
			}
			if tt.form == L1InfoFormJovian {
				require.Equal(t, uint16(DAFootprintGasScalarDefault), info.DAFootprintGasScalar, "zero means the default")
			}
		})
	}

	t.Run("jovian keeps a set DA footprint gas scalar", func(t *testing.T) {
		s := sysCfg
		s.DAFootprintGasScalar = 1
		dep, err := L1InfoDeposit(cfg, l1, s, 0, header, 202)
		require.NoError(t, err)
		require.Equal(t, uint16(1), attrMust(UnmarshalL1BlockInfo(L1InfoFormJovian, dep.Data)).DAFootprintGasScalar)
	})
	t.Run("version 0 scalar after ecotone", func(t *testing.T) {
		s := sysCfg
		s.Scalar = common.HexToHash("0xa6fe0")
		dep, err := L1InfoDeposit(cfg, l1, s, 0, header, 102)
		require.NoError(t, err)
		info := attrMust(UnmarshalL1BlockInfo(L1InfoFormEcotone, dep.Data))
		require.Equal(t, uint32(0xa6fe0), info.BaseFeeScalar)
		require.Zero(t, info.BlobBaseFeeScalar)
	})
	t.Run("L1 before Cancun has blob base fee 1", func(t *testing.T) {
		dep, err := L1InfoDeposit(cfg, l1, sysCfg, 0, attrL1Header(5, 500, nil), 102)
		require.NoError(t, err)
		require.Equal(t, big.NewInt(1), attrMust(UnmarshalL1BlockInfo(L1InfoFormEcotone, dep.Data)).BlobBaseFee)
	})
	t.Run("unknown scalar version after ecotone", func(t *testing.T) {
		s := sysCfg
		s.Scalar = common.HexToHash("0x0200000000000000000000000000000000000000000000000000000000000001")
		_, err := L1InfoDeposit(cfg, l1, s, 0, header, 102)
		require.ErrorIs(t, err, ErrEcotoneScalar)
		_, err = L1InfoDeposit(cfg, l1, s, 0, header, 98) // Bedrock form copies it as is
		require.NoError(t, err)
	})
	t.Run("L1 header without base fee", func(t *testing.T) {
		h := attrL1Header(5, 500, nil)
		h.BaseFee = nil
		_, err := L1InfoDeposit(cfg, l1, sysCfg, 0, h, 102)
		require.ErrorIs(t, err, ErrL1InfoBaseFee)
	})
	t.Run("encoded", func(t *testing.T) {
		enc, err := L1InfoDepositBytes(cfg, l1, sysCfg, 3, header, 202)
		require.NoError(t, err)
		var tx types.Transaction
		require.NoError(t, tx.UnmarshalBinary(enc))
		require.Equal(t, uint8(types.DepositTxType), tx.Type())
		require.Len(t, tx.Data(), L1InfoJovianLen)
	})
}

func attrMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
