// Command opchallenger drives VM and host binaries through op-challenger's own code (optimism v1.19.6):
// the trace/vm Executor with the op-program server executor or the kona executor, behind op-challenger's
// Cannon trace provider, and the run-trace runner. crosscheck builds it inside a copy of the optimism
// module (refbuild) and runs it against faultproof answering as cannon, op-program and kona-host.
//
//	opchallenger trace  [flags]  the root claim of a game (the whole trace), the first keccak pre-image
//	                             step (--stop-at-preimage-type) and its step data, and the VM metrics
//	opchallenger runner [flags]  op-challenger's run-trace runner until its first verdict
//
// It prints one JSON object on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"

	"github.com/ethereum-optimism/optimism/op-challenger/config"
	"github.com/ethereum-optimism/optimism/op-challenger/game/fault/trace/cannon"
	"github.com/ethereum-optimism/optimism/op-challenger/game/fault/trace/utils"
	"github.com/ethereum-optimism/optimism/op-challenger/game/fault/trace/vm"
	"github.com/ethereum-optimism/optimism/op-challenger/game/fault/types"
	gameTypes "github.com/ethereum-optimism/optimism/op-challenger/game/types"
	"github.com/ethereum-optimism/optimism/op-challenger/runner"
)

var (
	kind       = flag.String("kind", "op-program", "host kind: op-program (game type cannon) or kona (cannon-kona)")
	vmBin      = flag.String("vm", "", "the VM binary (--cannon-bin)")
	server     = flag.String("server", "", "the host binary (--cannon-server)")
	prestate   = flag.String("prestate", "", "the absolute prestate file (--cannon-prestate)")
	dir        = flag.String("dir", "", "the game's data directory")
	l1         = flag.String("l1", "", "L1 RPC URL")
	beacon     = flag.String("beacon", "", "L1 beacon URL")
	l2         = flag.String("l2", "", "L2 RPC URL")
	rollupRPC  = flag.String("rollup-rpc", "", "rollup node RPC URL (runner)")
	rollupCfg  = flag.String("rollup-config", "", "rollup config file")
	l2Genesis  = flag.String("l2-genesis", "", "L2 genesis file")
	l1Genesis  = flag.String("l1-genesis", "", "L1 genesis file")
	l1Head     = flag.String("l1-head", "", "L1 head hash")
	l2Head     = flag.String("l2-head", "", "agreed L2 block hash")
	outputRoot = flag.String("output-root", "", "agreed output root")
	claim      = flag.String("claim", "", "claimed output root")
	block      = flag.Uint64("block", 0, "claimed L2 block number")
	depth      = flag.Uint64("depth", 42, "the game's execution trace depth")
	snapshots  = flag.Uint("snapshot-freq", 100_000_000, "snapshot frequency (steps)")
	timeout    = flag.Duration("timeout", 30*time.Minute, "give up after this long")
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: opchallenger trace|runner [flags]"))
	}
	mode := os.Args[1]
	if err := flag.CommandLine.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var out any
	var err error
	switch mode {
	case "trace":
		out, err = trace(ctx)
	case "runner":
		out, err = runTrace(ctx)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "opchallenger:", err)
	os.Exit(1)
}

// vmConfig is op-challenger's configuration of the VM and host, as its --cannon-* (or --cannon-kona-*)
// flags make it.
func vmConfig() (vm.Config, gameTypes.GameType, vm.OracleServerExecutor, error) {
	cfg := vm.Config{
		VmBin:           *vmBin,
		Server:          *server,
		SnapshotFreq:    *snapshots,
		InfoFreq:        10_000_000,
		DebugInfo:       true,
		BinarySnapshots: true,
		L1:              *l1,
		L1Beacon:        *beacon,
		L2s:             []string{*l2},
	}
	if *rollupCfg != "" {
		cfg.RollupConfigPaths = []string{*rollupCfg}
	}
	if *l2Genesis != "" {
		cfg.L2GenesisPaths = []string{*l2Genesis}
	}
	cfg.L1GenesisPath = *l1Genesis
	logger := log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelInfo, false))
	switch *kind {
	case "op-program":
		cfg.VmType = gameTypes.CannonGameType
		return cfg, cfg.VmType, vm.NewOpProgramServerExecutor(logger), cfg.Check(true)
	case "kona":
		cfg.VmType = gameTypes.CannonKonaGameType
		return cfg, cfg.VmType, vm.NewKonaExecutor(), cfg.Check(true)
	}
	return cfg, 0, nil, fmt.Errorf("unknown --kind %q", *kind)
}

// metrics records what the Executor reports from the VM's debug info.
type metrics struct {
	mu     sync.Mutex
	Values map[string]uint64 `json:"values"`
	Runs   int               `json:"runs"`
}

func (m *metrics) set(name string, v uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Values == nil {
		m.Values = map[string]uint64{}
	}
	m.Values[name] = v
}

func (m *metrics) RecordExecutionTime(time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Runs++
}
func (m *metrics) RecordMemoryUsed(v uint64)                { m.set("memory_used", v) }
func (m *metrics) RecordSteps(v uint64)                     { m.set("steps", v) }
func (m *metrics) RecordInstructionCacheMissCount(v uint64) { m.set("instruction_cache_miss_count", v) }
func (m *metrics) RecordRmwSuccessCount(v uint64)           { m.set("rmw_success_count", v) }
func (m *metrics) RecordRmwFailCount(v uint64)              { m.set("rmw_fail_count", v) }
func (m *metrics) RecordMaxStepsBetweenLLAndSC(v uint64)    { m.set("max_steps_between_ll_and_sc", v) }
func (m *metrics) RecordReservationInvalidationCount(v uint64) {
	m.set("reservation_invalidation_count", v)
}
func (m *metrics) RecordForcedPreemptionCount(v uint64) { m.set("forced_preemption_count", v) }
func (m *metrics) RecordIdleStepCountThread0(v uint64)  { m.set("idle_step_count_thread_0", v) }

func hash(name, s string) (common.Hash, error) {
	b, err := hexutil.Decode(s)
	if err != nil || len(b) != 32 {
		return common.Hash{}, fmt.Errorf("--%s %q: not a 32-byte hash", name, s)
	}
	return common.BytesToHash(b), nil
}

// traceResult is what trace prints.
type traceResult struct {
	Prestate     common.Hash `json:"prestate"`
	Root         common.Hash `json:"root"`
	Status       uint8       `json:"status"`
	PreimageStep uint64      `json:"preimageStep"`
	StepStateLen int         `json:"stepStateLength"`
	StepPost     common.Hash `json:"stepPostState"`
	StepProofLen int         `json:"stepProofLength"`
	OracleKey    string      `json:"oracleKey"`
	OracleLen    int         `json:"oracleValueLength"`
	OracleOffset uint32      `json:"oracleOffset"`
	Metrics      *metrics    `json:"metrics"`
}

func trace(ctx context.Context) (*traceResult, error) {
	cfg, _, serverExec, err := vmConfig()
	if err != nil {
		return nil, err
	}
	var inputs utils.LocalGameInputs
	for _, h := range []struct {
		name, val string
		dst       *common.Hash
	}{{"l1-head", *l1Head, &inputs.L1Head}, {"l2-head", *l2Head, &inputs.L2Head}, {"output-root", *outputRoot, &inputs.L2OutputRoot}, {"claim", *claim, &inputs.L2Claim}} {
		if *h.dst, err = hash(h.name, h.val); err != nil {
			return nil, err
		}
	}
	inputs.L2SequenceNumber = new(big.Int).SetUint64(*block)
	logger := log.NewLogger(log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelInfo, false))
	res := &traceResult{Metrics: &metrics{}}

	// The absolute prestate, as op-challenger checks it against the game's (witness --input).
	converter := cannon.NewStateConverter(cfg)
	if res.Prestate, err = vm.NewPrestateProvider(*prestate, converter).AbsolutePreStateCommitment(ctx); err != nil {
		return nil, err
	}
	gameDepth := types.Depth(*depth)
	provider := cannon.NewTraceProviderForTest(logger, res.Metrics, cfg, serverExec, *prestate, inputs, *dir, gameDepth)

	// The root claim: the state at the last trace index, which the program reaches long before (the
	// trace is extended with its final state); its first byte is the verdict.
	if res.Root, err = provider.Get(ctx, types.RootPosition); err != nil {
		return nil, fmt.Errorf("root claim: %w", err)
	}
	res.Status = res.Root[0]

	// The first keccak pre-image read, found with --stop-at-preimage-type keccak, and the data for a step
	// there: the proof op-challenger would send to the contracts, with the pre-image from the host's datadir.
	if res.PreimageStep, err = provider.FindStep(ctx, 0, utils.FirstKeccakPreimageLoad()); err != nil {
		return nil, fmt.Errorf("find the first keccak pre-image step: %w", err)
	}
	pos := types.NewPosition(gameDepth, new(big.Int).SetUint64(res.PreimageStep))
	state, proof, oracle, err := provider.GetStepData(ctx, pos)
	if err != nil {
		return nil, fmt.Errorf("step data at %d: %w", res.PreimageStep, err)
	}
	res.StepProofLen, res.StepStateLen = len(proof), len(state)
	if res.StepPost, err = provider.Get(ctx, pos); err != nil {
		return nil, err
	}
	if oracle != nil {
		res.OracleKey = hexutil.Encode(oracle.OracleKey)
		res.OracleLen = len(oracle.GetPreimageWithoutSize())
		res.OracleOffset = oracle.OracleOffset
	}
	return res, nil
}

// runnerResult is what runner prints.
type runnerResult struct {
	Verified []string `json:"verified"`
	Failures []string `json:"failures"`
	// Claim is the runner's record of the claim it picked (its l2Block and L1 head).
	Claim string `json:"claim"`
}

// logCapture keeps the runner's log records.
type logCapture struct {
	slog.Handler
	mu      *sync.Mutex
	records *[]string
	signal  chan struct{}
}

func (h logCapture) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	*h.records = append(*h.records, b.String())
	h.mu.Unlock()
	select {
	case h.signal <- struct{}{}:
	default:
	}
	return h.Handler.Handle(ctx, r)
}

func (h logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return logCapture{h.Handler.WithAttrs(as), h.mu, h.records, h.signal}
}

func (h logCapture) WithGroup(name string) slog.Handler {
	return logCapture{h.Handler.WithGroup(name), h.mu, h.records, h.signal}
}

// runTrace runs op-challenger's run-trace runner (the run-trace command's lifecycle) with one run config
// of the chosen kind and the prestate file, until it reports its first verdict.
func runTrace(ctx context.Context) (*runnerResult, error) {
	vmCfg, gameType, _, err := vmConfig()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var records []string
	signal := make(chan struct{}, 1)
	logger := log.NewLogger(logCapture{log.NewTerminalHandlerWithLevel(os.Stderr, log.LevelInfo, false), &mu, &records, signal})
	cfg := &config.Config{
		L1EthRpc:  *l1,
		L1Beacon:  *beacon,
		RollupRpc: *rollupRPC,
		L2Rpcs:    []string{*l2},
		Datadir:   *dir,
		GameTypes: []gameTypes.GameType{gameType},
	}
	if gameType == gameTypes.CannonGameType {
		cfg.Cannon, cfg.CannonAbsolutePreState = vmCfg, *prestate
	} else {
		cfg.CannonKona, cfg.CannonKonaAbsolutePreState = vmCfg, *prestate
	}
	r := runner.NewRunner(logger, cfg, []runner.RunConfig{{GameType: gameType, Name: "faultproof", PrestateFilename: "file:" + *prestate}}, 0, false)
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	defer r.Stop(context.Background())
	res := &runnerResult{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no verdict from the runner: %w", ctx.Err())
		case <-signal:
		}
		mu.Lock()
		for _, rec := range records {
			if res.Claim == "" && strings.Contains(rec, " l2Block=") {
				res.Claim = rec
			}
			switch {
			case strings.HasPrefix(rec, "Successfully verified output root"):
				res.Verified = append(res.Verified, rec)
			case strings.HasPrefix(rec, "Incorrect status code"), strings.HasPrefix(rec, "VM panicked"),
				strings.HasPrefix(rec, "VM execution timed out"), strings.HasPrefix(rec, "Failed to run"):
				res.Failures = append(res.Failures, rec)
			}
		}
		records = records[:0]
		mu.Unlock()
		if len(res.Verified)+len(res.Failures) > 0 {
			return res, nil
		}
	}
}
