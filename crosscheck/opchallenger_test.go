package crosscheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
)

// opChallengerVersion is the op-challenger whose code drives faultproof in these tests.
const opChallengerVersion = "v1.19.6"

// opChallengerDriver builds testdata/opchallenger (op-challenger's trace provider, executor and run-trace
// runner behind a small CLI) inside a copy of the optimism module with a registry bundle, which
// op-challenger's packages need (refbuild caches the binary).
func opChallengerDriver(t *testing.T) string {
	t.Helper()
	src := readFile(t, filepath.Join("testdata", "opchallenger", "main.go"))
	return refbuild.Build(t, opChallengerVersion, refbuild.Binary{
		Name:    "opchallenger",
		Package: "./faultproof-xcheck/opchallenger",
		Files:   map[string]string{"faultproof-xcheck/opchallenger/main.go": string(src)},
	})
}

// dropInLinks makes the symlinks cannon, op-program and kona-host to the faultproof binary with its own
// install-links command, and returns their directory.
func dropInLinks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	vmCLI(t, faultproofBinary(t), "install-links", dir)
	return dir
}

// ourPrestate builds the fault proof program's prestate with `faultproof prestate` and returns the state
// file and the absolute prestate hash it printed.
func ourPrestate(t *testing.T) (string, common.Hash) {
	t.Helper()
	src, err := filepath.Abs("..")
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "prestate")
	printed := strings.TrimSpace(string(vmCLI(t, faultproofBinary(t), "prestate", "--out", out, "--src", src)))
	if !regexp.MustCompile(`^0x03[0-9a-f]{62}$`).MatchString(printed) {
		require.FailNow(t, fmt.Sprintf("prestate printed %q", printed))
	}
	return filepath.Join(out, "prestate.bin.gz"), common.HexToHash(printed)
}

// driverTrace is what the driver's trace mode prints.
type driverTrace struct {
	Prestate     common.Hash `json:"prestate"`
	Root         common.Hash `json:"root"`
	Status       uint8       `json:"status"`
	PreimageStep uint64      `json:"preimageStep"`
	StepStateLen int         `json:"stepStateLength"`
	StepPost     common.Hash `json:"stepPostState"`
	StepProofLen int         `json:"stepProofLength"`
	OracleKey    string      `json:"oracleKey"`
	OracleLen    int         `json:"oracleValueLength"`
	Metrics      struct {
		Values map[string]uint64 `json:"values"`
		Runs   int               `json:"runs"`
	} `json:"metrics"`
}

// TestOpChallengerDrivesFaultproof runs op-challenger v1.19.6's own code, its Cannon trace provider over
// the trace/vm Executor, with faultproof answering as cannon (--cannon-bin) and as op-program or
// kona-host (--cannon-server), against the devnet served over RPC: the absolute prestate is ours, the
// root claim of a game on an honest one-block claim ends in a valid state (status 0) and on a wrong one in
// an invalid state (1), op-challenger finds the first keccak pre-image read with Cannon's
// --stop-at-preimage-type and gets its step data (the pre-image from the host's datadir), that step's
// proof checks out with the MIPS64 contract, and the Executor records every VM metric from --debug-info.
func TestOpChallengerDrivesFaultproof(t *testing.T) {
	if testing.Short() {
		t.Skip("builds op-challenger's packages and the program's prestate (minutes the first time)")
	}
	driver := opChallengerDriver(t)
	links := dropInLinks(t)
	prestate, prestateHash := ourPrestate(t)
	n := serveDevnet(t, "default", newDevnet(t, "default"))
	const block = 47 // Holocene, its batch in a blob
	honest := n.d.OutputRoot(block)
	for _, kind := range []string{"op-program", "kona"} {
		server := filepath.Join(links, "op-program")
		if kind == "kona" {
			server = filepath.Join(links, "kona-host")
		}
		for _, claim := range []struct {
			name   string
			root   common.Hash
			status uint8
		}{{"honest", honest, 0}, {"wrong", sweep.WrongOutput(honest), 1}} {
			t.Run(kind+"/"+claim.name, func(t *testing.T) {
				dir := t.TempDir()
				args := []string{"trace", "--kind", kind, "--vm", filepath.Join(links, "cannon"), "--server", server,
					"--prestate", prestate, "--dir", dir, "--l1", n.srv.L1URL(), "--beacon", n.srv.BeaconURL(), "--l2", n.srv.L2URL(),
					// op-challenger requires the L2 genesis for both game types; it passes it to op-program only.
					"--rollup-config", n.rollup, "--l2-genesis", n.l2Genesis, "--l1-genesis", n.l1ChainConfig,
					"--l1-head", n.d.L1Head().Hash().Hex(), "--l2-head", n.d.L2Block(block - 1).Hash().Hex(),
					"--output-root", n.d.OutputRoot(block - 1).Hex(), "--claim", claim.root.Hex(), "--block", fmt.Sprint(block)}
				start := time.Now()
				var res driverTrace
				require.NoError(t, json.Unmarshal(vmCLI(t, driver, args...), &res))
				t.Logf("op-challenger (%s host) in %s: root %s, first keccak pre-image at step %d, metrics %v",
					kind, time.Since(start).Round(time.Millisecond), res.Root, res.PreimageStep, res.Metrics.Values)
				require.Equal(t, prestateHash, res.Prestate, "op-challenger's absolute prestate %s, faultproof prestate printed %s", res.Prestate, prestateHash)
				require.Equal(t, claim.status, res.Status, "root claim %s: status %d, want %d", res.Root, res.Status, claim.status)
				if res.PreimageStep == 0 || !strings.HasPrefix(res.OracleKey, "0x02") || res.OracleLen == 0 {
					require.FailNow(t, fmt.Sprintf("no keccak pre-image step data: %+v", res))
				}
				// The proof file op-challenger read, checked with the MIPS64 contract.
				proof := filepath.Join(dir, "proofs", fmt.Sprintf("%d.json.gz", res.PreimageStep))
				out := string(vmCLI(t, faultproofBinary(t), "vm", "verify", "--proof", proof))
				require.Contains(t, out, "ok post="+res.StepPost.Hex(), "vm verify: %s, want post %s", out, res.StepPost)
				for _, name := range []string{"memory_used", "steps", "instruction_cache_miss_count", "rmw_success_count", "rmw_fail_count",
					"max_steps_between_ll_and_sc", "reservation_invalidation_count", "forced_preemption_count", "idle_step_count_thread_0"} {
					_, ok := res.Metrics.Values[name]
					require.True(t, ok, "metric %s not recorded: %v", name, res.Metrics.Values)
				}
				if res.Metrics.Values["steps"] == 0 || res.Metrics.Values["rmw_success_count"] == 0 || res.Metrics.Runs < 3 {
					require.FailNow(t, fmt.Sprintf("metrics: %+v", res.Metrics))
				}
			})
		}
	}
}

// TestOpChallengerRunTrace runs op-challenger's run-trace runner (cannon and cannon-kona game types) with
// faultproof as VM and host against the devnet, with a rollup node RPC that adds
// optimism_safeHeadAtL1Block to `faultproof devnet serve`'s: it picks a claim from the rollup node, runs
// the whole trace and must report the output root verified, with no failure.
func TestOpChallengerRunTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds op-challenger's packages and the program's prestate (minutes the first time)")
	}
	driver := opChallengerDriver(t)
	links := dropInLinks(t)
	prestate, _ := ourPrestate(t)
	n := serveDevnet(t, "default", newDevnet(t, "default"))
	rollupRPC := serveRollupNode(t, n)
	for _, kind := range []string{"op-program", "kona"} {
		t.Run(kind, func(t *testing.T) {
			server := filepath.Join(links, "op-program")
			if kind == "kona" {
				server = filepath.Join(links, "kona-host")
			}
			args := []string{"runner", "--kind", kind, "--vm", filepath.Join(links, "cannon"), "--server", server,
				"--prestate", prestate, "--dir", t.TempDir(), "--l1", n.srv.L1URL(), "--beacon", n.srv.BeaconURL(), "--l2", n.srv.L2URL(),
				"--rollup-rpc", rollupRPC, "--rollup-config", n.rollup, "--l2-genesis", n.l2Genesis, "--l1-genesis", n.l1ChainConfig}
			var res struct {
				Verified []string `json:"verified"`
				Failures []string `json:"failures"`
				Claim    string   `json:"claim"`
			}
			require.NoError(t, json.Unmarshal(vmCLI(t, driver, args...), &res))
			if len(res.Failures) > 0 || len(res.Verified) == 0 {
				require.FailNow(t, fmt.Sprintf("run-trace: verified %q, failures %q", res.Verified, res.Failures))
			}
			t.Logf("run-trace (%s): %s; the claim: %s", kind, res.Verified[0], res.Claim)
		})
	}
}

// rollupNode is the part of op-node's RPC that op-challenger's run-trace asks: the sync status and
// outputs, forwarded to the devnet's L2 endpoint (which serves them), and the safe head at an L1 block,
// which the devnet server does not serve: the last L2 block whose batch was complete on L1 by then.
type rollupNode struct {
	d  *devnet.Devnet
	l2 *rpc.Client
}

func (r *rollupNode) SyncStatus(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	err := r.l2.CallContext(ctx, &out, "optimism_syncStatus")
	return out, err
}

func (r *rollupNode) OutputAtBlock(ctx context.Context, n hexutil.Uint64) (json.RawMessage, error) {
	var out json.RawMessage
	err := r.l2.CallContext(ctx, &out, "optimism_outputAtBlock", n)
	return out, err
}

type blockID struct {
	Hash   common.Hash `json:"hash"`
	Number uint64      `json:"number"`
}

type safeHeadResponse struct {
	L1Block  blockID `json:"l1Block"`
	SafeHead blockID `json:"safeHead"`
}

func (r *rollupNode) SafeHeadAtL1Block(l1 hexutil.Uint64) (*safeHeadResponse, error) {
	if uint64(l1) > r.d.L1Head().NumberU64() {
		return nil, fmt.Errorf("safe head at L1 block %d not found", l1)
	}
	safe := uint64(0)
	for n := uint64(1); n <= r.d.L2Head().NumberU64(); n++ {
		if r.d.Batch(n).LastL1 <= uint64(l1) {
			safe = n
		}
	}
	if safe == 0 {
		return nil, fmt.Errorf("safe head at L1 block %d not found", l1)
	}
	l1b := r.d.L1Block(uint64(l1))
	return &safeHeadResponse{L1Block: blockID{l1b.Hash(), l1b.NumberU64()}, SafeHead: blockID{r.d.L2Block(safe).Hash(), safe}}, nil
}

func serveRollupNode(t *testing.T, n *servedDevnet) string {
	t.Helper()
	l2, err := rpc.Dial(n.srv.L2URL())
	require.NoError(t, err)
	t.Cleanup(l2.Close)
	srv := rpc.NewServer()
	require.NoError(t, srv.RegisterName("optimism", &rollupNode{d: n.d, l2: l2}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); srv.Stop() })
	return "http://" + ln.Addr().String()
}
