package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/actor"
	"github.com/faultproof/faultproof/game/render"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

var (
	gameGamesFlag = &cli.StringFlag{
		Name:  "games",
		Usage: "Comma-separated games to play (default all): " + strings.Join(game.DevnetGameNames(), ", "),
	}
	gameStrategyFlag = &cli.StringFlag{
		Name: "strategy",
		Usage: "Replace the dishonest player's strategy in every game: parts wrong-root, wrong-from:N, wrong-past-claim, " +
			"right-root-wrong-subclaims and diverge:N|middle|blob|large-keccak:N|read:TYPE[:N]|after-exit|none, comma-separated",
	}
	gameVMFlag     = &cli.BoolFlag{Name: "vm", Usage: "Use our VM for every trace (the default)", Value: true}
	gameCannonFlag = &cli.PathFlag{Name: "cannon", Usage: "Use Cannon's binary at PATH for every trace instead of our VM (the same moves are expected)"}
	gameSrcFlag    = &cli.PathFlag{Name: "src", Usage: "Checkout of the faultproof repository to build the program from", Value: "."}
	gamePrestateFl = &cli.PathFlag{Name: "prestate", Usage: "Directory with a prestate.bin.gz built with the devnet's chain (faultproof prestate --chain-config ...) instead of building one"}
	gameAbsPreFlag = &cli.StringFlag{Name: "absolute-prestate", Usage: "Deploy the games with this absolute prestate hash instead of the program's (the honest players refuse a game whose prestate is not their program's)"}
	gameSVGFlag    = &cli.PathFlag{Name: "svg", Usage: "Write a picture of each game's bisection (depth by position, who moved, where the step landed) to this SVG file"}
)

var gameCommand = &cli.Command{
	Name:  "game",
	Usage: "Play FaultDisputeGames to resolution on the OP Stack's dispute contracts, on a devnet, with our VM's proofs",
	Description: `Builds the devnet and the fault proof program with the devnet's chain built in (its prestate is the games'
absolute prestate), deploys optimism v1.19.6's dispute contracts (FaultDisputeGame, DisputeGameFactory,
AnchorStateRegistry, DelayedWETH, MIPS64, PreimageOracle, behind proxies) in an in-memory L1 continuing the devnet's,
and plays each game: a proposal, bisection over output roots and then over the program's VM trace, a step executed
by MIPS64 with its pre-image loaded into the PreimageOracle, resolution and the bonds' withdrawal, in simulated time.
It prints each game as a tree of moves, the steps, the winner, each bond's destination and the gas, and exits 0 only
if every game resolved as expected.

The games (--games): ` + strings.Join(game.DevnetGameNames(), ", ") + `.`,
	Flags: append([]cli.Flag{
		&cli.Uint64Flag{Name: "l2.blocks", Usage: "L2 blocks in the devnet", Value: devnet.DefaultL2Blocks},
		gameGamesFlag, gameStrategyFlag, gameVMFlag, gameCannonFlag, gameSrcFlag, gamePrestateFl, gameAbsPreFlag, gameSVGFlag,
	}, logFlags...),
	Before: setupLogging,
	Action: runGameCmd,
}

// gameOptions are the game command's inputs, checked.
type gameOptions struct {
	games        []string
	strategy     *actor.Strategy
	cannon       string
	src          string
	prestateDir  string
	absPrestate  *common.Hash
	svg          string
	short        bool
	devnetConfig devnet.Config
}

func gameOptionsFromCLI(ctx *cli.Context) (*gameOptions, error) {
	if ctx.NArg() > 0 {
		return nil, fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	o := &gameOptions{cannon: ctx.Path(gameCannonFlag.Name), src: ctx.Path(gameSrcFlag.Name), prestateDir: ctx.Path(gamePrestateFl.Name),
		svg: ctx.Path(gameSVGFlag.Name), devnetConfig: devnet.Config{L2Blocks: ctx.Uint64("l2.blocks")}}
	if ctx.IsSet(gameVMFlag.Name) && !ctx.Bool(gameVMFlag.Name) && o.cannon == "" {
		return nil, errors.New("--vm=false needs --cannon PATH: every trace needs a VM")
	}
	if ctx.Bool(gameVMFlag.Name) && ctx.IsSet(gameVMFlag.Name) && o.cannon != "" {
		return nil, errors.New("--vm and --cannon both given: choose one VM for the traces")
	}
	if s := ctx.String(gameGamesFlag.Name); s != "" {
		o.games = strings.Split(s, ",")
		known := map[string]bool{}
		for _, n := range game.DevnetGameNames() {
			known[n] = true
		}
		for _, n := range o.games {
			if !known[n] {
				return nil, fmt.Errorf("unknown game %q (want one of %s)", n, strings.Join(game.DevnetGameNames(), ", "))
			}
		}
	}
	if s := ctx.String(gameStrategyFlag.Name); ctx.IsSet(gameStrategyFlag.Name) {
		st, err := actor.ParseStrategy(s)
		if err != nil {
			return nil, fmt.Errorf("--strategy: %w", err)
		}
		o.strategy = &st
	}
	if s := ctx.String(gameAbsPreFlag.Name); s != "" {
		var h common.Hash
		if err := h.UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("--absolute-prestate %q: not a 32-byte hex hash", s)
		}
		o.absPrestate = &h
	}
	return o, nil
}

func runGameCmd(ctx *cli.Context) error {
	o, err := gameOptionsFromCLI(ctx)
	if err != nil {
		return err
	}
	defer quietLogs(ctx)()
	return playDevnetGames(o, nil)
}

// playDevnetGames builds the devnet (unless d is given) and the program, plays the games and prints them.
func playDevnetGames(o *gameOptions, d *devnet.Devnet) error {
	start := time.Now()
	if o.cannon != "" {
		if _, err := os.Stat(o.cannon); err != nil {
			return fmt.Errorf("--cannon: %w", err)
		}
	}
	work, err := os.MkdirTemp("", "faultproof-game-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var prestateFile string
	var state *vm.State
	if o.prestateDir != "" { // checked before anything is built
		if prestateFile, state, err = gamePrestate(o, nil, work); err != nil {
			return err
		}
		if err := checkAbsolutePrestate(o, state); err != nil {
			return err
		}
	}
	if d == nil {
		fmt.Fprintf(os.Stderr, "Building the devnet...\n")
		if d, err = devnet.New(o.devnetConfig); err != nil {
			return fmt.Errorf("devnet: %w", err)
		}
	}
	scenarios, err := game.DevnetScenarios(d, o.games, o.short, o.strategy)
	if err != nil {
		return err
	}
	if state == nil {
		if prestateFile, state, err = gamePrestate(o, d, work); err != nil {
			return err
		}
		if err := checkAbsolutePrestate(o, state); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "Absolute prestate %s (the devnet's chain %d built in)\n", state.Hash(), d.Rollup().ChainID())

	preimages := trace.MapSource(d.Preimages())
	var backend trace.Backend
	if o.cannon != "" {
		if backend, err = cannonBackend(o, d, work, prestateFile, preimages); err != nil {
			return err
		}
	} else {
		backend = trace.NewVMBackend(state, preimages)
	}
	cfg := game.DevnetConfig(d, preimages, trace.Cached(backend))
	if o.absPrestate != nil {
		cfg.Deploy.AbsolutePrestate = *o.absPrestate
	}

	var results []*game.Result
	for i, sc := range scenarios {
		fmt.Fprintf(os.Stderr, "Game %d/%d: %s...\n", i+1, len(scenarios), sc.Name)
		res, err := game.Play(cfg, sc)
		if err != nil {
			return fmt.Errorf("game %s: %w", sc.Name, err)
		}
		if err := render.Text(os.Stdout, res); err != nil {
			return err
		}
		results = append(results, res)
	}
	if err := printGameSummary(results, time.Since(start)); err != nil {
		return err
	}
	if o.svg != "" {
		if err := writeOutput(o.svg, func(w io.Writer) error { return render.SVG(w, results) }); err != nil {
			return fmt.Errorf("--svg: %w", err)
		}
		fmt.Printf("Bisection pictures in %s.\n", o.svg)
	}
	for _, r := range results {
		if !r.OK() {
			return &host.ExitError{Code: preimage.ExitFailure, Err: fmt.Errorf("game %s: %s, expected %s", r.Scenario.Name, r.Status, r.Expected)}
		}
	}
	return nil
}

// checkAbsolutePrestate refuses --absolute-prestate when it is not the program's: the honest players would
// not play such a game (as op-challenger refuses a game whose prestate is not its own).
func checkAbsolutePrestate(o *gameOptions, s *vm.State) error {
	if h := s.Hash(); o.absPrestate != nil && *o.absPrestate != h {
		return fmt.Errorf("%w: --absolute-prestate %s is not the program's prestate %s", game.ErrPrestateMismatch, *o.absPrestate, h)
	}
	return nil
}

// gamePrestate loads --prestate or builds the program with the devnet's chain built in, so that its runs
// read no chain config from local keys (the contract serves only keys 1-5).
func gamePrestate(o *gameOptions, d *devnet.Devnet, work string) (string, *vm.State, error) {
	dir := o.prestateDir
	if dir == "" {
		dir = filepath.Join(work, "prestate")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		if err := demo.WriteConfigs(dir, d); err != nil {
			return "", nil, err
		}
		reg, err := readSourceRegistry(o.src)
		if err != nil {
			return "", nil, err
		}
		chains, err := loadCustomChains([]string{strings.Join([]string{filepath.Join(dir, "rollup.json"), filepath.Join(dir, "genesis-l2.json"),
			filepath.Join(dir, "genesis-l1.json")}, ",")}, reg)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprintln(os.Stderr, "Building the program for the VM with the devnet's chain built in...")
		if _, err := buildPrestate(o.src, dir, "go", chains); err != nil {
			return "", nil, err
		}
	}
	file := filepath.Join(dir, "prestate.bin.gz")
	s, err := loadState(file)
	if err != nil {
		return "", nil, fmt.Errorf("--prestate: %w", err)
	}
	if s.Step != 0 {
		return "", nil, fmt.Errorf("--prestate: %s is at step %d, not a prestate", file, s.Step)
	}
	return file, s, nil
}

// cannonBackend makes Cannon's binary the traces' VM, served by this binary's host from a datadir of the
// devnet's pre-images.
func cannonBackend(o *gameOptions, d *devnet.Devnet, work, prestateFile string, preimages trace.MapSource) (trace.Backend, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	datadir := filepath.Join(work, "preimages")
	kv, _, err := kvstore.Open(datadir, kvstore.FormatDirectory)
	if err != nil {
		return nil, err
	}
	for k, v := range preimages {
		if err := kv.Put(k, v); err != nil {
			kv.Close()
			return nil, err
		}
	}
	if err := kv.Close(); err != nil {
		return nil, err
	}
	configs := filepath.Join(work, "configs")
	if err := os.MkdirAll(configs, 0o755); err != nil {
		return nil, err
	}
	if err := demo.WriteConfigs(configs, d); err != nil {
		return nil, err
	}
	out, err := exec.Command(o.cannon, "witness", "--input", prestateFile).Output()
	if err != nil {
		return nil, fmt.Errorf("cannon witness of the prestate: %w", err)
	}
	var w struct {
		WitnessHash common.Hash `json:"witnessHash"`
	}
	if err := json.Unmarshal(out, &w); err != nil {
		return nil, fmt.Errorf("cannon witness: %w", err)
	}
	return &trace.CannonBackend{
		Cannon: o.cannon, PrestateFile: prestateFile, PrestateHash: w.WitnessHash,
		Dir: filepath.Join(work, "cannon"), SnapshotEvery: 1 << 24,
		Host: func(in trace.LocalInputs) []string {
			// The chain is built into the program: the host announces its chain ID, not the custom-chain
			// indicator.
			return []string{exe, "host", "--server", "--datadir", datadir,
				"--rollup.config", filepath.Join(configs, "rollup.json"), "--l2.genesis", filepath.Join(configs, "genesis-l2.json"),
				"--l1.chainconfig", filepath.Join(configs, "genesis-l1.json"),
				"--l1.head", in.L1Head.Hex(), "--l2.head", in.L2Head.Hex(), "--l2.outputroot", in.AgreedOutput.Hex(),
				"--l2.claim", in.Claim.Hex(), "--l2.blocknumber", fmt.Sprint(in.ClaimBlock), "--log.level", "error"}
		},
	}, nil
}

// printGameSummary prints one line per game: outcome, moves, steps and their gas, time.
func printGameSummary(results []*game.Result, total time.Duration) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GAME\tRESULT\tEXPECTED\tCLAIMS\tTXS\tSTEP\tSTEP GAS\tPRE-IMAGE\tVM STEPS RUN\tWALL")
	for _, r := range results {
		step, gas, pre := "-", "-", "-"
		for _, s := range r.Steps {
			step, gas = fmt.Sprintf("%d by %s", s.VMStep, s.Player), fmt.Sprint(s.Gas)
			if s.Err != "" {
				step += " (refused: " + s.Err + ")"
			}
			pre = "none"
			if s.Upload != nil {
				pre = fmt.Sprintf("%s (%d gas)", s.Upload.Route, s.Upload.GasUsed())
			}
			if s.Err == "" {
				break
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%s\n", r.Scenario.Name, r.Status, r.Expected, len(r.Claims), len(r.Moves),
			step, gas, pre, r.VMSteps, r.Wall.Round(time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\n%d games in %s.\n", len(results), total.Round(time.Millisecond))
	log.Debug("Games played", "n", len(results))
	return nil
}
