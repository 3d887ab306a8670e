// Package sweep decides many claims about one devnet with one or more fault proof programs and compares
// their verdicts with the truth: a claim whose output root is the devnet's is valid (exit code 0), one
// with a wrong output root is invalid (1). It sits after the devnet (which makes the chain and the
// preimages) and before a report.
//
// Claims lists every one-block claim of a devnet (block N-1 agreed, N claimed) and multi-block claims
// (the agreed block ten back), each with the honest and a wrong output root. A ClaimRunner decides one
// claim: NativeRunner runs our program in this process from the devnet's preimages; crosscheck adds
// op-program, run against the devnet served over RPC, as another runner. A verdict that is not the
// expected one fails the sweep unless an Exception, a row of a table with a reason, selects the claim for
// that runner.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/rollup"
)

// A Claim is one dispute about a devnet: the output root of Block, starting from the agreed block, with the
// devnet's L1 head. It carries everything a program's host needs besides the chain configs.
type Claim struct {
	Config       string      // the devnet configuration's name
	Agreed       uint64      // the agreed L2 block
	Block        uint64      // the claimed L2 block
	Honest       bool        // Output is the devnet's output root of Block (else a wrong one)
	L1Head       common.Hash // the devnet's L1 head
	AgreedHash   common.Hash // the agreed block's hash (the host's --l2.head)
	AgreedOutput common.Hash // the agreed block's output root (--l2.outputroot)
	Output       common.Hash // the claimed output root (--l2.claim)
}

// Want is the exit code a correct program gives: 0 for the honest output root, 1 for a wrong one.
func (c Claim) Want() int {
	if c.Honest {
		return 0
	}
	return 1
}

func (c Claim) String() string {
	kind := "wrong"
	if c.Honest {
		kind = "honest"
	}
	return fmt.Sprintf("%s %d->%d %s", c.Config, c.Agreed, c.Block, kind)
}

// WrongOutput is the output root a dishonest claim makes of an honest one: its last bit flipped.
func WrongOutput(honest common.Hash) common.Hash {
	honest[31] ^= 1
	return honest
}

// MultiBlockSpan is how far back the agreed block of a multi-block claim is.
const MultiBlockSpan = 10

// Claims lists the claims about devnet d, named config: for every block N from 1 to the head the one-block
// claim from N-1, and for every fifth block from MultiBlockSpan on (and the head) the claim from
// N-MultiBlockSpan; each with the honest output root and a wrong one, honest first.
func Claims(config string, d *devnet.Devnet) []Claim {
	head := d.L2Head().NumberU64()
	var out []Claim
	add := func(agreed, block uint64) {
		honest := Claim{
			Config: config, Agreed: agreed, Block: block, Honest: true, L1Head: d.L1Head().Hash(),
			AgreedHash: d.L2Block(agreed).Hash(), AgreedOutput: d.OutputRoot(agreed), Output: d.OutputRoot(block),
		}
		wrong := honest
		wrong.Honest, wrong.Output = false, WrongOutput(honest.Output)
		out = append(out, honest, wrong)
	}
	for n := uint64(1); n <= head; n++ {
		add(n-1, n)
	}
	for n := uint64(MultiBlockSpan); n <= head; n++ {
		if n%5 == 0 || n == head {
			add(n-MultiBlockSpan, n)
		}
	}
	return out
}

// Sample picks about n of claims, spread evenly over the list, keeping honest and wrong claims of a pair
// together, always with the first and the last pair.
func Sample(claims []Claim, n int) []Claim {
	pairs := len(claims) / 2
	if n/2 >= pairs || n < 2 {
		return claims
	}
	k := max(n/2, 2)
	var out []Claim
	for i := range k {
		p := i * (pairs - 1) / (k - 1)
		out = append(out, claims[2*p], claims[2*p+1])
	}
	return out
}

// A ClaimRunner decides claims about one devnet with a fault proof program.
type ClaimRunner interface {
	// Name names the runner in reports and exceptions.
	Name() string
	// Decide runs the program on the claim and returns its exit code: 0 valid, 1 invalid, 2 no verdict.
	// err is for failures to run it at all (the sweep stops).
	Decide(ctx context.Context, c Claim) (exitCode int, err error)
}

// A Selector picks claims about a devnet.
type Selector func(d *devnet.Devnet, c Claim) bool

// AcrossActivation selects the claims whose blocks (after the agreed block, up to the claimed one) include
// the activation block of fork f, if the devnet activates f after genesis.
func AcrossActivation(f rollup.Fork) Selector {
	return AcrossAfterActivation(f, 0)
}

// AcrossAfterActivation selects the claims whose blocks include the k-th block after the activation block
// of fork f (0: the activation block), if the devnet activates f after genesis.
func AcrossAfterActivation(f rollup.Fork, k uint64) Selector {
	return func(d *devnet.Devnet, c Claim) bool {
		n, ok := ActivationBlock(d, f)
		return ok && c.Agreed < n+k && n+k <= c.Block
	}
}

// ActivationBlock is the first L2 block of d with fork f active, if f activates after genesis.
func ActivationBlock(d *devnet.Devnet, f rollup.Fork) (uint64, bool) {
	r := d.Rollup()
	at := r.ActivationTime(f)
	if at == nil || *at <= r.Genesis.L2Time {
		return 0, false
	}
	return (*at - r.Genesis.L2Time + r.BlockTime - 1) / r.BlockTime, true
}

// Across selects the claims whose blocks include block n.
func Across(n uint64) Selector {
	return func(_ *devnet.Devnet, c Claim) bool { return c.Agreed < n && n <= c.Block }
}

// An Exception excuses a runner's verdicts that are not the expected ones on the claims it selects, for a
// reason: a known bug of that program, or a version difference. Each exception is a row of a table, with
// its reason; there are no silent skips.
type Exception struct {
	Runner string   // the runner it excuses ("" any)
	Config string   // the configuration ("" any)
	Select Selector // the claims (nil: all of the configuration)
	Reason string
}

func (e *Exception) matches(runner string, d *devnet.Devnet, c Claim) bool {
	return (e.Runner == "" || e.Runner == runner) && (e.Config == "" || e.Config == c.Config) && (e.Select == nil || e.Select(d, c))
}

// A Verdict is one runner's answer on one claim.
type Verdict struct {
	Runner  string
	Code    int
	Took    time.Duration
	Excused *Exception // the exception that excuses a verdict that is not the expected one
}

// A Result is a claim and every runner's verdict on it.
type Result struct {
	Claim    Claim
	Verdicts []Verdict
}

// A Report is the outcome of a sweep of one configuration.
type Report struct {
	Config     string
	Blocks     uint64 // L2 blocks of the devnet after genesis
	Results    []Result
	Took       time.Duration
	RunnerTime map[string]time.Duration // the time each runner spent deciding, summed over its claims
	Failures   []string                 // verdicts not the expected ones and not excused, one line each
	Excused    map[*Exception]int       // the verdicts each exception excused
}

// Err is nil if every verdict was the expected one or excused.
func (r *Report) Err() error {
	if len(r.Failures) == 0 {
		return nil
	}
	return fmt.Errorf("sweep of %s: %d verdicts are not the expected ones:\n%s", r.Config, len(r.Failures), strings.Join(r.Failures, "\n"))
}

// Summary is a one-line account of the sweep: claims, blocks, time, excused verdicts and failures.
func (r *Report) Summary() string {
	excused := 0
	for _, n := range r.Excused {
		excused += n
	}
	return fmt.Sprintf("%s: %d claims on %d blocks in %s, %d excused, %d failed", r.Config, len(r.Results), r.Blocks,
		r.Took.Round(time.Millisecond), excused, len(r.Failures))
}

// Run decides every claim about d with every runner, one claim at a time. It is RunParallel with one
// worker.
func Run(ctx context.Context, d *devnet.Devnet, claims []Claim, runners []ClaimRunner, exceptions []Exception) (*Report, error) {
	return RunParallel(ctx, d, claims, runners, exceptions, 1)
}

// RunParallel decides every claim about d with every runner, up to workers claims at a time (each claim's
// runners one after the other), and checks each verdict against the claim's expected one and the
// exceptions. The report lists the results in the order of claims, whatever order they were decided in.
// It stops at the first error of a runner (not a verdict) or when ctx ends, with a report of the claims
// decided by then. Runners must be safe for concurrent use when workers > 1.
func RunParallel(ctx context.Context, d *devnet.Devnet, claims []Claim, runners []ClaimRunner, exceptions []Exception, workers int) (*Report, error) {
	if len(runners) == 0 {
		return nil, errors.New("sweep: no runners")
	}
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]*Result, len(claims))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, len(claims))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := decide(ctx, claims[i], runners)
				if err != nil {
					cancel(err)
					continue
				}
				results[i] = res
			}
		}()
	}
feed:
	for i := range claims {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	r := &Report{Blocks: d.L2Head().NumberU64(), RunnerTime: map[string]time.Duration{}, Excused: map[*Exception]int{}}
	if len(claims) > 0 {
		r.Config = claims[0].Config
	}
	for _, res := range results {
		if res == nil {
			continue
		}
		for i := range res.Verdicts {
			v := &res.Verdicts[i]
			r.RunnerTime[v.Runner] += v.Took
			if v.Code == res.Claim.Want() {
				continue
			}
			for j := range exceptions {
				if e := &exceptions[j]; e.matches(v.Runner, d, res.Claim) {
					v.Excused = e
					r.Excused[e]++
					break
				}
			}
			if v.Excused == nil {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: %s exits %d, want %d", res.Claim, v.Runner, v.Code, res.Claim.Want()))
			}
		}
		r.Results = append(r.Results, *res)
	}
	r.Took = time.Since(start)
	return r, context.Cause(ctx)
}

// decide runs every runner on c, one after the other.
func decide(ctx context.Context, c Claim, runners []ClaimRunner) (*Result, error) {
	res := &Result{Claim: c}
	for _, runner := range runners {
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		t0 := time.Now()
		code, err := runner.Decide(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", runner.Name(), c, err)
		}
		res.Verdicts = append(res.Verdicts, Verdict{Runner: runner.Name(), Code: code, Took: time.Since(t0)})
	}
	return res, nil
}
