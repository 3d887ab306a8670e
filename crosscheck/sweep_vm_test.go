package crosscheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
	"github.com/faultproof/faultproof/devnet/sweep"
	"github.com/faultproof/faultproof/vm"
	"github.com/stretchr/testify/require"
)

// vmSample are the devnet claims decided inside the VM, each honest and wrong: one per kind of batch data
// and derivation rule that matter most, none that an exception of the sweep excuses. The rows marked full
// run only with FAULTPROOF_E2E=full (the whole sample took 17 minutes on 2 shared cores, Cannon most of it).
var vmSample = []struct {
	config        string
	agreed, block uint64
	cannon        bool // the honest claim also under Cannon, for both programs
	full          bool
	what          string
}{
	{"default", 46, 47, true, false, "Holocene's first epoch, the batch in a blob"},
	{"faults-holocene", 50, 51, true, true, "a channel posted again after a duplicate frame 0 (Holocene)"},
	{"holocene-edge-invalid-tx", 43, 44, false, false, "the deposit-only replacement of the last block before Holocene"},
	{"batches-span-blobs", 19, 20, false, true, "a span batch in blobs, its frames over three L1 blocks"},
	{"faults-pre-holocene", 20, 21, false, true, "the empty block of a future batch the pre-Holocene batch queue kept"},
	{"random-txs", 18, 28, false, false, "ten blocks of random transactions over Isthmus' (EIP-7702) and Jovian's activations"},
}

// vmProgram is a fault proof program for the VM and the host that serves it.
type vmProgram struct {
	name           string
	prestate, meta string
	// host is the host command that serves the program a claim, offline from datadir, for `vm run -- ...`.
	host func(c sweep.Claim, datadir string) []string
}

// TestSweepSampleInVM decides the claims of vmSample inside the VM with op-program v1.19.0's MIPS64
// client and with ours, each under `faultproof vm run`, served offline by its own host (op-program's and
// `faultproof host --server`) from the datadir it wrote deciding the claim natively online against the
// devnet's servers. Every verdict, native and in the VM, must be the truth. For the honest claims marked
// cannon, both programs also run under Cannon, which must end in our VM's final state (witness and state
// file). Both VMs load op-program's ELF to the same prestate. Without FAULTPROOF_E2E=full it decides part
// of the sample (about 6 minutes on 2 shared cores).
func TestSweepSampleInVM(t *testing.T) {
	skipOpProgramInShort(t)
	opHost, _, opELF := refbuild.OpProgram(t, opProgramVersion)
	fp, cannon := faultproofBinary(t), cannonBinary(t)
	dir := t.TempDir()

	// op-program's prestate, from our load-elf and Cannon's.
	op := vmProgram{name: "op-program", prestate: filepath.Join(dir, "op-prestate.bin.gz"), meta: filepath.Join(dir, "op-meta.json")}
	vmCLI(t, fp, "vm", "load-elf", "--type", vm.StateVersionName, "--path", opELF, "--out", op.prestate, "--meta", op.meta)
	cannonPre := filepath.Join(dir, "op-cannon-prestate.bin.gz")
	vmCLI(t, cannon, "load-elf", "--type", vm.StateVersionName, "--path", opELF, "--out", cannonPre, "--meta", filepath.Join(dir, "op-cannon-meta.json"))
	pre := witnessOf(t, fp, []string{"vm"}, op.prestate)
	cw := witnessOf(t, cannon, nil, cannonPre)
	require.Equal(t, string(pre.raw), string(cw.raw), "load-elf of op-program's client differs from Cannon's")
	t.Logf("op-program %s client: absolute prestate %s (our load-elf and Cannon's)", opProgramVersion, pre.WitnessHash)

	// Ours, built by `faultproof prestate`.
	src, err := filepath.Abs("..")
	require.NoError(t, err)
	ourDir := filepath.Join(dir, "faultproof-prestate")
	ourHash := string(bytes.TrimSpace(vmCLI(t, fp, "prestate", "--out", ourDir, "--src", src)))
	ours := vmProgram{name: "faultproof", prestate: filepath.Join(ourDir, "prestate.bin.gz"), meta: filepath.Join(ourDir, "meta.json")}
	t.Logf("faultproof client: absolute prestate %s", ourHash)

	full := os.Getenv("FAULTPROOF_E2E") == "full"
	for _, s := range vmSample {
		if s.full && !full {
			continue
		}
		t.Run(fmt.Sprintf("%s %d->%d", s.config, s.agreed, s.block), func(t *testing.T) {
			n := serveDevnet(t, s.config, newDevnet(t, s.config))
			opDir, fpDir := filepath.Join(t.TempDir(), "op-program"), filepath.Join(t.TempDir(), "faultproof")
			op.host = func(c sweep.Claim, datadir string) []string {
				return append([]string{opHost, "--server", "--l2.custom"}, n.claimArgs(c, datadir)...)
			}
			ours.host = func(c sweep.Claim, datadir string) []string {
				return append([]string{fp, "host", "--server"}, n.claimArgs(c, datadir)...)
			}
			honest := n.claim(s.agreed, s.block, n.d.OutputRoot(s.block))
			for _, c := range []sweep.Claim{honest, n.claim(s.agreed, s.block, sweep.WrongOutput(honest.Output))} {
				// Natively and online: each host writes the datadir its program is then served from.
				r := runOpProgram(t, opHost, append(n.claimArgs(c, opDir), n.online()...)...)
				require.Equal(t, c.Want(), r.verdict, "%s: op-program natively; log ends:\n%s", c, r.tail())
				r = runFaultproof(t, fp, append(n.claimArgs(c, fpDir), n.online()...)...)
				require.Equal(t, c.Want(), r.verdict, "%s: faultproof natively; log ends:\n%s", c, r.tail())
				for _, p := range []struct {
					prog    vmProgram
					datadir string
				}{{op, opDir}, {ours, fpDir}} {
					final := filepath.Join(t.TempDir(), "final.bin.gz")
					w, took := runInVM(t, fp, []string{"vm"}, p.prog, p.prog.host(c, p.datadir), final)
					require.True(t, w.Exited, "%s: %s under our VM did not exit", c, p.prog.name)
					require.Equal(t, c.Want(), int(w.ExitCode), "%s: %s under our VM: exit code", c, p.prog.name)
					t.Logf("%-40s %-10s our VM:  exit %d, %5dM steps, %s", c, p.prog.name, w.ExitCode, w.Step/1_000_000, took.Round(time.Second))
					if !s.cannon || !c.Honest {
						continue
					}
					cannonFinal := filepath.Join(t.TempDir(), "cannon.bin.gz")
					cw, cannonTook := runInVM(t, cannon, nil, p.prog, p.prog.host(c, p.datadir), cannonFinal)
					require.Equal(t, string(w.raw), string(cw.raw), "%s: %s: final witness differs from Cannon's", c, p.prog.name)
					require.Equal(t, stateDigest(t, final), stateDigest(t, cannonFinal), "%s: %s: final state files differ though the witnesses agree", c, p.prog.name)
					t.Logf("%-40s %-10s Cannon: the same final state %s, %s", c, p.prog.name, w.WitnessHash, cannonTook.Round(time.Second))
				}
			}
		})
	}
}

// runInVM runs program p under a VM's `run` (Cannon's, or ours with prefix "vm") with host serving it, to
// the final state file final, and returns the final state's witness and the run's time.
func runInVM(t *testing.T, bin string, prefix []string, p vmProgram, host []string, final string) (witnessOutput, time.Duration) {
	t.Helper()
	args := append(append([]string{}, prefix...), "run", "--input", p.prestate, "--meta", p.meta, "--output", final, "--info-at", "never", "--")
	start := time.Now()
	vmCLI(t, bin, append(args, host...)...)
	took := time.Since(start)
	return witnessOf(t, bin, prefix, final), took
}
