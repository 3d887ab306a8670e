package contracts

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// GameStatus is the FaultDisputeGame's status.
type GameStatus uint8

const (
	InProgress     GameStatus = 0
	ChallengerWins GameStatus = 1
	DefenderWins   GameStatus = 2
)

func (s GameStatus) String() string {
	switch s {
	case InProgress:
		return "in progress"
	case ChallengerWins:
		return "challenger wins"
	case DefenderWins:
		return "defender wins"
	}
	return fmt.Sprintf("status %d", uint8(s))
}

// BondDistributionMode is how a closed game pays bonds out.
type BondDistributionMode uint8

const (
	Undecided BondDistributionMode = 0
	Normal    BondDistributionMode = 1
	Refund    BondDistributionMode = 2
)

func (m BondDistributionMode) String() string {
	return [...]string{"undecided", "normal", "refund"}[min(int(m), 2)]
}

// ClaimData is one claim of a game, as claimData(i) returns it.
type ClaimData struct {
	Index       int
	ParentIndex uint32 // ^0 for the root claim
	CounteredBy common.Address
	Claimant    common.Address
	Bond        *big.Int
	Claim       common.Hash
	Position    *big.Int // the generalized index
	// Clock is the claim's chess clock: the duration its team had used when it was made (seconds), and the
	// time it was made.
	ClockDuration  uint64
	ClockTimestamp uint64
}

// RootParent is the ParentIndex of the root claim.
const RootParent = ^uint32(0)

// Game is a FaultDisputeGame proxy made by the factory.
type Game struct {
	*Contract
	System *System
}

// CreateGame proposes an output root for an L2 block: the factory clones the game with the init bond.
func (s *System) CreateGame(from common.Address, root common.Hash, l2Block uint64) (*Game, *Receipt, error) {
	extra := common.BigToHash(new(big.Int).SetUint64(l2Block)).Bytes()
	rcpt, err := s.Factory.Send(from, s.Params.InitBond, "create", GameType, root, extra)
	if err != nil {
		return nil, rcpt, err
	}
	out, err := s.Factory.ABI.Unpack("create", rcpt.Return)
	if err != nil {
		return nil, rcpt, fmt.Errorf("create: %w", err)
	}
	addr := out[0].(common.Address)
	return &Game{Contract: s.Chain.At(addr, Artifact("FaultDisputeGame").ABI), System: s}, rcpt, nil
}

func (g *Game) value(method string, args ...any) (any, error) {
	out, err := g.Call(method, args...)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s returned nothing", method)
	}
	return out[0], nil
}

// Uint calls a getter returning one unsigned integer.
func (g *Game) Uint(method string, args ...any) (uint64, error) {
	v, err := g.value(method, args...)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case *big.Int:
		if !x.IsUint64() {
			return 0, fmt.Errorf("%s: %s does not fit 64 bits", method, x)
		}
		return x.Uint64(), nil
	case uint64:
		return x, nil
	case uint32:
		return uint64(x), nil
	case uint8:
		return uint64(x), nil
	}
	return 0, fmt.Errorf("%s returned %T", method, v)
}

// Bytes32 calls a getter returning one bytes32 (Claim, Hash).
func (g *Game) Bytes32(method string, args ...any) (common.Hash, error) {
	v, err := g.value(method, args...)
	if err != nil {
		return common.Hash{}, err
	}
	b, ok := v.([32]byte)
	if !ok {
		return common.Hash{}, fmt.Errorf("%s returned %T", method, v)
	}
	return b, nil
}

// Status returns the game's status.
func (g *Game) Status() (GameStatus, error) {
	s, err := g.Uint("status")
	return GameStatus(s), err
}

// ClaimCount returns the number of claims.
func (g *Game) ClaimCount() (int, error) {
	n, err := g.Uint("claimDataLen")
	return int(n), err
}

// Claim returns claim i.
func (g *Game) Claim(i int) (*ClaimData, error) {
	out, err := g.Call("claimData", big.NewInt(int64(i)))
	if err != nil {
		return nil, err
	}
	if len(out) != 7 {
		return nil, errors.New("claimData: unexpected outputs")
	}
	clock := out[6].(*big.Int)
	return &ClaimData{
		Index:          i,
		ParentIndex:    out[0].(uint32),
		CounteredBy:    out[1].(common.Address),
		Claimant:       out[2].(common.Address),
		Bond:           out[3].(*big.Int),
		Claim:          out[4].([32]byte),
		Position:       out[5].(*big.Int),
		ClockDuration:  new(big.Int).Rsh(clock, 64).Uint64(),
		ClockTimestamp: new(big.Int).And(clock, new(big.Int).SetUint64(^uint64(0))).Uint64(),
	}, nil
}

// Claims returns every claim.
func (g *Game) Claims() ([]*ClaimData, error) {
	n, err := g.ClaimCount()
	if err != nil {
		return nil, err
	}
	out := make([]*ClaimData, n)
	for i := range out {
		if out[i], err = g.Claim(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RequiredBond returns the bond of a move to a position.
func (g *Game) RequiredBond(position *big.Int) (*big.Int, error) {
	v, err := g.value("getRequiredBond", position)
	if err != nil {
		return nil, err
	}
	return v.(*big.Int), nil
}

// Move attacks or defends the claim at parent (whose value is disputed) with claim, bonding what the
// new position requires.
func (g *Game) Move(from common.Address, parent int, disputed, claim common.Hash, attack bool, position *big.Int) (*Receipt, error) {
	bond, err := g.RequiredBond(position)
	if err != nil {
		return nil, err
	}
	method := "defend"
	if attack {
		method = "attack"
	}
	return g.Send(from, bond, method, disputed, big.NewInt(int64(parent)), claim)
}

// Step counters the leaf claim at claimIndex with one VM step: pre-state stateData and proof.
func (g *Game) Step(from common.Address, claimIndex int, attack bool, stateData, proof []byte) (*Receipt, error) {
	return g.Send(from, nil, "step", big.NewInt(int64(claimIndex)), attack, stateData, proof)
}

// AddLocalData loads local datum ident of the execution subgame of the leaf at execLeafIndex into the
// oracle, at partOffset.
func (g *Game) AddLocalData(from common.Address, ident uint64, execLeafIndex int, partOffset uint64) (*Receipt, error) {
	return g.Send(from, nil, "addLocalData", new(big.Int).SetUint64(ident), big.NewInt(int64(execLeafIndex)), new(big.Int).SetUint64(partOffset))
}

// ResolveClaim resolves the subgame rooted at a claim, checking all its children in one call.
func (g *Game) ResolveClaim(from common.Address, i int) (*Receipt, error) {
	return g.Send(from, nil, "resolveClaim", big.NewInt(int64(i)), new(big.Int))
}

// Resolve resolves the game once the root subgame is resolved.
func (g *Game) Resolve(from common.Address) (*Receipt, error) { return g.Send(from, nil, "resolve") }

// ClaimCredit closes the game if needed and claims recipient's credit: the first call unlocks it in
// DelayedWETH, a call after the WETH delay withdraws it to the recipient.
func (g *Game) ClaimCredit(from, recipient common.Address) (*Receipt, error) {
	return g.Send(from, nil, "claimCredit", recipient)
}

// Credit returns what recipient may claim in the game's bond distribution mode.
func (g *Game) Credit(recipient common.Address) (*big.Int, error) {
	v, err := g.value("credit", recipient)
	if err != nil {
		return nil, err
	}
	return v.(*big.Int), nil
}

// ChallengerDuration is the time on the clock of a potential counter to claim i.
func (g *Game) ChallengerDuration(i int) (uint64, error) {
	return g.Uint("getChallengerDuration", big.NewInt(int64(i)))
}

// Oracle returns the PreimageOracle of the game's VM.
func (g *Game) Oracle() *Contract { return g.System.Oracle }
