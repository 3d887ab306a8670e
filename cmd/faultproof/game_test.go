package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/contracts"
	"github.com/faultproof/faultproof/game/render"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// TestGameBadInput: bad flags get one line and exit 2, before anything is built.
func TestGameBadInput(t *testing.T) {
	dir := t.TempDir()
	// A prestate whose hash is not the one the games would be deployed with.
	require.NoError(t, writeState(filepath.Join(dir, "prestate.bin.gz"), vm.NewState(0x10000, 0x20000)))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"game", "--strategy", "lie-a-lot"}, `unknown strategy "lie-a-lot"`},
		{[]string{"game", "--strategy", "diverge:sometimes"}, "want diverge:<step>"},
		{[]string{"game", "--games", "blob-step,chess"}, `unknown game "chess"`},
		{[]string{"game", "--absolute-prestate", "0x1234"}, "not a 32-byte hex hash"},
		{[]string{"game", "--vm=false"}, "needs --cannon"},
		{[]string{"game", "--prestate", dir, "--absolute-prestate", "0x0300000000000000000000000000000000000000000000000000000000000001"},
			"absolute prestate mismatch: --absolute-prestate 0x0300000000000000000000000000000000000000000000000000000000000001 is not the program's prestate"},
	} {
		start := time.Now()
		_, stderr, code := runCLI(t, tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		require.Len(t, lines, 1, "%v: %s", tc.args, stderr)
		require.Contains(t, lines[0], tc.want, "%v", tc.args)
		require.Less(t, time.Since(start), 20*time.Second, "%v: bad input must be refused before the devnet is built", tc.args)
	}
}

// devnetGameConfig builds the devnet and the program with its chain built in, for games with our VM.
func devnetGameConfig(t *testing.T) (*devnet.Devnet, *game.Config, *trace.VMBackend) {
	t.Helper()
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, demo.WriteConfigs(dir, d))
	reg, err := readSourceRegistry("../..")
	require.NoError(t, err)
	chains, err := loadCustomChains([]string{strings.Join([]string{filepath.Join(dir, "rollup.json"), filepath.Join(dir, "genesis-l2.json"),
		filepath.Join(dir, "genesis-l1.json")}, ",")}, reg)
	require.NoError(t, err)
	_, err = buildPrestate("../..", dir, "go", chains)
	require.NoError(t, err)
	state, err := loadState(filepath.Join(dir, "prestate.bin.gz"))
	require.NoError(t, err)
	src := trace.MapSource(d.Preimages())
	b := trace.NewVMBackend(state, src)
	return d, game.DevnetConfig(d, src, trace.Cached(b)), b
}

// TestGameDevnet plays every devnet game on the real contracts with our VM's proofs: each resolves for the
// right side; the honest challenger's step is proven by MIPS64 to our VM's post-state, after loading a blob
// field element (KZG proof), a large keccak256 pre-image (large-preimage proposal) or nothing (a step in the
// trace extension of a claim past the claimed block); the dishonest challenger's step against an honest
// proposal is refused. About a minute on 2 cores: FAULTPROOF_E2E=full.
func TestGameDevnet(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to play the devnet's games (builds the program for the VM)")
	}
	d, cfg, _ := devnetGameConfig(t)
	scenarios, err := game.DevnetScenarios(d, nil, false, nil)
	require.NoError(t, err)
	require.Len(t, scenarios, len(game.DevnetGameNames()))
	for _, sc := range scenarios {
		res, err := game.Play(cfg, sc)
		require.NoError(t, err, sc.Name)
		var out bytes.Buffer
		require.NoError(t, render.Text(&out, res))
		t.Log("\n" + out.String())
		require.True(t, res.OK(), "%s: %s, expected %s", sc.Name, res.Status, res.Expected)
		require.Equal(t, contracts.Normal, res.Mode, sc.Name)
		require.Len(t, res.Claims, game.DevnetMaxGameDepth+1, "%s: one bisection from the root to the maximum depth", sc.Name)
		require.NotEmpty(t, res.Steps, sc.Name)
		step := res.Steps[len(res.Steps)-1]
		require.Equal(t, step.VMPost, step.MIPSPost, "%s: MIPS64's post-state is our VM's", sc.Name)
		switch sc.Name {
		case "honest-proposal":
			require.Equal(t, contracts.DefenderWins, res.Status)
			require.Equal(t, "dishonest challenger", step.Player)
			require.Equal(t, "ValidStep()", step.Err)
		default:
			require.Equal(t, contracts.ChallengerWins, res.Status)
			require.Equal(t, "honest challenger", step.Player)
			require.Empty(t, step.Err)
		}
		switch sc.Name {
		case "blob-step":
			require.NotNil(t, step.Upload)
			require.Equal(t, "loadBlobPreimagePart", step.Upload.Route)
			require.Equal(t, byte(preimage.BlobKeyType), step.Upload.Key[0])
		case "lpp-step":
			require.NotNil(t, step.Upload)
			require.Equal(t, "large preimage proposal", step.Upload.Route)
			require.GreaterOrEqual(t, step.Upload.Size, game.DevnetMinLPPSize)
			require.Contains(t, step.Upload.Calls, "squeezeLPP")
		case "trace-extension":
			require.Nil(t, step.Upload)
			require.GreaterOrEqual(t, step.VMStep, step.ExitStep, "the step is past the program's exit")
			require.Equal(t, sc.ClaimBlock, step.ClaimBlock)
			require.Len(t, res.Subgames, 1)
			require.Equal(t, sc.ClaimBlock, res.Subgames[0].AgreedBlock, "the output bisection ended past the claimed block")
		}
	}
}

// TestDemoGame runs `faultproof demo --game` (the demo, then its short set of games) in under 2 minutes:
// FAULTPROOF_E2E=full.
func TestDemoGame(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to run demo --game (builds the program for the VM)")
	}
	start := time.Now()
	stdout, stderr, code := runCLI(t, "demo", "--game", "--src", "../..")
	elapsed := time.Since(start)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `blob-step\s+challenger wins\s+challenger wins`, stdout)
	require.Regexp(t, `trace-extension\s+challenger wins\s+challenger wins`, stdout)
	t.Logf("demo --game in %s", elapsed.Round(time.Second))
	require.Less(t, elapsed, 2*time.Minute)
}
