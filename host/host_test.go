package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// The test binary doubles as a fault proof program started with --exec: TestMain turns it into one when
// the host runs it with testProgramEnv set.
const testProgramEnv = "FAULTPROOF_TEST_PROGRAM"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testProgramEnv); mode != "" {
		os.Exit(testProgram(mode))
	}
	os.Exit(m.Run())
}

// testProgram reads the boot keys and one global preimage over fds 3-6, then exits with the code the
// test asked for. It prints what it read, so the test can check the bytes.
func testProgram(mode string) int {
	oracle := preimage.NewOracleClient(preimage.ClientPreimageChannel())
	hinter := preimage.NewHintWriter(preimage.ClientHinterChannel())
	for _, k := range []preimage.LocalIndexKey{1, 2, 3, 4, 5} {
		v, err := oracle.Get(k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "program:", err)
			return 2
		}
		fmt.Printf("local %d %x\n", k, v)
	}
	key := preimage.KeccakKeyOf([]byte(os.Getenv("FAULTPROOF_TEST_PREIMAGE")))
	if err := hinter.Hint(preimage.TypedHint{Type: preimage.HintL1BlockHeader, Data: key[:]}); err != nil {
		fmt.Fprintln(os.Stderr, "program:", err)
		return 2
	}
	v, err := oracle.Get(key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "program:", err)
		return 2
	}
	fmt.Printf("global %s\n", v)
	code, _ := strconv.Atoi(mode)
	return code
}

func testConfig(t testing.TB) *Config {
	rcfg, l2, err := rollup.FromRegistry(11155420)
	require.NoError(t, err)
	return &Config{
		Rollup:             rcfg,
		L2ChainConfig:      l2,
		L1Head:             common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111"),
		L2Head:             common.HexToHash("0x2222222222222222222222222222222222222222222222222222222222222222"),
		L2OutputRoot:       common.HexToHash("0x3333333333333333333333333333333333333333333333333333333333333333"),
		L2Claim:            common.HexToHash("0x4444444444444444444444444444444444444444444444444444444444444444"),
		L2ClaimBlockNumber: 0x0102,
		DataDir:            t.TempDir(),
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr error
	}{
		{"valid", func(*Config) {}, nil},
		{"no rollup config", func(c *Config) { c.Rollup = nil }, ErrMissingRollupConfig},
		{"no l2 chain config", func(c *Config) { c.L2ChainConfig = nil }, ErrMissingL2Genesis},
		{"zero l1 head", func(c *Config) { c.L1Head = common.Hash{} }, ErrInvalidL1Head},
		{"zero l2 head", func(c *Config) { c.L2Head = common.Hash{} }, ErrInvalidL2Head},
		{"zero output root", func(c *Config) { c.L2OutputRoot = common.Hash{} }, ErrInvalidL2OutputRoot},
		{"zero claim is a claim like any other", func(c *Config) { c.L2Claim = common.Hash{} }, nil},
		{"claim block 0", func(c *Config) { c.L2ClaimBlockNumber = 0 }, ErrInvalidL2ClaimBlock},
		{"l1 without l2", func(c *Config) { c.L1URL = "http://127.0.0.1:1" }, ErrL1AndL2Inconsistent},
		{"offline without datadir", func(c *Config) { c.DataDir = "" }, ErrDataDirRequired},
		{"server and exec", func(c *Config) { c.ServerMode = true; c.ExecCmd = "/bin/true" }, ErrNoExecInServerMode},
		{"custom chain without l1 chain config", func(c *Config) { c.IsCustomChainConfig = true }, ErrMissingL1ChainCfg},
		{"unknown data format", func(c *Config) { c.DataFormat = "csv" }, kvstore.ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.edit(cfg)
			err := cfg.Check()
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestLocalSource(t *testing.T) {
	cfg := testConfig(t)
	src, err := NewLocalSource(cfg)
	require.NoError(t, err)
	want := map[preimage.LocalIndexKey]string{
		1: "1111111111111111111111111111111111111111111111111111111111111111",
		2: "3333333333333333333333333333333333333333333333333333333333333333",
		3: "4444444444444444444444444444444444444444444444444444444444444444",
		4: "0000000000000102",
		5: "0000000000aa37dc", // 11155420
	}
	for k, v := range want {
		got, err := src.Get(k.PreimageKey())
		require.NoError(t, err)
		require.Equal(t, v, fmt.Sprintf("%x", got), "local key %d", k)
	}
	for _, k := range []preimage.LocalIndexKey{6, 7, 8, 9, 10, 0} {
		_, err := src.Get(k.PreimageKey())
		require.ErrorIs(t, err, ErrUnknownLocalKey, "local key %d", k)
	}
}

func TestLocalSourceCustomChain(t *testing.T) {
	cfg := testConfig(t)
	cfg.IsCustomChainConfig = true
	l1, err := rollup.L1ChainConfig(cfg.Rollup.L1ChainID.Uint64())
	require.NoError(t, err)
	cfg.L1ChainConfig = l1
	src, err := NewLocalSource(cfg)
	require.NoError(t, err)

	id, err := src.Get(preimage.L2ChainIDLocalIndex.PreimageKey())
	require.NoError(t, err)
	require.Equal(t, preimage.CustomChainIDIndicator, binary.BigEndian.Uint64(id))

	rollupJSON, err := src.Get(preimage.RollupConfigLocalIndex.PreimageKey())
	require.NoError(t, err)
	gotRollup, err := rollup.ParseConfig(rollupJSON)
	require.NoError(t, err)
	require.Equal(t, cfg.Rollup, gotRollup)

	for _, k := range []preimage.LocalIndexKey{preimage.L2ChainConfigLocalIndex, preimage.L1ChainConfigLocalIndex} {
		data, err := src.Get(k.PreimageKey())
		require.NoError(t, err)
		cc, err := rollup.ParseChainConfig(data)
		require.NoError(t, err)
		if k == preimage.L1ChainConfigLocalIndex {
			require.Equal(t, uint64(11155111), cc.ChainID.Uint64())
		} else {
			require.Equal(t, uint64(11155420), cc.ChainID.Uint64())
		}
	}
	_, err = src.Get(preimage.DependencySetLocalIndex.PreimageKey())
	require.ErrorIs(t, err, ErrUnknownLocalKey)
}

// serveInMemory starts a Server over pipes and returns the program's ends.
func serveInMemory(t *testing.T, cfg *Config, kv kvstore.KV) (*preimage.OracleClient, *preimage.HintWriter, func() error) {
	local, err := NewLocalSource(cfg)
	require.NoError(t, err)
	srv := NewServer(log.New(), local, NewOfflineSource(log.New(), kv))
	hostHint, progHint, err := preimage.CreateBidirectionalChannel()
	require.NoError(t, err)
	hostPre, progPre, err := preimage.CreateBidirectionalChannel()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), hostPre, hostHint) }()
	stop := func() error {
		progHint.Close()
		progPre.Close()
		return <-done
	}
	return preimage.NewOracleClient(progPre), preimage.NewHintWriter(progHint), stop
}

func TestServerServesLocalAndGlobalKeys(t *testing.T) {
	cfg := testConfig(t)
	kv := kvstore.NewMem()
	header := []byte("an L1 header")
	require.NoError(t, kv.Put(common.Hash(preimage.KeccakKeyOf(header).PreimageKey()), header))
	oracle, hinter, stop := serveInMemory(t, cfg, kv)

	v, err := oracle.Get(preimage.L1HeadLocalIndex)
	require.NoError(t, err)
	require.Equal(t, cfg.L1Head.Bytes(), v)
	require.NoError(t, hinter.Hint(preimage.TypedHint{Type: preimage.HintL1BlockHeader, Data: []byte{1}}))
	v, err = oracle.Get(preimage.KeccakKeyOf(header))
	require.NoError(t, err)
	require.Equal(t, header, v)
	require.NoError(t, stop(), "closing both channels is a clean end")
}

func TestServerRefusesWhatItCannotVerify(t *testing.T) {
	cfg := testConfig(t)
	kv := kvstore.NewMem()
	key := preimage.KeccakKeyOf([]byte("right"))
	require.NoError(t, kv.Put(common.Hash(key.PreimageKey()), []byte("wrong")))
	oracle, _, stop := serveInMemory(t, cfg, kv)
	_, err := oracle.Get(key)
	require.Error(t, err, "the program gets no answer")
	require.ErrorIs(t, stop(), preimage.ErrPreimageMismatch)
}

func TestServerMissingPreimageNamesKeyAndHint(t *testing.T) {
	cfg := testConfig(t)
	oracle, hinter, stop := serveInMemory(t, cfg, kvstore.NewMem())
	require.NoError(t, hinter.Hint(preimage.RawHint("l2-state-node 0xabcd")))
	key := preimage.KeccakKeyOf([]byte("absent"))
	_, err := oracle.Get(key)
	require.Error(t, err)
	err = stop()
	require.ErrorIs(t, err, ErrMissingPreimage)
	require.ErrorContains(t, err, common.Hash(key.PreimageKey()).Hex())
	require.ErrorContains(t, err, "l2-state-node 0xabcd")
}

func TestServerRejectsMalformedHint(t *testing.T) {
	_, hinter, stop := serveInMemory(t, testConfig(t), kvstore.NewMem())
	require.NoError(t, hinter.Hint(preimage.RawHint("no-space-here")), "acknowledged even though it fails")
	require.ErrorIs(t, stop(), preimage.ErrMalformedHint)
}

func TestServerRejectsUnsupportedKeyTypes(t *testing.T) {
	for _, typ := range []byte{3, 7} {
		t.Run(fmt.Sprintf("type %d", typ), func(t *testing.T) {
			oracle, _, stop := serveInMemory(t, testConfig(t), kvstore.NewMem())
			// Our client refuses to send such keys, so write one by hand.
			_, err := oracle.Get(preimage.RawKey{typ})
			require.ErrorIs(t, err, preimage.ErrUnsupportedKeyType)
			require.NoError(t, stop())
		})
	}
}

func TestExecRunsChildOnFds3To6(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	tests := []struct {
		name     string
		exitCode string
		stored   bool
		wantCode int
		wantErr  error
	}{
		{"valid claim", "0", true, 0, nil},
		{"invalid claim", "1", true, 1, nil},
		{"missing preimage stops the server and the child", "0", false, 0, ErrMissingPreimage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.ExecCmd = exe
			value := "preimage for " + tt.name
			if tt.stored {
				kv, _, err := kvstore.Open(cfg.DataDir, kvstore.FormatDirectory)
				require.NoError(t, err)
				require.NoError(t, kv.Put(common.Hash(preimage.KeccakKeyOf([]byte(value)).PreimageKey()), []byte(value)))
				require.NoError(t, kv.Close())
			}
			t.Setenv(testProgramEnv, tt.exitCode)
			t.Setenv("FAULTPROOF_TEST_PREIMAGE", value)

			out := captureStdout(t, func() {
				err := New(log.New(), cfg, nil).Run(context.Background())
				switch {
				case tt.wantErr != nil:
					require.ErrorIs(t, err, tt.wantErr)
				case tt.wantCode == 0:
					require.NoError(t, err)
				default:
					var exitErr *ExitError
					require.True(t, errors.As(err, &exitErr), "got %v", err)
					require.Equal(t, tt.wantCode, exitErr.Code)
				}
			})
			require.Contains(t, out, "local 1 1111111111111111111111111111111111111111111111111111111111111111\n")
			require.Contains(t, out, "local 4 0000000000000102\n")
			if tt.stored {
				require.Contains(t, out, "global "+value+"\n")
			}
		})
	}
}

func TestInProcessUnavailableSaysSo(t *testing.T) {
	err := New(log.New(), testConfig(t), nil).Run(context.Background())
	require.ErrorIs(t, err, ErrInProcessUnavailable)
}

func TestInProcessProgram(t *testing.T) {
	cfg := testConfig(t)
	program := func(ctx context.Context, pre, hint io.ReadWriter) error {
		oracle := preimage.NewOracleClient(pre)
		if _, err := oracle.Get(preimage.L1HeadLocalIndex); err != nil {
			return err
		}
		v, err := oracle.Get(preimage.L2ClaimLocalIndex)
		if err != nil {
			return err
		}
		if !bytes.Equal(v, cfg.L2Claim.Bytes()) {
			return &ExitError{Code: 1}
		}
		return nil
	}
	require.NoError(t, New(log.New(), cfg, program).Run(context.Background()))
}

// TestVerdictNeedsBootInputs: a program that returns a verdict (valid, or invalid) without having read the
// L1 head and the claim decided nothing: the host fails with ErrNoVerdict instead of passing the verdict on.
// Before, such a program (e.g. --exec /bin/true) made the host exit 0, "valid".
func TestVerdictNeedsBootInputs(t *testing.T) {
	read := func(keys ...preimage.LocalIndexKey) func(pre io.ReadWriter) error {
		return func(pre io.ReadWriter) error {
			for _, k := range keys {
				if _, err := preimage.NewOracleClient(pre).Get(k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name    string
		read    func(pre io.ReadWriter) error
		verdict error
		wantErr error
	}{
		{"valid after reading both", read(preimage.L1HeadLocalIndex, preimage.L2ClaimLocalIndex), nil, nil},
		{"valid without reading", read(), nil, ErrNoVerdict},
		{"valid after reading the claim only", read(preimage.L2ClaimLocalIndex), nil, ErrNoVerdict},
		{"valid after reading the L1 head only", read(preimage.L1HeadLocalIndex), nil, ErrNoVerdict},
		{"invalid without reading", read(), &ExitError{Code: 1}, ErrNoVerdict},
		{"failure without reading", read(), &ExitError{Code: 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			program := func(_ context.Context, pre, _ io.ReadWriter) error {
				if err := tc.read(pre); err != nil {
					return err
				}
				return tc.verdict
			}
			err := New(log.New(), testConfig(t), program).Run(context.Background())
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
				require.ErrorContains(t, err, "without reading the L1 head and the claim")
			case tc.verdict != nil:
				require.Equal(t, tc.verdict, err)
			default:
				require.NoError(t, err)
			}
		})
	}
}

func TestOfflineNeedsExistingDatadir(t *testing.T) {
	cfg := testConfig(t)
	cfg.DataDir = t.TempDir() + "/missing"
	cfg.ServerMode = true
	err := New(log.New(), cfg, nil).Run(context.Background())
	require.ErrorContains(t, err, "does not exist")
}

// captureStdout runs f with os.Stdout sent to a pipe (the child inherits it) and returns what was written.
func captureStdout(t *testing.T, f func()) string {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	orig := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	func() {
		defer func() { os.Stdout = orig }()
		f()
	}()
	w.Close()
	out := <-done
	r.Close()
	return string(out)
}
