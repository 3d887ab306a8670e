package crosscheck

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/toychain"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/vm"
)

// The game crosscheck: the same games played with our VM's traces and with Cannon's binary's (its own
// prestate from cannon load-elf, its runs, snapshots, state hashes and proofs) must make the same moves and
// steps. FAULTPROOF_E2E=full (it builds Cannon).

// TestToyGameMovesMatchCannon plays toy games (every pre-image route, the trace extension) both ways.
func TestToyGameMovesMatchCannon(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to play games with Cannon's binary")
	}
	cannon, fp := cannonBinary(t), faultproofBinary(t)
	dir := t.TempDir()
	chain, err := toychain.New(toychain.Keccak, toychain.Sha256, toychain.Blob, toychain.Precompile, toychain.LargeKeccak, toychain.Keccak)
	require.NoError(t, err)
	elf, err := toychain.BuildProgram("..", dir)
	require.NoError(t, err)
	// Cannon's prestate, and ours from the same ELF: the same state.
	prestate := filepath.Join(dir, "prestate.bin.gz")
	if out, err := exec.Command(cannon, "load-elf", "--type", "multithreaded64-5", "--path", elf, "--out", prestate, "--meta", filepath.Join(dir, "meta.json")).CombinedOutput(); err != nil {
		require.FailNow(t, fmt.Sprintf("cannon load-elf: %v: %s", err, out))
	}
	cannonHash := cannonWitnessHash(t, cannon, prestate)
	data, err := os.ReadFile(elf)
	require.NoError(t, err)
	ours, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	h := ours.Hash()
	require.Equal(t, cannonHash, h, "prestate: ours %s, Cannon's %s", h, cannonHash)

	// Cannon's runs are served by our host from a datadir of the toy pre-images. The toy program reads its
	// chain ID (local key 5) without caring for it, but it lands in the VM's memory: the games are on the
	// chain the host names, op-sepolia.
	datadir := filepath.Join(dir, "preimages")
	kv, _, err := kvstore.Open(datadir, kvstore.FormatDirectory)
	require.NoError(t, err)
	for k, v := range chain.Preimages {
		require.NoError(t, kv.Put(k, v))
	}
	require.NoError(t, kv.Close())
	src := trace.MapSource(chain.Preimages)
	cannonBackend := &trace.CannonBackend{Cannon: cannon, PrestateFile: prestate, PrestateHash: cannonHash, Dir: filepath.Join(dir, "cannon"),
		SnapshotEvery: 1 << 20, Host: func(in trace.LocalInputs) []string {
			return []string{fp, "host", "--server", "--network", "op-sepolia", "--datadir", datadir, "--log.level", "error",
				"--l1.head", in.L1Head.Hex(), "--l2.head", in.L2Head.Hex(), "--l2.outputroot", in.AgreedOutput.Hex(),
				"--l2.claim", in.Claim.Hex(), "--l2.blocknumber", fmt.Sprint(in.ClaimBlock)}
		}}
	config := func(b trace.Backend) *game.Config {
		return &game.Config{
			L1Config: params.MergedTestChainConfig, L1HeadNumber: 100, L1HeadTime: 1_700_000_000,
			L1HashOf: func(n uint64) common.Hash {
				if n == 100 {
					return chain.L1Head
				}
				return crypto.Keccak256Hash(binary.BigEndian.AppendUint64(nil, n))
			},
			L2ChainID: opSepoliaChainID, Outputs: chain, Preimages: src, Backend: b,
			Deploy: contracts.Params{MaxGameDepth: 3 + 1 + 24, SplitDepth: 3, ClockExtension: 10800, MaxClockDuration: 302400,
				OracleMinProposalSize: 4096, OracleChallengePeriod: 86400, WETHDelay: 604800, FinalityDelay: 302400,
				InitBond: big.NewInt(8e16), L2GasLimit: 30_000_000},
		}
	}
	vmConfig, cannonConfig := config(trace.NewVMBackend(ours, src)), config(cannonBackend)
	for _, tc := range []struct{ name, strategy string }{
		{"blob", "wrong-from:3,diverge:blob"},
		{"lpp", "wrong-from:5,diverge:large-keccak:4096"},
		{"precompile", "wrong-from:4,diverge:read:precompile"},
		{"local", "wrong-root,diverge:read:local"},
		{"trace extension", "wrong-past-claim,diverge:after-exit"},
	} {
		st, err := actor.ParseStrategy(tc.strategy)
		require.NoError(t, err)
		sc := &game.Scenario{Name: tc.name, ClaimBlock: 5, Proposer: game.Role{Name: "dishonest proposer", Strategy: &st},
			Challengers: []game.Role{{Name: "honest challenger"}}}
		if tc.name == "local" {
			sc.ClaimBlock = 2
		}
		withVM, err := game.Play(vmConfig, sc)
		require.NoError(t, err, "%s with our VM", tc.name)
		withCannon, err := game.Play(cannonConfig, sc)
		require.NoError(t, err, "%s with Cannon", tc.name)
		if a, b := movesOf(withVM), movesOf(withCannon); a != b {
			require.FailNow(t, fmt.Sprintf("%s: moves differ\nour VM:\n%s\nCannon:\n%s", tc.name, a, b))
			continue
		}
		if !withCannon.OK() {
			require.FailNow(t, fmt.Sprintf("%s with Cannon: %s, expected %s", tc.name, withCannon.Status, withCannon.Expected))
		}
		t.Logf("%s: %d claims, %d steps, the same with both VMs", tc.name, len(withVM.Claims), len(withVM.Steps))
	}
}

func cannonWitnessHash(t *testing.T, cannon, state string) common.Hash {
	t.Helper()
	out, err := exec.Command(cannon, "witness", "--input", state).Output()
	require.NoError(t, err)
	var w struct {
		WitnessHash common.Hash `json:"witnessHash"`
	}
	require.NoError(t, json.Unmarshal(out, &w))
	return w.WitnessHash
}

// movesOf is a game's claims and steps, without times and gas.
func movesOf(r *game.Result) string {
	var b strings.Builder
	for _, c := range r.Claims {
		fmt.Fprintf(&b, "#%d parent %d at %d: %s by %s, countered by %s\n", c.Index, c.Parent, c.Position, c.Value, c.Claimant, c.CounteredBy)
	}
	for _, s := range r.Steps {
		route := ""
		if s.Upload != nil {
			route = s.Upload.Route
		}
		fmt.Fprintf(&b, "step by %s on #%d (attack %v) at %d: post %s, MIPS64 %s, %s %s\n", s.Player, s.Leaf, s.Attack, s.VMStep, s.VMPost, s.MIPSPost, route, s.Err)
	}
	fmt.Fprintf(&b, "%s\n", r.Status)
	return b.String()
}

// TestDevnetGameMovesMatchCannon runs `faultproof game` on devnet games with our VM and with --cannon:
// the printed moves and steps are the same.
func TestDevnetGameMovesMatchCannon(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to play devnet games with Cannon's binary")
	}
	cannon, fp := cannonBinary(t), faultproofBinary(t)
	games := "trace-extension,blob-step"
	run := func(args ...string) string {
		cmd := exec.Command(fp, append([]string{"game", "--src", "..", "--games", games}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			require.FailNow(t, fmt.Sprintf("faultproof game %v: %v: %s", args, err, stderr.String()))
		}
		return stdout.String()
	}
	withVM, withCannon := run(), run("--cannon", cannon)
	a, b := movesLines(withVM), movesLines(withCannon)
	require.Equal(t, b, a, "moves differ\nour VM:\n%s\nCannon:\n%s", a, b)
	t.Log("\n" + withCannon)
}

// movesLines keeps a game printout's claims, steps and results, without gas and times.
var timing = regexp.MustCompile(`(step gas|wall time) [^;\n]*|\d+(\.\d+)?(ms|s)\b`)

func movesLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimLeft(l, "│├└─ ")
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "step:") || strings.HasPrefix(t, "result:") || strings.Contains(t, "MIPS64 post-state") {
			keep = append(keep, timing.ReplaceAllString(l, ""))
		}
	}
	return strings.Join(keep, "\n")
}
