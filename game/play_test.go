package game

import (
	"encoding/binary"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/toychain"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// The toy chain's blocks: block n reads toyKinds[n-1].
var toyKinds = []toychain.Kind{
	toychain.Keccak, toychain.Sha256, toychain.Blob, toychain.Precompile,
	toychain.LargeKeccak, toychain.Keccak, toychain.Keccak, toychain.Keccak,
}

var (
	toyOnce  sync.Once
	toyChain *toychain.Chain
	toyState *vm.State
	toyErr   error
)

// toyConfig is a game configuration on the toy chain: 8 blocks (split depth 3), traces of 2^24 steps. The
// maximum depth is even, so the proposer's side makes the leaves and challengers step.
func toyConfig(t *testing.T) *Config {
	t.Helper()
	toyOnce.Do(func() {
		if toyChain, toyErr = toychain.New(toyKinds...); toyErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "toy-program")
		if err != nil {
			toyErr = err
			return
		}
		defer os.RemoveAll(dir)
		elf, err := toychain.BuildProgram(filepath.Join(".."), dir)
		if err != nil {
			toyErr = err
			return
		}
		data, err := os.ReadFile(elf)
		if err != nil {
			toyErr = err
			return
		}
		toyState, _, toyErr = vm.LoadProgram(data)
	})
	if toyErr != nil {
		t.Fatal(toyErr)
	}
	src := trace.MapSource(toyChain.Preimages)
	const l1Head = 100
	return &Config{
		L1Config:     params.MergedTestChainConfig,
		L1HeadNumber: l1Head,
		L1HeadTime:   1_700_000_000,
		L1HashOf: func(n uint64) common.Hash {
			if n == l1Head {
				return toyChain.L1Head
			}
			return crypto.Keccak256Hash(binary.BigEndian.AppendUint64(nil, n))
		},
		L2ChainID: toychain.ChainID,
		Outputs:   toyChain,
		Preimages: src,
		Backend:   trace.Cached(trace.NewVMBackend(toyState, src)),
		Deploy: contracts.Params{
			MaxGameDepth: 3 + 1 + 24, SplitDepth: 3,
			ClockExtension: 3 * 3600, MaxClockDuration: 302400,
			OracleMinProposalSize: 4096, OracleChallengePeriod: 86400,
			WETHDelay: 7 * 86400, FinalityDelay: 302400,
			InitBond: big.NewInt(8e16), AnchorBlock: 0, L2GasLimit: 30_000_000,
		},
	}
}

func strategy(t *testing.T, s string) *actor.Strategy {
	t.Helper()
	st, err := actor.ParseStrategy(s)
	if err != nil {
		t.Fatal(err)
	}
	return &st
}

// TestToyGames plays games on the toy chain with our VM's traces on the real contracts: each resolves for
// the right side, and each step the honest actor makes proves on MIPS64 the post-state our VM computed,
// after loading the pre-image the step reads by the route its type takes.
func TestToyGames(t *testing.T) {
	cfg := toyConfig(t)
	for _, tt := range []struct {
		sc        Scenario
		route     string // the honest step's pre-image route
		keyType   preimage.KeyType
		extension bool // the honest step is in the trace extension
	}{
		{sc: Scenario{Name: "blob", ClaimBlock: 6, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:3,diverge:blob")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadBlobPreimagePart", keyType: preimage.BlobKeyType},
		{sc: Scenario{Name: "lpp", ClaimBlock: 6, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:5,diverge:large-keccak:4096")},
			Challengers: []Role{{Name: "honest challenger", Delay: 7200}}}, route: "large preimage proposal", keyType: preimage.Keccak256KeyType},
		{sc: Scenario{Name: "precompile", ClaimBlock: 4, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-root,diverge:read:precompile")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadPrecompilePreimagePart", keyType: preimage.PrecompileKeyType},
		{sc: Scenario{Name: "sha256", ClaimBlock: 7, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-from:2,diverge:read:sha256")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "loadSha256PreimagePart", keyType: preimage.Sha256KeyType},
		{sc: Scenario{Name: "local", ClaimBlock: 2, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-root,diverge:read:local")},
			Challengers: []Role{{Name: "honest challenger"}}}, route: "addLocalData", keyType: preimage.LocalKeyType},
		{sc: Scenario{Name: "trace extension", ClaimBlock: 5, Proposer: Role{Name: "dishonest proposer", Strategy: strategy(t, "wrong-past-claim,diverge:after-exit")},
			Challengers: []Role{{Name: "honest challenger"}}}, extension: true},
	} {
		t.Run(tt.sc.Name, func(t *testing.T) {
			res, err := Play(cfg, &tt.sc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() || res.Mode != contracts.Normal {
				t.Fatalf("%s, expected %s; bonds %s", res.Status, res.Expected, res.Mode)
			}
			var honestStep *StepRecord
			for i, s := range res.Steps {
				if s.Err == "" && s.Player == "honest challenger" {
					honestStep = &res.Steps[i]
				}
			}
			if honestStep == nil {
				t.Fatalf("no successful step: %+v", res.Steps)
			}
			if honestStep.MIPSPost != honestStep.VMPost {
				t.Errorf("MIPS64's post-state %s, our VM's %s", honestStep.MIPSPost, honestStep.VMPost)
			}
			if tt.extension {
				if honestStep.VMStep < honestStep.ExitStep || honestStep.Upload != nil {
					t.Errorf("step %d (exit at %d) is not in the trace extension", honestStep.VMStep, honestStep.ExitStep)
				}
			} else if honestStep.Upload == nil || honestStep.Upload.Route != tt.route || preimage.KeyType(honestStep.Upload.Key[0]) != tt.keyType {
				t.Errorf("step's pre-image upload %+v, want route %s for key type %d", honestStep.Upload, tt.route, tt.keyType)
			}
			// Every bond went to the honest side.
			for _, b := range res.Bonds {
				for _, p := range res.Players {
					if p.Name == b.To && !p.Honest {
						t.Errorf("claim %d's bond went to %s", b.Claim, b.To)
					}
				}
			}
			t.Logf("%s in %d claims, %d moves, step %d of %d (%s), %d VM steps, %s", res.Status, len(res.Claims), len(res.Moves),
				honestStep.VMStep, honestStep.ExitStep, func() string {
					if honestStep.Upload != nil {
						return honestStep.Upload.Route
					}
					return "no pre-image"
				}(), res.VMSteps, res.Wall)
		})
	}
}
