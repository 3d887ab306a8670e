package crosscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
)

// opProgramVersion is the last optimism release with op-program's Go sources.
const opProgramVersion = "v1.19.0"

// skipOpProgramInShort skips tests that build op-program: minutes the first time (the binaries are cached
// for later runs, see refbuild), too long for CI's -short run.
func skipOpProgramInShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds op-program " + opProgramVersion + " (about 7 minutes on 2 cores the first time, cached after)")
	}
}

// servedDevnet is a devnet served over RPC in this process (what `faultproof devnet serve` serves), with
// its configs as files in the shapes op-program's host reads (--rollup.config, --l2.genesis,
// --l1.chainconfig).
type servedDevnet struct {
	name                             string // the configuration's name
	d                                *devnet.Devnet
	srv                              *devnet.Server
	rollup, l2Genesis, l1ChainConfig string
}

// newDevnet builds the named devnet configuration.
func newDevnet(t testing.TB, name string) *devnet.Devnet {
	t.Helper()
	n, err := devnet.Configuration(name)
	require.NoError(t, err)
	d, err := devnet.New(n.Config)
	require.NoError(t, err, "devnet %s", name)
	return d
}

// serveDevnet serves d, named name, until the test ends.
func serveDevnet(t testing.TB, name string, d *devnet.Devnet) *servedDevnet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	dir := t.TempDir()
	n := &servedDevnet{name: name, d: d, srv: srv, rollup: filepath.Join(dir, "rollup.json"),
		l2Genesis: filepath.Join(dir, "genesis-l2.json"), l1ChainConfig: filepath.Join(dir, "genesis-l1.json")}
	for path, v := range map[string]any{
		n.rollup:        d.Rollup(),
		n.l2Genesis:     map[string]any{"config": d.L2ChainConfig()},
		n.l1ChainConfig: map[string]any{"config": d.L1ChainConfig()},
	} {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	return n
}

// claim is the claim that block's output root is output, from the agreed block, with the devnet's L1
// head.
func (n *servedDevnet) claim(agreed, block uint64, output common.Hash) sweep.Claim {
	return sweep.Claim{Config: n.name, Agreed: agreed, Block: block, Honest: output == n.d.OutputRoot(block),
		L1Head: n.d.L1Head().Hash(), AgreedHash: n.d.L2Block(agreed).Hash(), AgreedOutput: n.d.OutputRoot(agreed), Output: output}
}

// claimArgs are the host flags, the same for op-program's host and ours, of claim c, from datadir.
func (n *servedDevnet) claimArgs(c sweep.Claim, datadir string) []string {
	return []string{"--rollup.config", n.rollup, "--l2.genesis", n.l2Genesis, "--l1.chainconfig", n.l1ChainConfig,
		"--l1.head", c.L1Head.Hex(), "--l2.head", c.AgreedHash.Hex(), "--l2.outputroot", c.AgreedOutput.Hex(),
		"--l2.claim", c.Output.Hex(), "--l2.blocknumber", fmt.Sprint(c.Block), "--datadir", datadir}
}

// oneBlockArgs are the host flags of the one-block claim that block's output root is output.
func (n *servedDevnet) oneBlockArgs(block uint64, output common.Hash, datadir string) []string {
	return n.claimArgs(n.claim(block-1, block, output), datadir)
}

// online are the flags that make a host fetch from the served devnet.
func (n *servedDevnet) online() []string {
	return []string{"--l1", n.srv.L1URL(), "--l2", n.srv.L2URL(), "--l1.beacon", n.srv.BeaconURL()}
}

// hostRun is one run of a host binary: its verdict (0 valid, 1 invalid, 2 no verdict) and its log.
type hostRun struct {
	verdict int
	log     string
	took    time.Duration
}

// tail is the end of the run's log, for failure messages, after the lines from the first error or panic
// if it comes earlier: a panic's goroutine dump ends with the main goroutine, far from the panic.
func (r hostRun) tail() string {
	lines := strings.Split(strings.TrimSpace(r.log), "\n")
	end := max(0, len(lines)-15)
	out := strings.Join(lines[end:], "\n")
	first := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.Contains(l, "lvl=eror") || strings.Contains(l, "lvl=crit")
	})
	if first >= 0 && first < end {
		out = strings.Join(lines[first:min(first+10, end)], "\n") + "\n...\n" + out
	}
	return out
}

// execHost runs a host binary to its end; an error is a failure to run it, not an exit code.
func execHost(ctx context.Context, bin string, args ...string) (hostRun, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := hostRun{log: out.String(), took: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: %w", filepath.Base(bin), ctx.Err())
	case err == nil:
	case errors.As(err, &exitErr):
		r.verdict = exitErr.ExitCode()
	default:
		return r, fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return r, nil
}

func runHost(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	r, err := execHost(context.Background(), bin, args...)
	require.NoError(t, err)
	return r
}

// runFaultproof runs `faultproof run`: exit 0 valid, 1 invalid, 2 no verdict.
func runFaultproof(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	return runHost(t, bin, append([]string{"run"}, args...)...)
}

// execOpProgram runs op-program's host on a custom chain, with its client in process or the program of
// --exec, and reads its verdict. The host exits 1 on any error (and 2 when its client panics), so the
// verdict is 1 only when the log says the program found the claim invalid (op-program's client in process)
// or a child exited 1, and 2 for any other failure. Exiting 0 without verifying the claim is an error.
func execOpProgram(ctx context.Context, bin string, args ...string) (hostRun, error) {
	r, err := execHost(ctx, bin, append([]string{"--l2.custom"}, args...)...)
	if err != nil {
		return r, err
	}
	invalid := strings.Contains(r.log, "invalid claim") || strings.Contains(r.log, "failed to wait for child program: exit status 1")
	switch {
	case r.verdict == 0 && !strings.Contains(r.log, "Claim successfully verified"):
		return r, fmt.Errorf("op-program exited 0 without verifying the claim:\n%s", r.tail())
	case r.verdict == 1 && !invalid:
		r.verdict = 2
	case r.verdict > 1:
		r.verdict = 2
	}
	return r, nil
}

func runOpProgram(t *testing.T, bin string, args ...string) hostRun {
	t.Helper()
	r, err := execOpProgram(context.Background(), bin, args...)
	require.NoError(t, err)
	return r
}

// opProgramRunner decides claims about a served devnet with op-program's host and its client in process,
// online against the devnet's servers, as a sweep.ClaimRunner. Claims reuse datadirs: the L1 data, blobs
// and L2 state that claims of one chain have in common are fetched once (a claim from an empty datadir
// writes ~100k preimages, most of them blob field elements, one file each, and takes 15-80 s; with the
// chain's data there, 1-5 s). Two runs never share a datadir at once: op-program's prefetcher assumes that
// it alone fills its store (a key it finds means its hint's data is there), and runs sharing one failed on
// the first claims of a chain with a panic (exit 2). So the runner keeps one datadir per concurrent run.
type opProgramRunner struct {
	bin      string
	n        *servedDevnet
	datadirs chan string // the datadirs not in use

	mu   sync.Mutex
	odd  map[string]hostRun // the runs whose verdict was not the expected one, by claim
	runs int
}

// newOpProgramRunner returns a runner for up to workers claims at once, with its datadirs in dir.
func newOpProgramRunner(bin string, n *servedDevnet, dir string, workers int) *opProgramRunner {
	r := &opProgramRunner{bin: bin, n: n, datadirs: make(chan string, workers), odd: map[string]hostRun{}}
	for i := range workers {
		r.datadirs <- filepath.Join(dir, fmt.Sprintf("datadir-%d", i))
	}
	return r
}

func (r *opProgramRunner) Name() string { return "op-program" }

func (r *opProgramRunner) Decide(ctx context.Context, c sweep.Claim) (int, error) {
	var datadir string
	select {
	case datadir = <-r.datadirs:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	run, err := execOpProgram(ctx, r.bin, append(r.n.claimArgs(c, datadir), r.n.online()...)...)
	r.datadirs <- datadir
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs++
	if run.verdict != c.Want() {
		r.odd[c.String()] = run
	}
	return run.verdict, nil
}

// oddRun is op-program's run on c, if its verdict was not the expected one.
func (r *opProgramRunner) oddRun(c sweep.Claim) (hostRun, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run, ok := r.odd[c.String()]
	return run, ok
}
