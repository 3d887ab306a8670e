package contracts

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// GameType is the game type the FaultDisputeGame is registered under: 0, CANNON, the type of the OP
// Stack's permissionless games with a MIPS64 VM.
const GameType uint32 = 0

// mipsStateVersion is the state version MIPS64 accepts: multithreaded64-5.
const mipsStateVersion = 8

// Params are the deployment's settings.
type Params struct {
	// AbsolutePrestate is the VM state hash at step 0 of the fault proof program.
	AbsolutePrestate common.Hash
	// MaxGameDepth and SplitDepth shape the game: output roots are bisected down to SplitDepth, the VM
	// trace below it (2^(MaxGameDepth-SplitDepth-1) steps per execution subgame).
	MaxGameDepth, SplitDepth uint64
	// ClockExtension and MaxClockDuration are the chess clocks' settings, in seconds.
	ClockExtension, MaxClockDuration uint64
	// OracleMinProposalSize is the PreimageOracle's smallest large-preimage proposal in bytes, and
	// OracleChallengePeriod how long a proposal may be challenged, in seconds.
	OracleMinProposalSize, OracleChallengePeriod uint64
	// WETHDelay is DelayedWETH's withdrawal delay and FinalityDelay the AnchorStateRegistry's dispute game
	// finality delay, in seconds.
	WETHDelay, FinalityDelay uint64
	// InitBond is the factory's bond for creating a game.
	InitBond *big.Int
	// L2ChainID is the chain the games are about; AnchorRoot and AnchorBlock the starting anchor state.
	L2ChainID   uint64
	AnchorRoot  common.Hash
	AnchorBlock uint64
	// BatcherAddr and L2GasLimit go into the SystemConfig.
	BatcherAddr common.Address
	L2GasLimit  uint64
}

// System is a deployment: the contracts behind proxies administered by one ProxyAdmin, as the OP Stack
// deploys them, and the game implementation registered in the factory.
type System struct {
	Chain  *Chain
	Params Params
	// Owner owns the ProxyAdmin and the factory; Guardian is the SuperchainConfig's guardian.
	Owner, Guardian common.Address

	ProxyAdmin, SuperchainConfig, SystemConfig *Contract
	DelayedWETH, Factory, AnchorStateRegistry  *Contract
	Oracle, MIPS, GameImpl                     *Contract
}

// Deployment accounts: fixed addresses, so that a deployment is the same every time.
var (
	OwnerAccount    = common.HexToAddress("0x0000000000000000000000000000000000a11ce0")
	GuardianAccount = common.HexToAddress("0x0000000000000000000000000000000000a11ce1")
)

// Deploy deploys the dispute system on the chain, in its current block: ProxyAdmin; SuperchainConfig,
// SystemConfig, DelayedWETH, DisputeGameFactory and AnchorStateRegistry behind proxies, each initialized
// through the ProxyAdmin; PreimageOracle and MIPS64; a FaultDisputeGame implementation, registered for
// GameType with its immutable arguments (absolute prestate, VM, registry, WETH, L2 chain ID) and the
// init bond. Games must be created in a later block: the registry retires games created at or before
// its initialization.
func Deploy(chain *Chain, p Params) (*System, error) {
	s := &System{Chain: chain, Params: p, Owner: OwnerAccount, Guardian: GuardianAccount}
	chain.Fund(s.Owner, new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18)))
	var err error
	if s.ProxyAdmin, _, err = chain.Deploy(s.Owner, "ProxyAdmin", s.Owner); err != nil {
		return nil, err
	}

	if s.SuperchainConfig, err = s.proxied("SuperchainConfig", nil, "initialize", s.Guardian); err != nil {
		return nil, err
	}
	// No portal is deployed: the SystemConfig only needs an address to name the chain in pause checks.
	portal := common.BytesToAddress(crypto.Keccak256([]byte("faultproof game: OptimismPortal stand-in"))[12:])
	type resourceConfig struct {
		MaxResourceLimit            uint32
		ElasticityMultiplier        uint8
		BaseFeeMaxChangeDenominator uint8
		MinimumBaseFee              uint32
		SystemTxMaxGas              uint32
		MaximumBaseFee              *big.Int
	}
	type addresses struct {
		L1CrossDomainMessenger       common.Address
		L1ERC721Bridge               common.Address
		L1StandardBridge             common.Address
		OptimismPortal               common.Address
		OptimismMintableERC20Factory common.Address
		DelayedWETH                  common.Address
		Opcm                         common.Address
	}
	// Constants.DEFAULT_RESOURCE_CONFIG of contracts-bedrock.
	rc := resourceConfig{20_000_000, 10, 8, 1_000_000_000, 1_000_000, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))}
	var batcherHash common.Hash
	copy(batcherHash[12:], p.BatcherAddr[:])
	if s.SystemConfig, err = s.proxied("SystemConfig", nil, "initialize", s.Owner, uint32(0), uint32(0), batcherHash,
		p.L2GasLimit, common.Address{}, rc, addresses{OptimismPortal: portal}, new(big.Int).SetUint64(p.L2ChainID),
		s.SuperchainConfig.Address); err != nil {
		return nil, err
	}
	if s.DelayedWETH, err = s.proxied("DelayedWETH", []any{new(big.Int).SetUint64(p.WETHDelay)}, "initialize", s.SystemConfig.Address); err != nil {
		return nil, err
	}
	if s.Factory, err = s.proxied("DisputeGameFactory", nil, "initialize", s.Owner); err != nil {
		return nil, err
	}
	type proposal struct {
		Root             [32]byte
		L2SequenceNumber *big.Int
	}
	if s.AnchorStateRegistry, err = s.proxied("AnchorStateRegistry", []any{new(big.Int).SetUint64(p.FinalityDelay)}, "initialize",
		s.SystemConfig.Address, s.Factory.Address, proposal{p.AnchorRoot, new(big.Int).SetUint64(p.AnchorBlock)}, GameType); err != nil {
		return nil, err
	}

	if s.Oracle, _, err = chain.Deploy(s.Owner, "PreimageOracle", new(big.Int).SetUint64(p.OracleMinProposalSize),
		new(big.Int).SetUint64(p.OracleChallengePeriod)); err != nil {
		return nil, err
	}
	if s.MIPS, _, err = chain.Deploy(s.Owner, "MIPS64", s.Oracle.Address, big.NewInt(mipsStateVersion)); err != nil {
		return nil, err
	}
	type gameConstructorParams struct {
		MaxGameDepth     *big.Int
		SplitDepth       *big.Int
		ClockExtension   uint64
		MaxClockDuration uint64
	}
	if s.GameImpl, _, err = chain.Deploy(s.Owner, "FaultDisputeGame", gameConstructorParams{
		new(big.Int).SetUint64(p.MaxGameDepth), new(big.Int).SetUint64(p.SplitDepth), p.ClockExtension, p.MaxClockDuration,
	}); err != nil {
		return nil, err
	}
	// The game's immutable arguments after its extra data, in the layout of its getters.
	var args []byte
	args = append(args, p.AbsolutePrestate[:]...)
	args = append(args, s.MIPS.Address[:]...)
	args = append(args, s.AnchorStateRegistry.Address[:]...)
	args = append(args, s.DelayedWETH.Address[:]...)
	args = append(args, common.BigToHash(new(big.Int).SetUint64(p.L2ChainID)).Bytes()...)
	setImpl, ok := methodWithInputs(s.Factory, "setImplementation", 3)
	if !ok {
		return nil, fmt.Errorf("DisputeGameFactory has no setImplementation(gameType, impl, args)")
	}
	if _, err := s.Factory.Send(s.Owner, nil, setImpl, GameType, s.GameImpl.Address, args); err != nil {
		return nil, err
	}
	if _, err := s.Factory.Send(s.Owner, nil, "setInitBond", GameType, p.InitBond); err != nil {
		return nil, err
	}
	return s, nil
}

// proxied deploys a Proxy administered by the ProxyAdmin and an implementation (with constructor
// arguments ctor), and upgrades the proxy to it calling initializer with args, as the owner. The
// contract is bound at the proxy with the implementation's ABI.
func (s *System) proxied(name string, ctor []any, initializer string, args ...any) (*Contract, error) {
	proxy, _, err := s.Chain.Deploy(s.Owner, "Proxy", s.ProxyAdmin.Address)
	if err != nil {
		return nil, err
	}
	impl, _, err := s.Chain.Deploy(s.Owner, name, ctor...)
	if err != nil {
		return nil, err
	}
	init, err := impl.ABI.Pack(initializer, args...)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", name, initializer, err)
	}
	if _, err := s.ProxyAdmin.Send(s.Owner, nil, "upgradeAndCall", proxy.Address, impl.Address, init); err != nil {
		return nil, fmt.Errorf("initialize %s: %w", name, err)
	}
	return s.Chain.At(proxy.Address, impl.ABI), nil
}

// methodWithInputs finds the overload of method (go-ethereum names overloads name, name0, ...) with n
// inputs.
func methodWithInputs(c *Contract, method string, n int) (string, bool) {
	for key, m := range c.ABI.Methods {
		if m.RawName == method && len(m.Inputs) == n {
			return key, true
		}
	}
	return "", false
}
