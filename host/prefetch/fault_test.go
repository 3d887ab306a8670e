package prefetch_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
)

// crashChildEnv, when set to a datadir, makes the test binary run a prefetcher writing into it until killed.
const crashChildEnv = "FAULTPROOF_PREFETCH_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		if err := runCrashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// hookClock does not wait; it records the waits and calls onSleep with the number of waits so far.
type hookClock struct {
	mu      sync.Mutex
	waits   int
	onSleep func(n int)
}

func (c *hookClock) Sleep(ctx context.Context, _ time.Duration) error {
	c.mu.Lock()
	c.waits++
	n, f := c.waits, c.onSleep
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
	return ctx.Err()
}

// clientTimeout is the per-request timeout of the clients of the faulty nodes: short, so that a request
// left unanswered times out quickly, but not so short that an ordinary answer on a loaded 2-core CI machine
// misses it (300 ms did).
const clientTimeout = time.Second

type faultEnv struct {
	chain *devnettest.L1Chain
	srv   *devnet.Server
	kv    *recordingKV
	clock *hookClock
	p     *prefetch.Prefetcher
}

// servedSources are L1, beacon and L2 clients of srv's nodes, counting their requests in stats; they are
// closed when the test ends.
func servedSources(t *testing.T, srv *devnet.Server, stats *prefetch.Stats) prefetch.Sources {
	t.Helper()
	opts := sources.Options{OnRequest: stats.CountRPC, Timeout: clientTimeout}
	rc, err := sources.Dial(context.Background(), srv.L1URL())
	require.NoError(t, err)
	l1c := sources.NewL1Client(rc, sources.RPCKindStandard, opts)
	t.Cleanup(l1c.Close)
	rc2, err := sources.Dial(context.Background(), srv.L2URL())
	require.NoError(t, err)
	l2c := sources.NewL2Client(rc2, opts)
	t.Cleanup(l2c.Close)
	bc, err := sources.NewBeaconClient(srv.BeaconURL(), opts)
	require.NoError(t, err)
	return prefetch.Sources{L1: l1c, Blobs: bc, L2: l2c}
}

// newFaultEnv serves the test chains on a server whose L1 and beacon nodes are told to fail; the L2 source
// is unused.
func newFaultEnv(t *testing.T, maxAttempts int) *faultEnv {
	t.Helper()
	chain, srv := devnettest.Serve(t)
	e := &faultEnv{chain: chain.L1, srv: srv, kv: &recordingKV{KV: kvstore.NewMem()}, clock: &hookClock{}}

	stats := prefetch.NewStats()
	var err error
	e.p, err = prefetch.New(log.NewLogger(log.DiscardHandler()), e.kv, servedSources(t, srv, stats),
		prefetch.Config{Stats: stats, Retry: prefetch.RetryPolicy{MaxAttempts: maxAttempts, Clock: e.clock}})
	require.NoError(t, err)
	return e
}

// fetch hints h and asks for key.
func (e *faultEnv) fetch(h string, key preimage.Key) ([]byte, error) {
	if err := e.p.Hint(h); err != nil {
		return nil, err
	}
	return e.p.GetPreimage(context.Background(), key.PreimageKey())
}

// checkServedAndStored checks that v is key's preimage and that the store holds it, and that every
// stored value verifies against its key.
func (e *faultEnv) checkServedAndStored(t *testing.T, key preimage.Key, v []byte) {
	t.Helper()
	k := key.PreimageKey()
	require.NoError(t, preimage.Verify(k, v), "served value")
	stored, err := e.kv.Get(common.Hash(k))
	require.NoError(t, err, "stored value of %x", k)
	require.Equal(t, v, stored, "stored value of %x", k)
	for _, sk := range e.kv.keys() {
		sv, err := e.kv.Get(sk)
		require.NoError(t, err)
		require.NoError(t, preimage.Verify(sk, sv), "stored %s", sk)
	}
}

// wrongGasUsed answers with the block's gasUsed changed, so that its header no longer hashes right.
func wrongGasUsed(t *testing.T) devnet.RequestFault {
	return devnet.RequestFault{Tamper: func(a *devnet.Answer) {
		var block map[string]json.RawMessage
		var gas hexutil.Uint64
		if err := json.Unmarshal(a.Result, &block); err != nil || json.Unmarshal(block["gasUsed"], &gas) != nil {
			assert.Failf(t, "wrong data fault on an answer without a block", "%.100s", a.Result)
			return
		}
		block["gasUsed"], _ = json.Marshal(gas + 1)
		a.Result, _ = json.Marshal(block)
	}}
}

func TestFaultyNodeTransientL1(t *testing.T) {
	wrongData := wrongGasUsed(t)
	for _, tc := range []struct {
		name   string
		hint   string
		faults []devnet.RequestFault
		method string // the faults hit only this method ("" any)
	}{
		{"500", preimage.HintL1BlockHeader, []devnet.RequestFault{devnet.Fail500}, ""},
		{"502", preimage.HintL1BlockHeader, []devnet.RequestFault{devnet.Fail502}, ""},
		{"truncated", preimage.HintL1BlockHeader, []devnet.RequestFault{devnet.FailTruncated}, ""},
		{"timeout", preimage.HintL1BlockHeader, []devnet.RequestFault{devnet.FailHang}, ""},
		{"all", preimage.HintL1BlockHeader, []devnet.RequestFault{devnet.Fail500, devnet.FailTruncated, devnet.Fail502, devnet.FailHang}, ""},
		{"transactions", preimage.HintL1Transactions, []devnet.RequestFault{devnet.FailHang, devnet.Fail502, devnet.FailTruncated, devnet.Fail500}, ""},
		// Receipts are fetched with the header in parallel: fault each of the two requests in turn.
		{"receipts", preimage.HintL1Receipts, []devnet.RequestFault{devnet.FailTruncated, devnet.Fail500, devnet.FailHang}, "eth_getBlockReceipts"},
		{"receipts header", preimage.HintL1Receipts, []devnet.RequestFault{devnet.Fail502, devnet.FailTruncated, devnet.FailHang, wrongData}, "eth_getBlockByHash"},
		// A wrong answer is retried like a failure (the node may be behind a load balancer); the right one is kept.
		{"wrong data once", preimage.HintL1BlockHeader, []devnet.RequestFault{wrongData, devnet.Fail502}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFaultEnv(t, len(tc.faults)+2)
			b := e.chain.Blocks[devnettest.ManyTxBlock]
			e.srv.L1().Inject(tc.method, tc.faults...)
			key := preimage.Keccak256Key(b.Hash())
			if tc.hint == preimage.HintL1Receipts {
				key = preimage.Keccak256Key(b.ReceiptHash()) // the root node of the receipts trie
			}
			v, err := e.fetch(hint(tc.hint, b.Hash().Bytes()), key)
			require.NoError(t, err)
			e.checkServedAndStored(t, key, v)
			s := e.p.Stats().Snapshot()
			require.Equal(t, len(tc.faults), e.srv.L1().Injected(), "faults injected")
			require.Equal(t, uint64(len(tc.faults)), s.Retries, "stats %+v", s)
			require.Zero(t, s.Failures, "stats %+v", s)
			require.Equal(t, len(tc.faults), e.clock.waits, "waits")
			if tc.hint == preimage.HintL1BlockHeader {
				require.Equal(t, uint64(len(tc.faults)+1), s.RPCCalls["eth_getBlockByHash"], "requests %v", s.RPCCalls)
			}
		})
	}
}

func TestFaultyNodeTransientBeacon(t *testing.T) {
	faults := []devnet.RequestFault{devnet.Fail502, devnet.FailTruncated, devnet.FailHang, devnet.Fail500}
	e := newFaultEnv(t, len(faults)+1)
	ref := e.chain.Blobs[0]
	e.srv.Beacon().Inject("", faults...)
	key := preimage.Sha256Key(ref.VersionedHash)
	v, err := e.fetch(hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(e.chain.Blocks[ref.Block].Time()))), key)
	require.NoError(t, err)
	e.checkServedAndStored(t, key, v)
	s := e.p.Stats().Snapshot()
	require.Equal(t, uint64(len(faults)), s.Retries, "stats %+v", s)
	require.Zero(t, s.Failures, "stats %+v", s)
	require.Equal(t, len(faults), e.srv.Beacon().Injected(), "faults injected")
}

func TestFaultyNodeWrongDataRejected(t *testing.T) {
	for _, typ := range []string{preimage.HintL1BlockHeader, preimage.HintL1Transactions, preimage.HintL1Receipts} {
		t.Run(typ, func(t *testing.T) {
			const attempts = 3
			e := newFaultEnv(t, attempts)
			b := e.chain.Blocks[devnettest.ManyTxBlock]
			wrongData := wrongGasUsed(t)
			e.srv.L1().Inject("eth_getBlockByHash", wrongData, wrongData, wrongData)
			h := hint(typ, b.Hash().Bytes())
			key := preimage.Keccak256Key(b.Hash())
			if typ == preimage.HintL1Receipts {
				key = preimage.Keccak256Key(b.ReceiptHash())
			}
			v, err := e.fetch(h, key)
			require.Error(t, err, "served %x from a lying node", v)
			require.ErrorIs(t, err, sources.ErrInvalidResponse)
			require.ErrorIs(t, err, prefetch.ErrRetriesExhausted)
			// The error names key and hint.
			require.ErrorContains(t, err, common.Hash(key.PreimageKey()).Hex())
			require.ErrorContains(t, err, h)
			require.Empty(t, e.kv.keys(), "stored from a lying node")
			_, err = e.kv.Get(common.Hash(key.PreimageKey()))
			require.ErrorIs(t, err, kvstore.ErrNotFound, "key stored")
			s := e.p.Stats().Snapshot()
			require.Equal(t, attempts, e.srv.L1().Injected(), "faults injected")
			require.Equal(t, uint64(attempts-1), s.Retries, "stats %+v", s)
			require.Equal(t, uint64(1), s.Failures, "stats %+v", s)
			require.Zero(t, s.Preimages, "stats %+v", s)
		})
	}
}

func TestFaultyNodeRestart(t *testing.T) {
	e := newFaultEnv(t, 6)
	// A first fetch leaves a keep-alive connection to the node.
	b1 := e.chain.Blocks[1]
	key1 := preimage.Keccak256Key(b1.Hash())
	v, err := e.fetch(hint(preimage.HintL1BlockHeader, b1.Hash().Bytes()), key1)
	require.NoError(t, err)
	e.checkServedAndStored(t, key1, v)

	// The node goes down; it is back after three failed attempts.
	const down = 3
	e.srv.L1().Down()
	e.clock.onSleep = func(n int) {
		if n == down {
			assert.NoError(t, e.srv.L1().Up())
		}
	}
	b2 := e.chain.Blocks[2]
	key2 := preimage.Keccak256Key(b2.Hash())
	v, err = e.fetch(hint(preimage.HintL1BlockHeader, b2.Hash().Bytes()), key2)
	require.NoError(t, err)
	e.checkServedAndStored(t, key2, v)
	s := e.p.Stats().Snapshot()
	require.Equal(t, uint64(down), s.Retries, "stats %+v", s)
	require.Zero(t, s.Failures, "stats %+v", s)
	require.Equal(t, uint64(2+down), s.RPCCalls["eth_getBlockByHash"], "requests sent")
	require.Equal(t, 2, e.srv.L1().Requests("eth_getBlockByHash"), "requests that reached the node")
	require.Zero(t, e.srv.L1().Injected())
}

// forgetfulKV forgets, for Get, what was not put since the last reset, so that the prefetcher fetches and
// writes the same keys again and again.
type forgetfulKV struct {
	kvstore.KV
	mu  sync.Mutex
	put map[common.Hash]bool
}

func (f *forgetfulKV) Put(k common.Hash, v []byte) error {
	if err := f.KV.Put(k, v); err != nil {
		return err
	}
	f.mu.Lock()
	f.put[k] = true
	f.mu.Unlock()
	return nil
}

func (f *forgetfulKV) Get(k common.Hash) ([]byte, error) {
	f.mu.Lock()
	ok := f.put[k]
	f.mu.Unlock()
	if !ok {
		return nil, kvstore.ErrNotFound
	}
	return f.KV.Get(k)
}

func (f *forgetfulKV) reset() {
	f.mu.Lock()
	f.put = map[common.Hash]bool{}
	f.mu.Unlock()
}

// runCrashChild fetches L1 headers, transactions, receipts and blobs into a directory store in dir, over
// and over, printing a line after each round, until it is killed.
func runCrashChild(dir string) error {
	c, err := devnettest.Chains()
	if err != nil {
		return err
	}
	chain := c.L1
	srv, err := devnet.Serve(context.Background(), c, "127.0.0.1:0")
	if err != nil {
		return err
	}
	store, format, err := kvstore.Open(dir, kvstore.FormatDirectory)
	if err != nil {
		return err
	}
	if format != kvstore.FormatDirectory {
		return fmt.Errorf("format %s", format)
	}
	kv := &forgetfulKV{KV: store, put: map[common.Hash]bool{}}
	opts := sources.Options{Timeout: 10 * time.Second}
	rc, err := sources.Dial(context.Background(), srv.L1URL())
	if err != nil {
		return err
	}
	l1c := sources.NewL1Client(rc, sources.RPCKindStandard, opts)
	rc2, err := sources.Dial(context.Background(), srv.L1URL())
	if err != nil {
		return err
	}
	bc, err := sources.NewBeaconClient(srv.BeaconURL(), opts)
	if err != nil {
		return err
	}
	p, err := prefetch.New(log.NewLogger(log.DiscardHandler()), kv,
		prefetch.Sources{L1: l1c, Blobs: bc, L2: sources.NewL2Client(rc2, opts)}, prefetch.Config{})
	if err != nil {
		return err
	}
	ctx := context.Background()
	get := func(h string, key preimage.Key) error {
		if err := p.Hint(h); err != nil {
			return err
		}
		_, err := p.GetPreimage(ctx, key.PreimageKey())
		return err
	}
	for round := 1; ; round++ {
		kv.reset()
		for _, ref := range chain.Blobs {
			if err := get(hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(chain.Blocks[ref.Block].Time()))), preimage.Sha256Key(ref.VersionedHash)); err != nil {
				return err
			}
		}
		for _, b := range chain.Blocks {
			for _, typ := range []string{preimage.HintL1BlockHeader, preimage.HintL1Transactions, preimage.HintL1Receipts} {
				kv.reset() // each hint writes its whole batch again
				key := preimage.Keccak256Key(b.Hash())
				if typ == preimage.HintL1Receipts {
					if b.ReceiptHash() == types.EmptyReceiptsHash {
						continue
					}
					key = preimage.Keccak256Key(b.ReceiptHash())
				}
				if err := get(hint(typ, b.Hash().Bytes()), key); err != nil {
					return err
				}
			}
		}
		fmt.Printf("round %d\n", round)
	}
}

var (
	valueFile = regexp.MustCompile(`^[0-9a-f]{60}\.txt$`)
	tempFile  = regexp.MustCompile(`^[0-9a-f]{60}\.txt\.tmp-[0-9]+$`)
	shardDir  = regexp.MustCompile(`^[0-9a-f]{4}$`)
)

func TestCrashMidWriteDirectoryStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	const kills = 3
	for i := 0; i < kills; i++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// Wait for a complete round, so that the store is busy overwriting values, then kill at a random point.
		line := make(chan string, 1)
		go func() {
			s := bufio.NewScanner(out)
			if s.Scan() {
				line <- s.Text()
			}
			close(line)
			for s.Scan() {
			}
		}()
		select {
		case l, ok := <-line:
			if !ok {
				_ = cmd.Wait()
				require.FailNow(t, fmt.Sprintf("child exited: %s", stderr.String()))
			}
			t.Logf("child %d: %s", i, l)
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			require.FailNow(t, "child made no progress")
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			require.NoError(t, err)
		}
		err = cmd.Wait()
		require.Error(t, err, "child was not killed: %s", stderr.String())
		require.False(t, cmd.ProcessState.Exited(), "child was not killed (%v): %s", err, stderr.String())
	}

	store, err := kvstore.NewDirectory(dir)
	require.NoError(t, err)
	defer store.Close()
	var values, temps int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		switch {
		case d.IsDir():
			if len(parts) != 1 || !shardDir.MatchString(parts[0]) {
				require.FailNow(t, fmt.Sprintf("unexpected directory %s", rel))
				return fs.SkipDir
			}
		case len(parts) == 1 && parts[0] == "kvformat":
			data, err := os.ReadFile(path)
			require.NoError(t, err, "format marker %q", data)
			require.Equal(t, string(kvstore.FormatDirectory), strings.TrimSpace(string(data)), "format marker %q, %v", data, err)
		case len(parts) == 2 && valueFile.MatchString(parts[1]):
			values++
			key := common.HexToHash(parts[0] + strings.TrimSuffix(parts[1], ".txt"))
			data, err := os.ReadFile(path)
			if err != nil {
				require.FailNow(t, fmt.Sprintf("%s: %v", rel, err))
				return nil
			}
			v, err := hex.DecodeString(string(data))
			if err != nil || len(data) == 0 {
				require.FailNow(t, fmt.Sprintf("torn value file %s (%d bytes): %v", rel, len(data), err))
				return nil
			}
			require.NoError(t, preimage.Verify(key, v), "%s", rel)
			require.False(t, preimage.KeyType(key[0]) == preimage.BlobKeyType && len(v) != 32, "%s: blob field element of %d bytes", rel, len(v))
			got, err := store.Get(key)
			require.NoError(t, err, "%s: store reads %x", rel, got)
			require.Equal(t, string(v), string(got), "%s: store reads %x, %v", rel, got, err)
		case len(parts) == 2 && tempFile.MatchString(parts[1]):
			temps++
			// A temp file is never read as a value: without its .txt, the key is absent.
			key := common.HexToHash(parts[0] + parts[1][:60])
			if _, err := os.Stat(filepath.Join(dir, parts[0], parts[1][:64])); errors.Is(err, fs.ErrNotExist) {
				_, err := store.Get(key)
				require.ErrorIs(t, err, kvstore.ErrNotFound, "%s: key of a temp file reads %v", rel, err)
			}
		default:
			require.FailNow(t, fmt.Sprintf("unexpected file %s", rel))
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEqual(t, 0, values, "no values were written")
	t.Logf("%d values verified, %d temp files left by %d kills", values, temps, kills)
}
