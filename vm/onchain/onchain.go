// Package onchain runs the OP Stack's on-chain fault proof VM, the MIPS64 contract, with its
// PreimageOracle, in an in-memory EVM, to check step proofs of the vm package (or of Cannon) the way the
// dispute game checks them.
//
// The contracts' bytecode and ABIs are data files embedded in the package (MIPS64.json,
// PreimageOracle.json), so nothing is compiled at run time. provenance.json says where they come from:
// the optimism release and source paths, the solc version and the compiler settings (those of
// contracts-bedrock's foundry.toml), and the hash of each creation code, which equals the initCodeHash
// that the release's snapshots/semver-lock.json records for the contract. The files are written, and
// checked against a fresh compile, by the crosscheck module's onchain tests.
package onchain

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
)

// StateVersion is the state version the MIPS64 contract is deployed with: multithreaded64-5, the only
// one the contract accepts.
const StateVersion = 8

// Pre-image key types (the top byte of a key).
const (
	LocalKeyType      = 1
	Keccak256KeyType  = 2
	Sha256KeyType     = 4
	BlobKeyType       = 5
	PrecompileKeyType = 6
)

// Deployment parameters of the PreimageOracle: those of the OP Stack's deployments. They only matter
// to large pre-image proposals, which a step never uses.
const (
	oracleMinProposalSize = 126000
	oracleChallengePeriod = 86400
)

// callGas is the gas each call gets: an L1 block's worth.
const callGas = 30_000_000

//go:embed MIPS64.json PreimageOracle.json provenance.json
var files embed.FS

// ImmutableReference is where solc left room for an immutable in the deployed bytecode.
type ImmutableReference struct {
	Start  int `json:"start"`
	Length int `json:"length"`
}

// Artifact is a compiled contract.
type Artifact struct {
	// ContractName and SourceName name the contract and its source unit.
	ContractName string `json:"contractName"`
	SourceName   string `json:"sourceName"`
	// RawABI is the contract's ABI as solc wrote it.
	RawABI json.RawMessage `json:"abi"`
	// Bytecode is the creation code (without constructor arguments).
	Bytecode hexBytes `json:"bytecode"`
	// DeployedBytecode is the runtime code as compiled: the immutables are zero, to be set by the
	// constructor at ImmutableReferences.
	DeployedBytecode    hexBytes                        `json:"deployedBytecode"`
	ImmutableReferences map[string][]ImmutableReference `json:"immutableReferences"`

	ABI abi.ABI `json:"-"`
}

// hexBytes is a 0x-prefixed hex string in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) {
	return json.Marshal("0x" + hex.EncodeToString(h))
}

func (h *hexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return err
	}
	*h = b
	return nil
}

// ParseArtifact reads an artifact file.
func ParseArtifact(data []byte) (*Artifact, error) {
	var a Artifact
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(a.RawABI, &a.ABI); err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	if len(a.Bytecode) == 0 || len(a.DeployedBytecode) == 0 {
		return nil, errors.New("no bytecode")
	}
	return &a, nil
}

// InitCodeHash is the keccak256 hash of the creation code: what semver-lock.json records.
func (a *Artifact) InitCodeHash() common.Hash { return crypto.Keccak256Hash(a.Bytecode) }

func embedded(name string) *Artifact {
	data, err := files.ReadFile(name + ".json")
	if err != nil {
		panic(err)
	}
	a, err := ParseArtifact(data)
	if err != nil {
		panic(fmt.Sprintf("onchain: embedded %s.json: %v", name, err))
	}
	return a
}

// MIPS64 returns the embedded MIPS64 contract.
func MIPS64() *Artifact { return embedded("MIPS64") }

// PreimageOracle returns the embedded PreimageOracle contract.
func PreimageOracle() *Artifact { return embedded("PreimageOracle") }

// Provenance returns the embedded provenance.json.
func Provenance() []byte {
	data, err := files.ReadFile("provenance.json")
	if err != nil {
		panic(err)
	}
	return data
}

// Chain is an in-memory EVM with a PreimageOracle and a MIPS64 contract deployed. All calls come from
// one account, so local keys that Step localizes match the ones LoadLocalData loads. A Chain is not
// safe for concurrent use.
type Chain struct {
	cfg          runtime.Config
	mips, oracle common.Address
	mipsABI      abi.ABI
	oracleABI    abi.ABI
	errorABIs    []abi.ABI
}

// Caller is the account that sends every call.
var Caller = common.HexToAddress("0x000000000000000000000000000000000000fa17")

// New deploys the embedded contracts.
func New() (*Chain, error) { return NewWith(MIPS64(), PreimageOracle()) }

// NewWith deploys the given MIPS64 and PreimageOracle artifacts.
func NewWith(mips, oracle *Artifact) (*Chain, error) {
	st, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		return nil, err
	}
	c := &Chain{
		cfg:       runtime.Config{Origin: Caller, GasLimit: callGas, State: st},
		mipsABI:   mips.ABI,
		oracleABI: oracle.ABI,
		errorABIs: []abi.ABI{mips.ABI, oracle.ABI},
	}
	args, err := oracle.ABI.Pack("", big.NewInt(oracleMinProposalSize), big.NewInt(oracleChallengePeriod))
	if err != nil {
		return nil, fmt.Errorf("PreimageOracle constructor: %w", err)
	}
	if c.oracle, err = c.create(oracle.Bytecode, args); err != nil {
		return nil, fmt.Errorf("deploying PreimageOracle: %w", err)
	}
	if args, err = mips.ABI.Pack("", c.oracle, big.NewInt(StateVersion)); err != nil {
		return nil, fmt.Errorf("MIPS64 constructor: %w", err)
	}
	if c.mips, err = c.create(mips.Bytecode, args); err != nil {
		return nil, fmt.Errorf("deploying MIPS64: %w", err)
	}
	return c, nil
}

func (c *Chain) create(code, args []byte) (common.Address, error) {
	cfg := c.cfg
	_, addr, _, err := runtime.Create(append(bytes.Clone(code), args...), &cfg)
	return addr, err
}

// MIPSAddress and OracleAddress return where the contracts are.
func (c *Chain) MIPSAddress() common.Address   { return c.mips }
func (c *Chain) OracleAddress() common.Address { return c.oracle }

// Code returns the code deployed at addr.
func (c *Chain) Code(addr common.Address) []byte { return c.cfg.State.GetCode(addr) }

// RevertError is a call that reverted.
type RevertError struct {
	// Data is the revert data.
	Data []byte
	// Reason is the decoded revert: an error of the contracts' ABIs with its arguments, an
	// Error(string) message, a Panic code, or the data in hex.
	Reason string
}

func (e *RevertError) Error() string { return "reverted: " + e.Reason }

// call sends input to addr, returning the return data and the gas used.
func (c *Chain) call(addr common.Address, input []byte) ([]byte, uint64, error) {
	cfg := c.cfg
	ret, left, err := runtime.Call(addr, input, &cfg)
	used := cfg.GasLimit - left
	if errors.Is(err, vm.ErrExecutionReverted) {
		return nil, used, &RevertError{Data: ret, Reason: c.decodeRevert(ret)}
	}
	return ret, used, err
}

func (c *Chain) decodeRevert(data []byte) string {
	if len(data) == 0 {
		return "no revert data"
	}
	if msg, err := abi.UnpackRevert(data); err == nil {
		return msg
	}
	if len(data) >= 4 {
		for _, a := range c.errorABIs {
			e, err := a.ErrorByID([4]byte(data[:4]))
			if err != nil {
				continue
			}
			vals, err := e.Inputs.Unpack(data[4:])
			if err != nil || len(vals) == 0 {
				return e.Name + "()"
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = fmt.Sprint(v)
			}
			return e.Name + "(" + strings.Join(parts, ", ") + ")"
		}
	}
	return "0x" + hex.EncodeToString(data)
}

// Step calls MIPS64.step(stateData, proof, localContext) and returns the post-state hash and the gas
// the call used. A step the contract rejects is a *RevertError.
func (c *Chain) Step(stateData, proof []byte, localContext common.Hash) (common.Hash, uint64, error) {
	input, err := c.mipsABI.Pack("step", stateData, proof, localContext)
	if err != nil {
		return common.Hash{}, 0, err
	}
	ret, gas, err := c.call(c.mips, input)
	if err != nil {
		return common.Hash{}, gas, err
	}
	if len(ret) != 32 {
		return common.Hash{}, gas, fmt.Errorf("step returned %d bytes", len(ret))
	}
	return common.Hash(ret), gas, nil
}

func (c *Chain) oracleCall(method string, args ...any) error {
	input, err := c.oracleABI.Pack(method, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if _, _, err := c.call(c.oracle, input); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// LoadLocalData calls loadLocalData for the local key ident (a key of type 1: the contract keeps its
// low 31 bytes) with data (at most 32 bytes), in localContext, at partOffset.
func (c *Chain) LoadLocalData(ident [32]byte, localContext common.Hash, data []byte, partOffset uint64) error {
	if len(data) > 32 {
		return fmt.Errorf("local data of %d bytes: the oracle takes at most 32", len(data))
	}
	var word [32]byte
	copy(word[:], data)
	return c.oracleCall("loadLocalData", new(big.Int).SetBytes(ident[:]), localContext, word,
		big.NewInt(int64(len(data))), new(big.Int).SetUint64(partOffset))
}

// LoadKeccak256PreimagePart calls loadKeccak256PreimagePart.
func (c *Chain) LoadKeccak256PreimagePart(partOffset uint64, preimage []byte) error {
	return c.oracleCall("loadKeccak256PreimagePart", new(big.Int).SetUint64(partOffset), preimage)
}

// LoadSha256PreimagePart calls loadSha256PreimagePart.
func (c *Chain) LoadSha256PreimagePart(partOffset uint64, preimage []byte) error {
	return c.oracleCall("loadSha256PreimagePart", new(big.Int).SetUint64(partOffset), preimage)
}

// LoadBlobPreimagePart calls loadBlobPreimagePart: the field element y at point z of the blob with
// the KZG commitment, proven by the KZG proof.
func (c *Chain) LoadBlobPreimagePart(z, y [32]byte, commitment, proof []byte, partOffset uint64) error {
	return c.oracleCall("loadBlobPreimagePart", new(big.Int).SetBytes(z[:]), new(big.Int).SetBytes(y[:]),
		commitment, proof, new(big.Int).SetUint64(partOffset))
}

// LoadPrecompilePreimagePart calls loadPrecompilePreimagePart: the oracle runs the precompile on input.
func (c *Chain) LoadPrecompilePreimagePart(partOffset uint64, precompile common.Address, requiredGas uint64, input []byte) error {
	return c.oracleCall("loadPrecompilePreimagePart", new(big.Int).SetUint64(partOffset), precompile, requiredGas, input)
}

// Storage slots of the PreimageOracle's mappings (its storage layout).
const (
	slotPreimageLengths = 0
	slotPreimageParts   = 1
	slotPreimagePartOk  = 2
)

func mappingSlot(key, slot common.Hash) common.Hash {
	return crypto.Keccak256Hash(key[:], slot[:])
}

// SetPreimagePart writes the part of value (a pre-image with its 8-byte length prefix) at offset into
// the oracle's storage under key, as the loaders store it, without a loader's check that the value
// belongs to the key. It is for parts whose loader inputs are not at hand (blob and precompile keys);
// the step's check of the MIPS64 contract is the same.
func (c *Chain) SetPreimagePart(key [32]byte, value []byte, offset uint64) error {
	if len(value) < 8 {
		return errors.New("pre-image value shorter than its length prefix")
	}
	size := binary.BigEndian.Uint64(value[:8])
	if size != uint64(len(value)-8) {
		return fmt.Errorf("pre-image length prefix %d, but %d bytes follow", size, len(value)-8)
	}
	if offset >= size+8 {
		return fmt.Errorf("part offset %d beyond the pre-image (%d bytes with prefix)", offset, size+8)
	}
	var part common.Hash
	copy(part[:], value[offset:])
	off := common.BigToHash(new(big.Int).SetUint64(offset))
	st := c.cfg.State
	st.SetState(c.oracle, mappingSlot(key, common.BigToHash(big.NewInt(slotPreimageLengths))), common.BigToHash(new(big.Int).SetUint64(size)))
	st.SetState(c.oracle, mappingSlot(off, mappingSlot(key, common.BigToHash(big.NewInt(slotPreimageParts)))), part)
	st.SetState(c.oracle, mappingSlot(off, mappingSlot(key, common.BigToHash(big.NewInt(slotPreimagePartOk)))), common.BigToHash(big.NewInt(1)))
	return nil
}

// ReadPreimage calls the oracle's readPreimage.
func (c *Chain) ReadPreimage(key [32]byte, offset uint64) (dat common.Hash, datLen uint64, err error) {
	input, err := c.oracleABI.Pack("readPreimage", key, new(big.Int).SetUint64(offset))
	if err != nil {
		return dat, 0, err
	}
	ret, _, err := c.call(c.oracle, input)
	if err != nil {
		return dat, 0, err
	}
	vals, err := c.oracleABI.Unpack("readPreimage", ret)
	if err != nil {
		return dat, 0, err
	}
	return common.Hash(vals[0].([32]byte)), vals[1].(*big.Int).Uint64(), nil
}

// Loaded says how LoadPreimagePart put a part into the oracle.
type Loaded string

const (
	LoadedLocal      Loaded = "loadLocalData"
	LoadedKeccak256  Loaded = "loadKeccak256PreimagePart"
	LoadedSha256     Loaded = "loadSha256PreimagePart"
	LoadedBlob       Loaded = "loadBlobPreimagePart"
	LoadedPrecompile Loaded = "loadPrecompilePreimagePart"
	LoadedStorage    Loaded = "written to the oracle's storage"
)

// LoadPreimagePart puts into the oracle the part a step reads: key and value (with its 8-byte length
// prefix) at offset, as a step proof carries them. Local keys are loaded with loadLocalData in
// localContext (the step must use the same context), keccak256 and sha256 keys through their loaders,
// which check that the value hashes to the key. Blob keys need the loader's inputs beyond the value,
// extra = commitment (48 bytes) ++ z (32 bytes) ++ KZG proof (48 bytes), and precompile keys extra =
// precompile address (20 bytes) ++ required gas (8 bytes) ++ input; without extra, their parts are
// written to the oracle's storage (SetPreimagePart).
func (c *Chain) LoadPreimagePart(key [32]byte, value []byte, offset uint64, localContext common.Hash, extra []byte) (Loaded, error) {
	if len(value) < 8 || binary.BigEndian.Uint64(value[:8]) != uint64(len(value)-8) {
		return "", errors.New("pre-image value does not start with its 8-byte length")
	}
	how, err := c.loadPart(key, value, offset, localContext, extra)
	if err != nil || key[0] == LocalKeyType {
		return how, err
	}
	// The part must be the value's bytes at offset, up to the length the oracle reports. (Past that
	// length a part may hold other bytes: loadPrecompilePreimagePart leaves the tail of the call's
	// input there.)
	want := value[min(offset, uint64(len(value))):]
	want = want[:min(len(want), 32)]
	got, n, err := c.ReadPreimage(key, offset)
	if err != nil || n != uint64(len(want)) || !bytes.Equal(got[:n], want) {
		return how, fmt.Errorf("after %s the oracle does not hold the part at %d for the key", how, offset)
	}
	return how, nil
}

// loaderKey is the key a loader stores the data under: the key type byte over the hash of the data
// (keccak256, sha256) or of the loader's inputs (blob: commitment ++ z; precompile: address ++ gas ++
// input).
func loaderKey(typ byte, data, extra []byte) [32]byte {
	var h [32]byte
	switch typ {
	case Keccak256KeyType:
		h = crypto.Keccak256Hash(data)
	case Sha256KeyType:
		h = sha256.Sum256(data)
	case BlobKeyType:
		h = crypto.Keccak256Hash(extra[:80])
	case PrecompileKeyType:
		h = crypto.Keccak256Hash(extra)
	}
	h[0] = typ
	return h
}

func (c *Chain) loadPart(key [32]byte, value []byte, offset uint64, localContext common.Hash, extra []byte) (Loaded, error) {
	data := value[8:]
	checkKey := func(what string) error {
		if k := loaderKey(key[0], data, extra); k != key {
			return fmt.Errorf("the %s gives key %x, not the step's key %x", what, k, key)
		}
		return nil
	}
	switch key[0] {
	case LocalKeyType:
		return LoadedLocal, c.LoadLocalData(key, localContext, data, offset)
	case Keccak256KeyType:
		if err := checkKey("keccak256 hash of the pre-image"); err != nil {
			return "", err
		}
		return LoadedKeccak256, c.LoadKeccak256PreimagePart(offset, data)
	case Sha256KeyType:
		if err := checkKey("sha256 hash of the pre-image"); err != nil {
			return "", err
		}
		return LoadedSha256, c.LoadSha256PreimagePart(offset, data)
	case BlobKeyType:
		if extra == nil {
			return LoadedStorage, c.SetPreimagePart(key, value, offset)
		}
		if len(extra) != 48+32+48 || len(data) != 32 {
			return "", fmt.Errorf("blob key: want 128 bytes of commitment, z and proof and a 32-byte value, have %d and %d", len(extra), len(data))
		}
		if err := checkKey("hash of the commitment and z"); err != nil {
			return "", err
		}
		return LoadedBlob, c.LoadBlobPreimagePart([32]byte(extra[48:80]), [32]byte(data), extra[:48], extra[80:], offset)
	case PrecompileKeyType:
		if extra == nil {
			return LoadedStorage, c.SetPreimagePart(key, value, offset)
		}
		if len(extra) < 28 {
			return "", fmt.Errorf("precompile key: want the precompile address, gas and input, have %d bytes", len(extra))
		}
		if err := checkKey("hash of the precompile call"); err != nil {
			return "", err
		}
		return LoadedPrecompile, c.LoadPrecompilePreimagePart(offset, common.Address(extra[:20]),
			binary.BigEndian.Uint64(extra[20:28]), extra[28:])
	}
	return "", fmt.Errorf("pre-image key of unknown type %d", key[0])
}
