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
