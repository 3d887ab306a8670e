package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/units"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

var (
	vmRunInputFlag = &cli.PathFlag{
		Name:      "input",
		Usage:     "State to run (.bin, .bin.gz, .json or .json.gz)",
		TakesFile: true,
		Value:     "state.bin.gz",
		Required:  true,
	}
	vmRunOutputFlag = &cli.PathFlag{
		Name:      "output",
		Usage:     "Where to write the final state (format by extension as for --input); - for stdout (binary), empty for nowhere",
		TakesFile: true,
		Value:     "out.bin.gz",
	}
	vmRunProofAtFlag = &cli.StringFlag{
		Name:  "proof-at",
		Usage: "Steps to write a step proof at: " + stepPatternHelp,
		Value: "never",
	}
	vmRunProofFmtFlag = &cli.StringFlag{
		Name:  "proof-fmt",
		Usage: "Proof file names, a format with the step as its one integer verb (gzip-compressed if it ends in .gz); - for stdout",
		Value: "proof-%d.json",
	}
	vmRunSnapshotAtFlag = &cli.StringFlag{
		Name:  "snapshot-at",
		Usage: "Steps to write a state snapshot at: " + stepPatternHelp,
		Value: "never",
	}
	vmRunSnapshotFmtFlag = &cli.StringFlag{
		Name:  "snapshot-fmt",
		Usage: "Snapshot file names, a format with the step as its one integer verb (format by extension as for --input)",
		Value: "state-%d.bin.gz",
	}
	vmRunStopAtFlag = &cli.StringFlag{
		Name:  "stop-at",
		Usage: "Steps to stop at (before executing them): " + stepPatternHelp,
		Value: "never",
	}
	vmRunStopAtPreimageFlag = &cli.StringFlag{
		Name:  "stop-at-preimage",
		Usage: "Stop after the first pre-image read matching <key hex prefix>[@<offset>[@<minimum step>]] (offset 0 if omitted)",
	}
	vmRunStopAtPreimageTypeFlag = &cli.StringFlag{
		Name:  "stop-at-preimage-type",
		Usage: "Stop after the first read of a pre-image of this key type: local, keccak, sha256, blob, precompile or any",
	}
	vmRunStopAtPreimageLargerThanFlag = &cli.IntFlag{
		Name:  "stop-at-preimage-larger-than",
		Usage: "Stop after the first read of a pre-image larger than this many bytes (counting its 8-byte length prefix)",
	}
	vmRunMetaFlag = &cli.PathFlag{
		Name:      "meta",
		Usage:     "Symbol metadata written by load-elf, for symbol names in the logs; empty for none (if the default file does not exist, none is used)",
		TakesFile: true,
		Value:     "meta.json",
	}
	vmRunInfoAtFlag = &cli.StringFlag{
		Name: "info-at",
		Usage: "Steps to log progress (step, pc, instruction, steps/s, memory, symbol, pre-images read; " +
			"with --log.level debug also the state hash, which costs a merkleization) at: " + stepPatternHelp,
		Value: "%1000000000",
	}
	vmRunPProfCPUFlag = &cli.BoolFlag{
		Name:  "pprof.cpu",
		Usage: "Write a CPU profile of the run to cpu.pprof",
	}
	vmRunDebugFlag = &cli.BoolFlag{
		Name: "debug",
		Usage: "Follow each thread's call stack (with --meta's symbols) and print the active thread's traceback to stdout at " +
			"the end, as Cannon does; every step then takes the slow path",
	}
	vmRunPProfGuestFlag = &cli.PathFlag{
		Name: "pprof.guest",
		Usage: "Write a profile of the guest program's call stacks, in VM steps, to this file (pprof format, " +
			"read with go tool pprof); needs --pprof.elf",
		TakesFile: true,
	}
	vmRunPProfELFFlag = &cli.PathFlag{
		Name:      "pprof.elf",
		Usage:     "The ELF the state was loaded from, for the symbols of --pprof.guest",
		TakesFile: true,
	}
	vmRunPProfPeriodFlag = &cli.Uint64Flag{
		Name:  "pprof.period",
		Usage: "Steps between two samples of --pprof.guest",
		Value: 9973,
	}
	vmRunDebugInfoFlag = &cli.PathFlag{
		Name: "debug-info",
		Usage: "Where to write Cannon's run statistics as JSON: pages, memory used, pre-image requests and bytes, steps, " +
			"instruction cache misses, RMW successes and failures, the longest LL-SC distance, reservation invalidations, " +
			"forced preemptions, idle steps of thread 0",
		TakesFile: true,
	}
)

var vmRunCommand = &cli.Command{
	Name:      "run",
	Usage:     "Run a VM state, writing step proofs, snapshots and the final state",
	ArgsUsage: "[-- pre-image server command...]",
	Description: `Runs the state until the program exits or a --stop-at step. The program's hints and pre-image
requests go to a pre-image server started from the command after "--", with the hint and pre-image channels on
its file descriptors 3-6 (e.g. -- faultproof host --server --datadir ...). Without a server, hints are dropped
and a pre-image request fails.

Step patterns (--proof-at, --snapshot-at, --stop-at, --info-at) are checked against the step counter before
each step. A proof at step N proves the step from N to N+1.

The exit code is 0 when the run ends, whatever the program's exit code (it is in the final state and in the
last log line); 2 when the run fails, including a failure of the pre-image server.`,
	Flags: append([]cli.Flag{
		vmRunInputFlag, vmRunOutputFlag,
		vmRunProofAtFlag, vmRunProofFmtFlag,
		vmRunSnapshotAtFlag, vmRunSnapshotFmtFlag,
		vmRunStopAtFlag, vmRunStopAtPreimageFlag, vmRunStopAtPreimageTypeFlag, vmRunStopAtPreimageLargerThanFlag,
		vmRunMetaFlag, vmRunInfoAtFlag, vmRunPProfCPUFlag, vmRunPProfGuestFlag, vmRunPProfELFFlag,
		vmRunPProfPeriodFlag, vmRunDebugFlag, vmRunDebugInfoFlag,
	}, logFlags...),
	Before: setupLogging,
	Action: vmRun,
}

// runConfig is what vm run does besides stepping.
type runConfig struct {
	proofAt, snapshotAt, stopAt, infoAt stepPattern
	proofFmt, snapshotFmt               string
	stopAtPreimage                      *preimageStop
	meta                                *vm.Metadata
	debug, stats                        bool
	guestProfile                        *guestProfile
}

// preimageStop is the --stop-at-preimage* condition, checked after each step that read pre-image data.
type preimageStop struct {
	any         bool
	keyPrefix   []byte
	offset      uint64 // with keyPrefix, when largerThan is 0
	minStep     uint64 // with keyPrefix, when largerThan is 0
	largerThan  int
	description string
}

// matches reports whether a read at offset of key's prefixed value, in the step that started at step,
// stops the run. The rules are Cannon's.
func (p *preimageStop) matches(step uint64, key [32]byte, value []byte, offset uint64) bool {
	if p.any {
		return true
	}
	prefix := len(p.keyPrefix) > 0 && bytes.HasPrefix(key[:], p.keyPrefix)
	size := p.largerThan != 0 && len(value) > p.largerThan
	switch {
	case prefix && size:
		return true
	case prefix && p.largerThan == 0:
		return offset == p.offset && step >= p.minStep
	case size && len(p.keyPrefix) == 0:
		return true
	}
	return false
}

func parsePreimageStop(ctx *cli.Context) (*preimageStop, error) {
	p := &preimageStop{largerThan: ctx.Int(vmRunStopAtPreimageLargerThanFlag.Name)}
	if p.largerThan < 0 {
		return nil, fmt.Errorf("invalid --%s %d: must not be negative", vmRunStopAtPreimageLargerThanFlag.Name, p.largerThan)
	}
	if ctx.IsSet(vmRunStopAtPreimageFlag.Name) {
		val := ctx.String(vmRunStopAtPreimageFlag.Name)
		bad := func(why string) error {
			return fmt.Errorf("invalid --%s %q: %s; want <key hex prefix>[@<offset>[@<step>]]", vmRunStopAtPreimageFlag.Name, val, why)
		}
		parts := strings.Split(val, "@")
		if len(parts) > 3 {
			return nil, bad("too many parts")
		}
		h := strings.TrimPrefix(strings.TrimPrefix(parts[0], "0x"), "0X")
		if len(h)%2 == 1 {
			h = "0" + h // as Cannon's lenient hex decoding does
		}
		prefix, err := hex.DecodeString(h)
		if err != nil || len(prefix) > 32 {
			return nil, bad("the key prefix is not at most 32 bytes of hex")
		}
		p.keyPrefix = prefix
		if len(parts) >= 2 {
			if p.offset, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
				return nil, bad("invalid offset")
			}
		}
		if len(parts) == 3 {
			if p.minStep, err = strconv.ParseUint(parts[2], 10, 64); err != nil {
				return nil, bad("invalid step")
			}
		}
	} else {
		switch typ := ctx.String(vmRunStopAtPreimageTypeFlag.Name); typ {
		case "local":
			p.keyPrefix = []byte{byte(preimage.LocalKeyType)}
		case "keccak":
			p.keyPrefix = []byte{byte(preimage.Keccak256KeyType)}
		case "sha256":
			p.keyPrefix = []byte{byte(preimage.Sha256KeyType)}
		case "blob":
			p.keyPrefix = []byte{byte(preimage.BlobKeyType)}
		case "precompile":
			p.keyPrefix = []byte{byte(preimage.PrecompileKeyType)}
		case "any":
			p.any = true
		case "":
		default:
			return nil, fmt.Errorf("invalid --%s %q: want local, keccak, sha256, blob, precompile or any", vmRunStopAtPreimageTypeFlag.Name, typ)
		}
	}
	if !p.any && len(p.keyPrefix) == 0 && p.largerThan == 0 {
		return nil, nil
	}
	return p, nil
}

// checkOutputFormat rejects a file name format that does not take exactly the step number.
func checkOutputFormat(flag *cli.StringFlag, format string) error {
	if format == "" || format == "-" {
		return nil
	}
	if name := fmt.Sprintf(format, uint64(0)); strings.Contains(name, "%!") {
		return fmt.Errorf("invalid --%s %q: want a file name with one integer verb for the step, like %q", flag.Name, format, flag.Value)
	}
	return nil
}

func outputName(format string, step uint64) string {
	if format == "" || format == "-" {
		return format
	}
	return fmt.Sprintf(format, step)
}

func runConfigFromCLI(ctx *cli.Context) (*runConfig, error) {
	cfg := &runConfig{
		proofFmt:    ctx.String(vmRunProofFmtFlag.Name),
		snapshotFmt: ctx.String(vmRunSnapshotFmtFlag.Name),
	}
	var err error
	for _, p := range []struct {
		flag *cli.StringFlag
		dst  *stepPattern
	}{
		{vmRunProofAtFlag, &cfg.proofAt},
		{vmRunSnapshotAtFlag, &cfg.snapshotAt},
		{vmRunStopAtFlag, &cfg.stopAt},
		{vmRunInfoAtFlag, &cfg.infoAt},
	} {
		if *p.dst, err = parseStepPattern(p.flag.Name, ctx.String(p.flag.Name)); err != nil {
			return nil, err
		}
	}
	if err := checkOutputFormat(vmRunProofFmtFlag, cfg.proofFmt); err != nil {
		return nil, err
	}
	if err := checkOutputFormat(vmRunSnapshotFmtFlag, cfg.snapshotFmt); err != nil {
		return nil, err
	}
	if cfg.stopAtPreimage, err = parsePreimageStop(ctx); err != nil {
		return nil, err
	}
	if cfg.guestProfile, err = guestProfileFromCLI(ctx); err != nil {
		return nil, err
	}
	cfg.debug, cfg.stats = ctx.Bool(vmRunDebugFlag.Name), ctx.Path(vmRunDebugInfoFlag.Name) != ""
	if cfg.debug && ctx.Path(vmRunMetaFlag.Name) == "" {
		return nil, fmt.Errorf("--%s needs the symbols of --%s", vmRunDebugFlag.Name, vmRunMetaFlag.Name)
	}
	if cfg.meta, err = loadMetadata(ctx, cfg.debug); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadMetadata reads --meta. Cannon requires the default meta.json to exist; here a missing default only
// means no symbol names, unless they are required (--debug).
func loadMetadata(ctx *cli.Context, required bool) (*vm.Metadata, error) {
	path := ctx.Path(vmRunMetaFlag.Name)
	if path == "" {
		return &vm.Metadata{}, nil
	}
	if !ctx.IsSet(vmRunMetaFlag.Name) && !required {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			log.Debug("No metadata file, running without symbol names", "meta", path)
			return &vm.Metadata{}, nil
		}
	}
	var meta vm.Metadata
	err := readInput(path, func(r io.Reader) error {
		dec := json.NewDecoder(r)
		if err := dec.Decode(&meta); err != nil {
			return err
		}
		if _, err := dec.Token(); err != io.EOF {
			return errors.New("unexpected data after the JSON object")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to load metadata %q: %w", path, err)
	}
	return &meta, nil
}

func vmRun(ctx *cli.Context) error {
	cfg, err := runConfigFromCLI(ctx)
	if err != nil {
		return err
	}
	output := ctx.Path(vmRunOutputFlag.Name)
	// The server command is everything after "--" (urfave/cli stops parsing flags there); as in Cannon,
	// without "--" the arguments are the command.
	args := ctx.Args().Slice()
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}

	if ctx.Bool(vmRunPProfCPUFlag.Name) {
		stop, err := startCPUProfile("cpu.pprof")
		if err != nil {
			return err
		}
		defer stop()
	}

	s, err := loadState(ctx.Path(vmRunInputFlag.Name))
	if err != nil {
		return err
	}
	log.Info("Loaded input state", "input", ctx.Path(vmRunInputFlag.Name), "version", s.Version,
		"step", s.Step, "exited", s.Exited)

	sigCtx, stopSignals := signal.NotifyContext(ctx.Context, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	var host *hostProcess
	if len(args) > 0 {
		if host, err = startHost(log.Root(), args); err != nil {
			return err
		}
		stopWatch := context.AfterFunc(sigCtx, host.closeChannels) // unblock a request when interrupted
		defer stopWatch()
	}
	guestOut := newLineLogger(log.Root().With("module", "guest", "stream", "stdout"), "Guest output")
	guestErr := newLineLogger(log.Root().With("module", "guest", "stream", "stderr"), "Guest output")
	oracle := newHostOracle(host)
	r := &runner{cfg: cfg, state: s, vm: vm.NewVM(s, oracle, guestOut, guestErr), oracle: oracle, log: log.Root()}
	if cfg.stats {
		r.vm.EnableStats()
	}
	if cfg.debug {
		r.vm.EnableDebug(cfg.meta, os.Stdout)
	}

	start := time.Now()
	startStep := s.Step
	runErr := r.run(sigCtx)
	elapsed := time.Since(start)
	if cfg.debug {
		r.vm.Traceback(os.Stdout) // at the end, or where the run failed
	}
	guestOut.Flush()
	guestErr.Flush()
	var hostErr error
	if host != nil {
		hostErr = host.stop(sigCtx.Err() != nil)
	}
	if sigCtx.Err() != nil {
		return fmt.Errorf("interrupted at step %d", s.Step)
	}
	if runErr != nil {
		if hostErr != nil && !oracle.reportedHostExit {
			return fmt.Errorf("%w; %w", runErr, hostErr)
		}
		return runErr
	}
	if hostErr != nil {
		return hostErr
	}
	if cfg.guestProfile != nil {
		if err := cfg.guestProfile.write(); err != nil {
			return err
		}
	}

	if err := writeState(output, s); err != nil {
		return fmt.Errorf("failed to write state output: %w", err)
	}
	if path := ctx.Path(vmRunDebugInfoFlag.Name); path != "" {
		info := newDebugInfo(r.vm)
		if err := writeOutput(path, func(w io.Writer) error { return writeJSON(w, info) }); err != nil {
			return fmt.Errorf("failed to write debug info: %w", err)
		}
	}
	steps := s.Step - startStep
	status := "not exited"
	if s.Exited {
		status = fmt.Sprintf("exited, exit code %d", s.ExitCode)
	}
	log.Info("Execution stopped: "+status, "exited", s.Exited, "code", s.ExitCode, "step", s.Step,
		"steps", steps, "ips", units.PerSecond(steps, elapsed), "state", s.Hash().Hex(), "output", output)
	return nil
}

// debugInfo is Cannon's --debug-info file (mipsevm.DebugInfo): every field, with Cannon's meaning (see
// vm.Stats).
type debugInfo struct {
	Pages                        int            `json:"pages"`
	MemoryUsed                   hexutil.Uint64 `json:"memory_used"`
	NumPreimageRequests          int            `json:"num_preimage_requests"`
	TotalPreimageSize            int            `json:"total_preimage_size"`
	TotalSteps                   uint64         `json:"total_steps"`
	InstructionCacheMissCount    uint64         `json:"instruction_cache_miss_count"`
	HighestICacheMissPC          hexutil.Uint64 `json:"highest_icache_miss_pc"`
	RmwSuccessCount              uint64         `json:"rmw_success_count"`
	RmwFailCount                 uint64         `json:"rmw_fail_count"`
	MaxStepsBetweenLLAndSC       uint64         `json:"max_steps_between_ll_and_sc"`
	ReservationInvalidationCount uint64         `json:"reservation_invalidation_count"`
	ForcedPreemptionCount        uint64         `json:"forced_preemption_count"`
	IdleStepCountThread0         uint64         `json:"idle_step_count_thread_0"`
}

func newDebugInfo(m *vm.VM) *debugInfo {
	s := m.State()
	requests, size := m.PreimageStats()
	st := m.Stats()
	return &debugInfo{
		Pages:                        s.Memory.PageCount(),
		MemoryUsed:                   hexutil.Uint64(uint64(s.Memory.PageCount()) * vm.PageSize),
		NumPreimageRequests:          requests,
		TotalPreimageSize:            size,
		TotalSteps:                   s.Step,
		InstructionCacheMissCount:    st.InstructionCacheMisses,
		HighestICacheMissPC:          hexutil.Uint64(st.HighestICacheMissPC),
		RmwSuccessCount:              st.RMWSuccesses,
		RmwFailCount:                 st.RMWFailures,
		MaxStepsBetweenLLAndSC:       st.MaxStepsBetweenLLAndSC,
		ReservationInvalidationCount: st.ReservationInvalidations,
		ForcedPreemptionCount:        st.ForcedPreemptions,
		IdleStepCountThread0:         st.IdleStepsThread0,
	}
}

// runChunk is the most steps run with vm.Run before checking for an interrupt (about 20ms).
const runChunk = 1 << 20

// runner is the run loop of vm run.
type runner struct {
	cfg    *runConfig
	state  *vm.State
	vm     *vm.VM
	oracle *hostOracle
	log    log.Logger

	start     time.Time
	startStep uint64
}

// run steps the state until the program exits, a stop condition holds, the VM fails or ctx ends. Between
// the steps the patterns select, it runs whole stretches with vm.Run, so the patterns cost nothing per
// step; with a --stop-at-preimage* condition it runs step by step (as that checks every step).
func (r *runner) run(ctx context.Context) error {
	s, cfg := r.state, r.cfg
	r.start, r.startStep = time.Now(), s.Step
	prof := cfg.guestProfile
	if prof != nil {
		prof.start(s.Step)
	}
	done := ctx.Done()
	for !s.Exited {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		step := s.Step
		next, ok := r.nextEvent(step)
		if !ok || next > step {
			n := uint64(runChunk)
			if ok {
				n = min(n, next-step)
			}
			if cfg.stopAtPreimage != nil {
				n = 1
			}
			n = prof.limit(step, n)
			if _, err := r.advance(n, false); err != nil {
				return err
			}
			prof.sample(s)
			if r.preimageStopped(step) {
				return nil
			}
			continue
		}
		// At a selected step, in Cannon's order.
		if cfg.infoAt.matches(step) {
			r.logInfo()
		}
		if cfg.stopAt.matches(step) {
			r.log.Info("Reached --stop-at step", "step", step)
			return nil
		}
		if cfg.snapshotAt.matches(step) {
			if err := writeState(outputName(cfg.snapshotFmt, step), s); err != nil {
				return fmt.Errorf("failed to write state snapshot: %w", err)
			}
		}
		if cfg.proofAt.matches(step) {
			wit, err := r.advance(1, true)
			if err != nil {
				return err
			}
			if err := r.writeProof(step, wit); err != nil {
				return err
			}
		} else if _, err := r.advance(1, false); err != nil {
			return err
		}
		prof.sample(s)
		if r.preimageStopped(step) {
			return nil
		}
	}
	return nil
}

// preimageStopped applies --stop-at-preimage* after the step that started at step.
func (r *runner) preimageStopped(step uint64) bool {
	p := r.cfg.stopAtPreimage
	if p == nil {
		return false
	}
	key, value, offset := r.vm.LastPreimage()
	if offset == ^uint64(0) || !p.matches(step, key, value, offset) {
		return false
	}
	r.log.Info("Stopping at pre-image read", "step", step, "key", hexutil.Bytes(key[:]), "offset", offset, "size", len(value))
	return true
}

// nextEvent returns the first step at or after step that one of the patterns selects.
func (r *runner) nextEvent(step uint64) (next uint64, ok bool) {
	for _, p := range [...]stepPattern{r.cfg.infoAt, r.cfg.stopAt, r.cfg.snapshotAt, r.cfg.proofAt} {
		if n, found := p.next(step); found && (!ok || n < next) {
			next, ok = n, true
		}
	}
	return next, ok
}

// advance runs n steps (one step with a witness if proof is set). A pre-image server failure stops the
// VM mid-step with an oracleFailure panic, which becomes the error here; so does any other panic of the
// VM, which would be a bug.
func (r *runner) advance(n uint64, proof bool) (wit *vm.StepWitness, err error) {
	defer func() {
		if p := recover(); p != nil {
			failed := r.state.Step - 1 // the step counter is incremented first
			if f, ok := p.(oracleFailure); ok {
				err = fmt.Errorf("failed at step %d (PC: %08x): %w", failed, r.pc(), f.err)
				return
			}
			r.log.Debug("VM panic", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("failed at step %d (PC: %08x): internal VM error: %v", failed, r.pc(), p)
		}
	}()
	if proof {
		wit, err = r.vm.Step(true)
	} else {
		err = r.vm.Run(n)
	}
	if err != nil {
		err = fmt.Errorf("failed at step %d (PC: %08x): %w", r.state.Step-1, r.pc(), err)
	}
	return wit, err
}

func (r *runner) pc() uint64 {
	if t := r.state.CurrentThread(); t != nil {
		return t.Cpu.PC
	}
	return 0
}

// logInfo logs the progress line of --info-at: Cannon's fields, plus the number of pre-images and hints
// the program asked for. At debug level it also logs the state hash: that merkleizes the memory written
// since the last hash, which at op-challenger's usual --info-at %10000000 would slow the run by tens of
// percent.
func (r *runner) logInfo() {
	s := r.state
	pc := r.pc()
	word := s.Memory.GetWord(pc &^ 7)
	insn := uint32(word >> (32 - (pc&4)*8))
	requests, _ := r.vm.PreimageStats()
	kv := []any{
		"step", s.Step,
		"pc", fmt.Sprintf("%08x", pc),
		"insn", fmt.Sprintf("%08x", insn),
		"ips", units.PerSecond(s.Step-r.startStep, time.Since(r.start)),
		"pages", s.Memory.PageCount(),
		"mem", units.Bytes(uint64(s.Memory.PageCount()) * vm.PageSize),
		"name", r.cfg.meta.LookupSymbol(pc),
		"preimages", requests,
		"hints", r.oracle.nHints,
	}
	if r.log.Enabled(context.Background(), log.LevelDebug) {
		kv = append(kv, "state", s.Hash().Hex())
	}
	r.log.Info("processing", kv...)
}

// stepProof is Cannon's proof file: the step's pre- and post-state hashes, the encoded pre-state, the
// proof data and, when the step read pre-image data, what the oracle contract must hold.
type stepProof struct {
	Step         uint64        `json:"step"`
	Pre          common.Hash   `json:"pre"`
	Post         common.Hash   `json:"post"`
	StateData    hexutil.Bytes `json:"state-data"`
	ProofData    hexutil.Bytes `json:"proof-data"`
	OracleKey    hexutil.Bytes `json:"oracle-key,omitempty"`
	OracleValue  hexutil.Bytes `json:"oracle-value,omitempty"`
	OracleOffset uint64        `json:"oracle-offset,omitempty"`
}

func (r *runner) writeProof(step uint64, wit *vm.StepWitness) error {
	p := &stepProof{
		Step:      step,
		Pre:       wit.StateHash,
		Post:      r.state.Hash(),
		StateData: wit.State,
		ProofData: wit.ProofData,
	}
	if wit.HasPreimage() {
		p.OracleKey = wit.PreimageKey[:]
		p.OracleValue = wit.PreimageValue
		p.OracleOffset = wit.PreimageOffset
	}
	if err := writeOutput(outputName(r.cfg.proofFmt, step), func(w io.Writer) error { return writeJSON(w, p) }); err != nil {
		return fmt.Errorf("failed to write proof data: %w", err)
	}
	return nil
}

// readInput opens a file for reading, gunzipping it if its name ends in .gz.
func readInput(path string, read func(r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		defer gz.Close()
		rd = gz
	}
	return read(rd)
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("failed to create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to start CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
