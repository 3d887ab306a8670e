package onchain

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/bits"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/onchain"
)

// The differential tests run guest programs in our VM, take our proof of selected steps and have the
// MIPS64 contract execute each: its post-state must be our post-state hash. Which steps: the first
// occurrences of each step class (an instruction, a syscall with its file descriptor or futex
// operation, a pre-image read by key type and part, a scheduler action) and the last step; without
// -short also later ones at powers of two and a random sample. With -short, 3 per class (a few hundred
// steps per guest, seconds); the full run, with more guests, tens of thousands of steps:
//
//	cd crosscheck && go test ./onchain/ -run TestStepsMatchContract -v -timeout 30m
//
// and more with -onchain.per-class and -onchain.sample.
var (
	perClassFlag = flag.Int("onchain.per-class", 0, "steps proven per step class (default 3 with -short, 40 without)")
	sampleFlag   = flag.Float64("onchain.sample", -1, "fraction of the other steps proven at random (default 0 with -short, 0.002 without)")
)

// testLocalContext is the local context of the differential tests' steps: not zero, so that the local
// keys the contract localizes must match those loadLocalData localized with it.
var testLocalContext = crypto.Keccak256Hash([]byte("faultproof onchain crosscheck"))

var (
	guestsOnce sync.Once
	guestsDir  string
	guestsErr  error
)

// allGuests are the guest programs the differential tests may run.
var allGuests = []string{"hello", "threads", "bootinfo", "exit3", "panic", "mutex", "timers", "oracle", "maps", "hashes"}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if guestsDir != "" {
		os.RemoveAll(guestsDir)
	}
	os.Exit(code)
}

// guestPath builds the guest programs of ../vm/testdata/guest once per test binary.
func guestPath(tb testing.TB, name string) string {
	tb.Helper()
	guestsOnce.Do(func() {
		if guestsDir, guestsErr = os.MkdirTemp("", "onchain-guests"); guestsErr != nil {
			return
		}
		args := []string{"build", "-trimpath", "-o", guestsDir + string(filepath.Separator)}
		for _, g := range allGuests {
			args = append(args, "./"+g)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = filepath.Join("..", "..", "vm", "testdata", "guest")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			guestsErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	require.NoError(tb, guestsErr, "building guests")
	return filepath.Join(guestsDir, name)
}

// contracts returns the artifacts to deploy: MIPS64 freshly compiled (and PreimageOracle when
// $FAULTPROOF_LIBKECCAK allows), else the embedded ones, which the bytecode tests tie to the compile.
func contracts(t *testing.T) (mips, oracle *onchain.Artifact, what string) {
	mips, oracle, what = onchain.MIPS64(), onchain.PreimageOracle(), "embedded MIPS64 and PreimageOracle"
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: running the embedded contracts (TestEmbeddedMatchesFreshCompile skips)", tool)
			return
		}
	}
	c := freshCompile(t)
	mips, what = toArtifact(t, mipsUnit, "MIPS64", c.mips), "freshly compiled MIPS64, embedded PreimageOracle"
	if c.oracle != nil {
		oracle, what = toArtifact(t, oracleUnit, "PreimageOracle", c.oracle), "freshly compiled MIPS64 and PreimageOracle"
	}
	return
}

func newChain(t *testing.T) (*onchain.Chain, string) {
	mips, oracle, what := contracts(t)
	c, err := onchain.NewWith(mips, oracle)
	require.NoError(t, err)
	return c, what
}

// bootOracle serves what the bootinfo guest reads: the five local boot-info keys and the pre-image of
// the L1 head (a keccak256 key).
func bootOracle() *vm.MemoryOracle {
	o := vm.NewMemoryOracle()
	header := []byte("an L1 header for the on-chain cross-check")
	l1Head := crypto.Keccak256Hash(header)
	local := func(i uint64) (k [32]byte) {
		k[0] = 1
		binary.BigEndian.PutUint64(k[24:], i)
		return k
	}
	o.Set(local(1), l1Head[:])
	o.Set(local(2), common.HexToHash("0x3333333333333333333333333333333333333333333333333333333333333333").Bytes())
	o.Set(local(3), common.HexToHash("0x4444444444444444444444444444444444444444444444444444444444444444").Bytes())
	o.Set(local(4), binary.BigEndian.AppendUint64(nil, 123456))
	o.Set(local(5), binary.BigEndian.AppendUint64(nil, 11155420))
	key := l1Head
	key[0] = 2
	o.Set(key, header)
	return o
}

// oracleGuestOracle serves the oracle guest's pre-image. The guest asks for a made-up keccak256 key
// (0x02, 0x01, ..., 0x1f), which no value hashes to: its parts go into the oracle's storage directly.
func oracleGuestOracle() *vm.MemoryOracle {
	o := vm.NewMemoryOracle()
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	key[0] = 2
	o.Set(key, []byte("the pre-image served to the guest"))
	return o
}

// sampler decides which steps to prove.
type sampler struct {
	perClass int
	powers   bool // also the occurrences at powers of two
	rate     float64
	rng      *rand.Rand
	seen     map[string]int
}

func newSampler(seed int64) *sampler {
	s := &sampler{perClass: *perClassFlag, powers: !testing.Short(), rate: *sampleFlag, rng: rand.New(rand.NewSource(seed)), seen: map[string]int{}}
	if s.perClass <= 0 {
		s.perClass = 40
		if testing.Short() {
			s.perClass = 3
		}
	}
	if s.rate < 0 {
		s.rate = 0.002
		if testing.Short() {
			s.rate = 0
		}
	}
	return s
}

// pick counts an occurrence of class and says whether to prove it: the first perClass ones, without
// -short also the ones at powers of two (so a class met a million times is proven up to its
// millionth), and the others by chance.
func (s *sampler) pick(class string) bool {
	n := s.seen[class]
	s.seen[class] = n + 1
	return n < s.perClass || s.powers && bits.OnesCount(uint(n)) == 1 || s.rate > 0 && s.rng.Float64() < s.rate
}

// guestResult is what one guest's differential run checked.
type guestResult struct {
	steps, proven, withPreimage, threadSwitches int
	gas                                         uint64
	byClass                                     map[string]int
	loaders                                     map[onchain.Loaded]int
	elapsed                                     time.Duration
}

// checkSteps runs the guest, proving the steps the sampler picks on chain, and the last step.
// partLoading is how checkSteps puts pre-image parts into the oracle.
type partLoading struct {
	store bool                // write them into the oracle's storage
	extra map[[32]byte][]byte // loader inputs beyond the value (blob and precompile keys)
}

func checkSteps(t *testing.T, chain *onchain.Chain, elfPath string, oracle vm.PreimageOracle, exit int, loading partLoading) *guestResult {
	data, err := os.ReadFile(elfPath)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	if oracle == nil {
		oracle = vm.NewMemoryOracle()
	}
	m := vm.NewVM(s, oracle, nil, nil)
	smp := newSampler(int64(len(data)))
	res := &guestResult{byClass: map[string]int{}, loaders: map[onchain.Loaded]int{}}
	start := time.Now()
	var lastProven uint64
	for !s.Exited {
		step := s.Step
		class := stepClass(s)
		// A step may end the program: prove every step that could (an exit or exit_group syscall),
		// so the last step is always proven.
		// Every pre-image read is proven (there are few), with its part loaded into the oracle.
		prove := smp.pick(class) || strings.HasPrefix(class, "syscall: exit") || strings.HasPrefix(class, "syscall: read (pre-image read")
		if !prove {
			_, err := m.Step(false)
			require.NoError(t, err, "step %d (%s)", step, class)
			continue
		}
		before := s.CurrentThread().ThreadID
		wit, err := m.Step(true)
		require.NoError(t, err, "step %d (%s)", step, class)
		post := s.Hash()
		if wit.HasPreimage() {
			var err error
			how := onchain.LoadedStorage
			if loading.store {
				err = chain.SetPreimagePart(wit.PreimageKey, wit.PreimageValue, wit.PreimageOffset)
			} else {
				how, err = chain.LoadPreimagePart(wit.PreimageKey, wit.PreimageValue, wit.PreimageOffset, testLocalContext, loading.extra[wit.PreimageKey])
			}
			res.loaders[how]++
			require.NoError(t, err, "step %d (%s): loading the pre-image part", step, class)
			res.withPreimage++
		}
		got, gas, err := chain.Step(wit.State, wit.ProofData, testLocalContext)
		require.NoError(t, err, "step %d (%s): the contract rejected our proof\nstate %x\nproof %x", step, class, wit.State, wit.ProofData)
		require.Equal(t, post, got, "step %d (%s): contract post-state %s, ours %s\nstate %x\nproof %x", step, class, got, common.Hash(post), wit.State, wit.ProofData)
		if t := s.CurrentThread(); t != nil && t.ThreadID != before {
			res.threadSwitches++
			res.byClass["(steps that switched threads)"]++
		}
		res.proven++
		res.gas += gas
		res.byClass[class]++
		lastProven = step
	}
	res.steps = int(s.Step)
	res.elapsed = time.Since(start)
	require.Equal(t, s.Step-1, lastProven, "the last step (%d) was not proven (last proven %d)", s.Step-1, lastProven)
	require.False(t, exit >= 0 && int(s.ExitCode) != exit, "exit code %d, want %d", s.ExitCode, exit)
	return res
}

func (r *guestResult) classes() []string {
	names := make([]string, 0, len(r.byClass))
	for n := range r.byClass {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestStepsMatchContract is the differential test: see the comment at the top of this file.
func TestStepsMatchContract(t *testing.T) {
	type guest struct {
		name    string
		oracle  func() *vm.MemoryOracle
		exit    int
		full    bool // only without -short
		loading func() partLoading
	}
	guests := []guest{
		{name: "hello", exit: 0},
		{name: "threads", exit: 1},
		{name: "bootinfo", oracle: bootOracle, exit: 0},
		{name: "exit3", exit: 3},
		{name: "panic", exit: 2, full: true},
		{name: "mutex", exit: 0, full: true},
		{name: "timers", exit: 0, full: true},
		{name: "oracle", oracle: oracleGuestOracle, exit: 0, loading: func() partLoading { return partLoading{store: true} }},
		{name: "preimages", oracle: func() *vm.MemoryOracle { o, _ := allKeyTypes(t); return o }, exit: 0,
			loading: func() partLoading { _, extra := allKeyTypes(t); return partLoading{extra: extra} }},
		{name: "maps", exit: 0, full: true},
		{name: "hashes", exit: 0, full: true},
	}
	chain, what := newChain(t)
	t.Logf("contracts: %s", what)
	total := &guestResult{byClass: map[string]int{}}
	for _, g := range guests {
		t.Run(g.name, func(t *testing.T) {
			if g.full && testing.Short() {
				t.Skip("only without -short")
			}
			var o vm.PreimageOracle
			if g.oracle != nil {
				o = g.oracle()
			}
			var loading partLoading
			if g.loading != nil {
				loading = g.loading()
			}
			path := guestPath(t, g.name)
			if g.name == "preimages" {
				path = preimagesGuest(t)
			}
			r := checkSteps(t, chain, path, o, g.exit, loading)
			if g.name == "preimages" {
				for _, how := range []onchain.Loaded{onchain.LoadedLocal, onchain.LoadedKeccak256, onchain.LoadedSha256, onchain.LoadedBlob, onchain.LoadedPrecompile} {
					require.NotEqual(t, 0, r.loaders[how], "no part loaded with %s", how)
				}
			}
			if len(r.loaders) > 0 {
				t.Logf("pre-image parts put into the oracle: %v", r.loaders)
			}
			t.Logf("%d of %d steps proven on chain, all post-states equal (%d read pre-image data, %d switched threads); %d classes; %.0f gas/step; %s",
				r.proven, r.steps, r.withPreimage, r.threadSwitches, len(r.byClass), float64(r.gas)/float64(max(r.proven, 1)), r.elapsed.Round(time.Millisecond))
			total.proven += r.proven
			total.steps += r.steps
			total.withPreimage += r.withPreimage
			for c, n := range r.byClass {
				total.byClass[c] += n
			}
		})
	}
	var lines []string
	for _, c := range total.classes() {
		lines = append(lines, fmt.Sprintf("  %5d  %s", total.byClass[c], c))
	}
	t.Logf("in all: %d steps proven on chain (%d with pre-image data) out of %d run; by class:\n%s",
		total.proven, total.withPreimage, total.steps, strings.Join(lines, "\n"))
}
