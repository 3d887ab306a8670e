package crosscheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-service/ioutil"
	"github.com/ethereum-optimism/optimism/op-service/jsonutil"

	"github.com/faultproof/faultproof/vm"
)

// buildGuests compiles guest programs of ../vm/testdata/guest into a temporary directory of the test.
func buildGuests(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	args := []string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "vm", "testdata", "guest")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "building guests: %s", out)
	return dir
}

// newPairAt is newPair for a guest program at path, without pre-images.
func newPairAt(tb testing.TB, path string) *pair {
	cs, meta := cannonLoad(tb, path)
	ours, _ := ourLoad(tb, path)
	p := &pair{cs: cs, os: ours, cOracle: vm.NewMemoryOracle(), ourOracl: vm.NewMemoryOracle()}
	p.cvm = cs.CreateVM(log.NewLogger(log.DiscardHandler()), p.cOracle, &p.cOut, io.Discard, meta)
	p.ovm = vm.NewVM(ours, p.ourOracl, &p.oOut, io.Discard)
	return p
}

// compareLoad requires load-elf to give the same state (witness, hash, binary and JSON encodings) and
// the same meta.json in both VMs.
func compareLoad(t *testing.T, path string) {
	t.Helper()
	cs, cmeta := cannonLoad(t, path)
	ours, ometa := ourLoad(t, path)
	cw, ch := cs.EncodeWitness()
	ow, oh := ours.EncodeWitness()
	require.Equal(t, ow, cw, "load-elf state differs: cannon %s, ours %s", ch, oh)
	require.Equal(t, oh, ch, "load-elf state differs: cannon %s, ours %s", ch, oh)
	t.Logf("load-elf state hash %s (%d pages)", oh, ours.Memory.PageCount())
	require.Equal(t, serializeOurs(t, ours), serializeCannon(t, cs), "load-elf binary state differs")
	cj, err := json.Marshal(cs.FPVMState)
	require.NoError(t, err)
	oj, err := json.Marshal(ours)
	require.NoError(t, err)
	require.Equal(t, oj, cj, "load-elf JSON state differs")
	metaPath := filepath.Join(t.TempDir(), "meta.json")
	require.NoError(t, jsonutil.WriteJSON(cmeta, ioutil.ToAtomicFile(metaPath, 0o644)))
	cm, _ := os.ReadFile(metaPath)
	var om bytes.Buffer
	require.NoError(t, ometa.WriteJSON(&om))
	require.Equal(t, om.Bytes(), cm, "meta.json differs")
}

// guestCase is a guest program of the differential tests and how it ends.
type guestCase struct {
	name    string
	exit    uint8  // exit code, when it exits
	failure string // the error both VMs stop with, when it does not exit
	slow    bool   // over ~5M steps: skipped with -short
}

var guestCases = []guestCase{
	{name: "exit0", exit: 0},
	{name: "exit1", exit: 1},
	{name: "exit2", exit: 2},
	{name: "exit3", exit: 3},
	{name: "panic", exit: 2},
	{name: "mutex"},
	{name: "timers"},
	{name: "badsyscall", failure: "unrecognized syscall: 5108"},
	{name: "badinsn", failure: "invalid instruction"},
	{name: "maps", slow: true},
	{name: "bigint", slow: true},
	{name: "hashes", slow: true},
	{name: "gcchurn", slow: true},
}

// TestGuestsMatchCannon runs the guest programs of the VM's acceptance tests (synchronization, timers,
// maps, math/big, hashing, GC churn, exit codes, a panic, an unknown syscall, an invalid instruction) in
// both VMs: the load-elf states must be identical; our fast path (vm.VM.Run) must reach Cannon's state
// hash at checkpoints up to the end; stepping both with proofs in windows at the start, the middle and
// the end and at syscalls must give identical witnesses; and the end (step count, state, exit code,
// stdout, or the error of the step both fail at) must be the same.
func TestGuestsMatchCannon(t *testing.T) {
	var names []string
	for _, c := range guestCases {
		names = append(names, c.name)
	}
	dir := buildGuests(t, names...)
	for _, c := range guestCases {
		t.Run(c.name, func(t *testing.T) {
			if c.slow && testing.Short() {
				t.Skip("slow")
			}
			path := filepath.Join(dir, c.name)
			compareLoad(t, path)

			// The end, from a run of ours alone.
			end, _ := ourLoad(t, path)
			endErr := vm.NewVM(end, vm.NewMemoryOracle(), nil, nil).Run(0)
			last := end.Step // the step count at exit, or the step after the failing one
			require.Equal(t, (endErr != nil), (c.failure != ""), "our run ended with %v at step %d", endErr, last)

			// Our fast path against Cannon at checkpoints.
			checkpoints := []uint64{1, 10, 1000, 100_000, 250_000}
			for n := uint64(1_000_000); n < last; n += 1_000_000 {
				checkpoints = append(checkpoints, n)
			}
			checkpoints = append(checkpoints, last-1)
			slices.Sort(checkpoints)
			checkpoints = slices.Compact(checkpoints)
			p := newPairAt(t, path)
			for _, cp := range checkpoints {
				if cp >= last {
					break
				}
				require.NoError(t, p.ovm.Run(cp-p.os.Step), "our run to step %d", cp)
				for p.cs.GetStep() < cp {
					_, err := cannonStep(p.cvm, false)
					require.NoError(t, err, "cannon step %d", p.cs.GetStep())
				}
				ch, oh := p.hashes()
				require.Equal(t, oh, ch, "step %d: state hash cannon %x, ours %x (at step %d)", cp, ch, oh, p.os.Step)
				require.Equal(t, cp, p.os.Step, "step %d: state hash cannon %x, ours %x (at step %d)", cp, ch, oh, p.os.Step)
			}

			// Both VMs step by step with proofs.
			p = newPairAt(t, path)
			windows := [][2]uint64{{0, 300}, {last / 2, last/2 + 300}, {max(last, 1000) - 1000, last}}
			compared, syscalls := 0, 0
			var cErr, oErr error
			for step := uint64(0); !p.os.Exited; step++ {
				proof := false
				for _, w := range windows {
					proof = proof || step >= w[0] && step < w[1]
				}
				num, isSys := nextSyscall(p.os)
				if isSys && (syscalls < 300 || syscalls%50 == 0) {
					proof = true
				}
				if isSys {
					syscalls++
				}
				if step == last-1 && c.failure != "" {
					proof = false // the failing step has no post-state to prove
				}
				cWit, cStepErr := cannonStep(p.cvm, proof)
				oWit, oStepErr := p.ovm.Step(proof)
				cErr, oErr = cStepErr, oStepErr
				if cErr != nil || oErr != nil {
					break
				}
				if !proof {
					continue
				}
				require.Equal(t, oWit.State, cWit.State, "step %d: witness state differs", step)
				require.Equal(t, oWit.StateHash, cWit.StateHash, "step %d: witness state differs", step)
				// As in TestStepWitnesses: the second memory proof may be stale in Cannon's witness of
				// a step that does not use it.
				n := len(oWit.ProofData)
				if !(isSys && num == 5222) {
					n -= vm.MemProofSize
				}
				require.Len(t, cWit.ProofData, len(oWit.ProofData), "step %d: proof data differs (first difference at byte %d)", step, firstDiff(cWit.ProofData, oWit.ProofData))
				require.Equal(t, oWit.ProofData[:n], cWit.ProofData[:n], "step %d: proof data differs (first difference at byte %d)", step, firstDiff(cWit.ProofData, oWit.ProofData))
				require.Equal(t, oWit.HasPreimage(), cWit.HasPreimage(), "step %d: pre-image witness differs", step)
				compared++
			}

			// The end.
			if c.failure != "" {
				require.Error(t, cErr, "cannon error, ours %v; want both %q", oErr, c.failure)
				require.Error(t, oErr, "cannon error %v, ours; want both %q", cErr, c.failure)
				require.Contains(t, cErr.Error(), c.failure, "cannon error %v, ours %v; want both %q", cErr, oErr, c.failure)
				require.Contains(t, oErr.Error(), c.failure, "cannon error %v, ours %v; want both %q", cErr, oErr, c.failure)
				require.False(t, !errors.Is(oErr, vm.ErrUnrecognizedSyscall) && !errors.Is(oErr, vm.ErrInvalidInstruction), "our error %v", oErr)
				require.Equal(t, last, p.cs.GetStep(), "failed at step %d in cannon, %d in ours, want %d", p.cs.GetStep()-1, p.os.Step-1, last-1)
				require.Equal(t, last, p.os.Step, "failed at step %d in cannon, %d in ours, want %d", p.cs.GetStep()-1, p.os.Step-1, last-1)
				require.False(t, p.cs.GetExited(), "failed at step %d in cannon, %d in ours, want %d", p.cs.GetStep()-1, p.os.Step-1, last-1)
				require.False(t, p.os.Exited, "failed at step %d in cannon, %d in ours, want %d", p.cs.GetStep()-1, p.os.Step-1, last-1)
			} else {
				require.NoError(t, cErr, "cannon error, ours %v", oErr)
				require.NoError(t, oErr, "cannon error %v, ours", cErr)
				require.True(t, p.cs.GetExited(), "cannon: %d steps, exit %d; ours: %d steps, exit %d; want %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode, last, c.exit)
				require.Equal(t, last, p.cs.GetStep(), "cannon: %d steps, exit %d; ours: %d steps, exit %d; want %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode, last, c.exit)
				require.Equal(t, last, p.os.Step, "cannon: %d steps, exit %d; ours: %d steps, exit %d; want %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode, last, c.exit)
				require.Equal(t, c.exit, p.cs.GetExitCode(), "cannon: %d steps, exit %d; ours: %d steps, exit %d; want %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode, last, c.exit)
				require.Equal(t, c.exit, p.os.ExitCode, "cannon: %d steps, exit %d; ours: %d steps, exit %d; want %d steps, exit %d", p.cs.GetStep(), p.cs.GetExitCode(), p.os.Step, p.os.ExitCode, last, c.exit)
				ch, oh := p.hashes()
				require.Equal(t, oh, ch, "final state hash cannon %x, ours %x, our fast path %x", ch, oh, end.Hash())
				require.False(t, oh != end.Hash(), "final state hash cannon %x, ours %x, our fast path %x", ch, oh, end.Hash())
				require.Equal(t, serializeOurs(t, p.os), serializeCannon(t, p.cs), "final serialized states differ")
			}
			require.Equal(t, p.oOut.String(), p.cOut.String(), "stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
			require.NotEqual(t, 0, p.oOut.Len(), "stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
			how := fmt.Sprintf("exit code %d, final state %x", p.os.ExitCode, p.os.Hash())
			if oErr != nil {
				how = fmt.Sprintf("both failed at step %d: cannon %q, ours %q", last-1, cErr, oErr)
			}
			t.Logf("%s: %d steps, %s; state hashes identical at %d checkpoints; %d proofs identical (%d syscalls)",
				c.name, last, how, len(checkpoints), compared, syscalls)
		})
	}
}

// TestLongRun runs the longrun guest (over 200 million steps) in both VMs, ours with its fast path and
// Cannon step by step, and compares the state hashes and a step proof at intermediate steps and the end:
// step count, final state, exit code and stdout. It is not run with -short:
//
//	cd crosscheck && go test -run TestLongRun -timeout 30m -v .
func TestLongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs over 200 million steps in each VM")
	}
	path := filepath.Join(buildGuests(t, "longrun"), "longrun")
	compareLoad(t, path)
	p := newPairAt(t, path)
	var ourTime, cannonTime time.Duration
	checkpoints := []uint64{1_000_000, 50_000_000, 100_000_000, 150_000_000, 200_000_000}
	for _, cp := range append(checkpoints, 0) {
		start := time.Now()
		if cp == 0 {
			require.NoError(t, p.ovm.Run(0), "ours: step %d", p.os.Step)
		} else if err := p.ovm.Run(cp - p.os.Step); err != nil {
			require.FailNow(t, fmt.Sprintf("ours: step %d: %v", p.os.Step, err))
		}
		ourTime += time.Since(start)
		start = time.Now()
		for !p.cs.GetExited() && (cp == 0 || p.cs.GetStep() < cp) {
			_, err := p.cvm.Step(false)
			require.NoError(t, err, "cannon: step %d", p.cs.GetStep())
		}
		cannonTime += time.Since(start)
		ch, oh := p.hashes()
		require.Equal(t, oh, ch, "step %d: cannon state %x at step %d, ours %x at step %d", cp, ch, p.cs.GetStep(), oh, p.os.Step)
		require.Equal(t, p.os.Step, p.cs.GetStep(), "step %d: cannon state %x at step %d, ours %x at step %d", cp, ch, p.cs.GetStep(), oh, p.os.Step)
		if cp == 0 {
			break
		}
		// The proof of the step from the checkpoint.
		cw, err := cannonStep(p.cvm, true)
		require.NoError(t, err)
		ow, err := p.ovm.Step(true)
		require.NoError(t, err)
		n := len(ow.ProofData) - vm.MemProofSize // see TestStepWitnesses on the second memory proof
		require.Equal(t, ow.State, cw.State, "step %d: proofs differ", cp)
		require.Equal(t, ow.ProofData[:n], cw.ProofData[:n], "step %d: proofs differ", cp)
		t.Logf("step %d: state %x and the step's proof identical", cp, oh)
	}
	require.True(t, p.os.Exited, "exited %v with code %d (cannon %d) after %d steps", p.os.Exited, p.os.ExitCode, p.cs.GetExitCode(), p.os.Step)
	require.Equal(t, uint8(0), p.os.ExitCode, "exited %v with code %d (cannon %d) after %d steps", p.os.Exited, p.os.ExitCode, p.cs.GetExitCode(), p.os.Step)
	require.Equal(t, uint8(0), p.cs.GetExitCode(), "exited %v with code %d (cannon %d) after %d steps", p.os.Exited, p.os.ExitCode, p.cs.GetExitCode(), p.os.Step)
	require.GreaterOrEqual(t, p.os.Step, uint64(200_000_000), "exited %v with code %d (cannon %d) after %d steps", p.os.Exited, p.os.ExitCode, p.cs.GetExitCode(), p.os.Step)
	require.Equal(t, serializeOurs(t, p.os), serializeCannon(t, p.cs), "final serialized states differ")
	require.Equal(t, p.oOut.String(), p.cOut.String(), "stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
	require.True(t, strings.HasPrefix(p.oOut.String(), "rounds=5 checksum="), "stdout cannon %q, ours %q", p.cOut.String(), p.oOut.String())
	t.Logf("longrun: %d steps, exit code %d, final state %x, stdout %q", p.os.Step, p.os.ExitCode, p.os.Hash(), strings.TrimSpace(p.oOut.String()))
	t.Logf("time: ours %v (%.1fM steps/s, fast path), cannon %v (%.1fM steps/s, library Step loop), checkpoint proofs excluded",
		ourTime, float64(p.os.Step)/ourTime.Seconds()/1e6, cannonTime, float64(p.os.Step)/cannonTime.Seconds()/1e6)
}
