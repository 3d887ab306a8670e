package sweep_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/sweep"
	"github.com/faultproof/faultproof/rollup"
)

// TestSweepConfigurations decides claims about every named devnet configuration with our program: a
// sample of each (the first and last blocks and a few between, honest and wrong) by default, every claim
// with FAULTPROOF_E2E=full. Every verdict must be the expected one. It logs, per configuration, the blocks,
// the claims swept and the wall times.
func TestSweepConfigurations(t *testing.T) {
	full := os.Getenv("FAULTPROOF_E2E") == "full"
	var (
		mu   sync.Mutex
		rows []string
	)
	start := time.Now()
	for _, n := range devnet.Configurations() {
		t.Run(n.Name, func(t *testing.T) {
			t0 := time.Now()
			d, err := devnet.New(n.Config)
			require.NoError(t, err)
			built := time.Since(t0)
			claims := sweep.Claims(n.Name, d)
			all := len(claims)
			if !full {
				claims = sweep.Sample(claims, 6)
			}
			r, err := sweep.Run(context.Background(), d, claims, []sweep.ClaimRunner{sweep.NewNativeRunner(d, nil)}, nil)
			require.NoError(t, err)
			require.NoError(t, r.Err())
			require.Len(t, r.Results, len(claims))
			mu.Lock()
			defer mu.Unlock()
			rows = append(rows, fmt.Sprintf("%-26s %3d blocks %4d/%-4d claims  built %6s  swept %8s", n.Name, r.Blocks, len(claims), all,
				built.Round(time.Millisecond), r.Took.Round(time.Millisecond)))
		})
	}
	t.Logf("swept %d configurations in %s (full: %v)\n%s", len(rows), time.Since(start).Round(time.Millisecond), full, strings.Join(rows, "\n"))
}

func TestClaims(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 21, Forks: devnet.AllForksAtGenesis()})
	require.NoError(t, err)
	claims := sweep.Claims("x", d)
	// 21 one-block claims and the claims from 10 back at 10, 15, 20 and 21, each honest and wrong.
	require.Len(t, claims, 2*(21+4))
	for i := 0; i < len(claims); i += 2 {
		h, w := claims[i], claims[i+1]
		require.True(t, h.Honest)
		require.False(t, w.Honest)
		require.Equal(t, d.OutputRoot(h.Block), h.Output)
		require.NotEqual(t, h.Output, w.Output)
		require.Equal(t, h.Block, w.Block)
		require.Equal(t, d.OutputRoot(h.Agreed), h.AgreedOutput)
		require.Equal(t, d.L2Block(h.Agreed).Hash(), h.AgreedHash)
		require.Equal(t, d.L1Head().Hash(), h.L1Head)
		require.Contains(t, []uint64{1, sweep.MultiBlockSpan}, h.Block-h.Agreed)
	}
	require.Equal(t, "x 20->21 wrong", claims[41].String())
	require.Equal(t, "x 11->21 honest", claims[48].String())

	s := sweep.Sample(claims, 6)
	require.Len(t, s, 6)
	require.Equal(t, claims[:2], s[:2], "the first pair")
	require.Equal(t, claims[len(claims)-2:], s[4:], "the last pair")
	require.Equal(t, claims, sweep.Sample(claims, 1000))
}

// fixedRunner answers every claim with the same exit code.
type fixedRunner struct {
	name string
	code int
}

func (r fixedRunner) Name() string                                     { return r.name }
func (r fixedRunner) Decide(context.Context, sweep.Claim) (int, error) { return r.code, nil }

// TestRunExceptions: a verdict that is not the expected one fails the sweep unless an exception for that
// runner selects the claim; the report counts what each exception excused.
func TestRunExceptions(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 20, Forks: mustForks(t, "canyon@13")})
	require.NoError(t, err)
	claims := sweep.Claims("alone-canyon", d)
	native := sweep.NewNativeRunner(d, nil)
	valid := fixedRunner{"always-valid", 0}

	r, err := sweep.Run(context.Background(), d, claims, []sweep.ClaimRunner{native, valid}, nil)
	require.NoError(t, err)
	// The native program is right on every claim; the other is wrong on every wrong claim.
	require.Len(t, r.Failures, len(claims)/2)
	require.ErrorContains(t, r.Err(), "always-valid exits 0, want 1")
	require.NotContains(t, r.Err().Error(), "faultproof exits")

	canyon := sweep.Exception{Runner: "always-valid", Select: sweep.AcrossActivation(rollup.Canyon), Reason: "test: Canyon's activation"}
	other := sweep.Exception{Runner: "faultproof", Reason: "test: never needed"}
	exceptions := []sweep.Exception{canyon, other}
	r, err = sweep.Run(context.Background(), d, claims, []sweep.ClaimRunner{native, valid}, exceptions)
	require.NoError(t, err)
	// Claims across block 13: the one-block claim 12->13 and the claims from 10 back at 15 and 20.
	require.Equal(t, 3, r.Excused[&exceptions[0]])
	require.Zero(t, r.Excused[&exceptions[1]], "the native verdicts need no exception")
	require.Len(t, r.Failures, len(claims)/2-3)
	for _, res := range r.Results {
		for _, v := range res.Verdicts {
			if v.Excused != nil {
				require.Equal(t, "always-valid", v.Runner)
				require.False(t, res.Claim.Honest)
				require.True(t, res.Claim.Agreed < 13 && 13 <= res.Claim.Block, res.Claim.String())
			}
		}
	}
	require.Contains(t, r.Summary(), "3 excused")

	n, ok := sweep.ActivationBlock(d, rollup.Canyon)
	require.True(t, ok)
	require.EqualValues(t, 13, n)
	_, ok = sweep.ActivationBlock(d, rollup.Regolith)
	require.False(t, ok, "Regolith is active at genesis")
	after := sweep.AcrossAfterActivation(rollup.Canyon, 1)
	for _, c := range claims {
		require.Equal(t, c.Agreed < 14 && 14 <= c.Block, after(d, c), c.String())
		require.Equal(t, c.Agreed < 13 && 13 <= c.Block, sweep.AcrossActivation(rollup.Canyon)(d, c), c.String())
	}
	require.False(t, sweep.AcrossAfterActivation(rollup.Regolith, 1)(d, claims[0]), "no activation after genesis")

	// A runner that fails to run stops the sweep with its error.
	_, err = sweep.Run(context.Background(), d, claims, []sweep.ClaimRunner{errRunner{}}, nil)
	require.ErrorContains(t, err, "broken on alone-canyon 0->1 honest: no program")
}

type errRunner struct{}

func (errRunner) Name() string { return "broken" }
func (errRunner) Decide(context.Context, sweep.Claim) (int, error) {
	return 0, fmt.Errorf("no program")
}

func mustForks(t *testing.T, s string) devnet.ForkSchedule {
	f, err := devnet.ParseForks(s)
	require.NoError(t, err)
	return f
}

// slowRunner answers like the truth after a pause, and records how many claims it decided at once.
type slowRunner struct {
	mu            sync.Mutex
	running, most int
}

func (r *slowRunner) Name() string { return "slow" }
func (r *slowRunner) Decide(_ context.Context, c sweep.Claim) (int, error) {
	r.mu.Lock()
	r.running++
	r.most = max(r.most, r.running)
	r.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	r.mu.Lock()
	r.running--
	r.mu.Unlock()
	return c.Want(), nil
}

// TestRunParallel: workers decide claims at once, and the report is the one a sequential run gives, in the
// order of the claims, with each runner's time.
func TestRunParallel(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 12, Forks: mustForks(t, "canyon@5")})
	require.NoError(t, err)
	claims := sweep.Claims("alone-canyon", d)
	exceptions := []sweep.Exception{{Runner: "always-valid", Select: sweep.AcrossActivation(rollup.Canyon), Reason: "test"}}
	runners := func(slow *slowRunner) []sweep.ClaimRunner {
		return []sweep.ClaimRunner{sweep.NewNativeRunner(d, nil), slow, fixedRunner{"always-valid", 0}}
	}

	seq, par := &slowRunner{}, &slowRunner{}
	want, err := sweep.Run(context.Background(), d, claims, runners(seq), exceptions)
	require.NoError(t, err)
	got, err := sweep.RunParallel(context.Background(), d, claims, runners(par), exceptions, 3)
	require.NoError(t, err)
	require.Equal(t, 1, seq.most)
	require.Equal(t, 3, par.most, "three workers decide three claims at once")

	require.Len(t, got.Results, len(claims))
	for i, res := range got.Results {
		require.Equal(t, claims[i], res.Claim)
		require.Len(t, res.Verdicts, 3)
		for j, v := range res.Verdicts {
			require.Equal(t, want.Results[i].Verdicts[j].Code, v.Code, "%s %s", res.Claim, v.Runner)
			require.Equal(t, want.Results[i].Verdicts[j].Excused, v.Excused)
		}
	}
	require.Equal(t, want.Failures, got.Failures, "the same failures, in the order of the claims")
	require.NotEmpty(t, got.Failures)
	require.Equal(t, want.Excused[&exceptions[0]], got.Excused[&exceptions[0]])
	require.Equal(t, 3, got.Excused[&exceptions[0]], "the wrong claims 4->5, 0->10 and 2->12")
	require.Greater(t, got.RunnerTime["slow"], time.Duration(len(claims))*5*time.Millisecond)

	// A runner error stops the workers; the report holds the claims decided by then.
	r, err := sweep.RunParallel(context.Background(), d, claims, []sweep.ClaimRunner{errRunner{}}, nil, 2)
	require.ErrorContains(t, err, "broken on alone-canyon")
	require.Empty(t, r.Results)
}
