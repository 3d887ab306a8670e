package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
	"github.com/faultproof/faultproof/vm"
)

// namedCLI runs the test binary under a symlink called name (as faultproof install-links makes them), with
// extra environment variables, and returns its stdout, stderr and exit code.
func namedCLI(t *testing.T, name string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.Symlink(exe, link))
	return namedCLIAt(t, link, env, args...)
}

// namedCLIAt runs the test binary by path (a symlink to it) as the main program.
func namedCLIAt(t *testing.T, path string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code = exitCode(waitTimeout(startOrFail(t, cmd), 10*time.Minute))
	return out.String(), errOut.String(), code
}

// requireOneLineError checks a failure the way the CLI promises it: exit code 2 and one line naming the
// problem, no usage text and no panic.
func requireOneLineError(t *testing.T, stderr string, code int, want string) {
	t.Helper()
	require.Equal(t, 2, code, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	require.Contains(t, last, want)
	require.NotContains(t, stderr, "USAGE")
	require.NotContains(t, stderr, "panic")
}

func TestAppForName(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/local/bin/cannon": "cannon",
		"cannon":                "cannon",
		"./op-program":          "op-program",
		"/opt/kona/kona-host":   "kona-host",
		"faultproof":            "faultproof",
		"/tmp/faultproof.test":  "faultproof",
		"cannon64-impl":         "faultproof",
		"my-cannon":             "faultproof",
	} {
		app, _ := appFor([]string{argv0})
		require.Equal(t, want, app.Name, argv0)
	}
}

func TestInstallLinks(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	exe, err = filepath.EvalSymlinks(exe)
	require.NoError(t, err)
	for range 2 { // the second time, the links are there already
		_, stderr, code := runCLI(t, "install-links", dir)
		require.Equal(t, 0, code, stderr)
		for _, name := range []string{"cannon", "op-program", "kona-host"} {
			target, err := os.Readlink(filepath.Join(dir, name))
			require.NoError(t, err)
			require.Equal(t, exe, target)
		}
	}
	require.NoError(t, os.Remove(filepath.Join(dir, "cannon")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cannon"), []byte("another cannon"), 0o755))
	_, stderr, code := runCLI(t, "install-links", dir)
	requireOneLineError(t, stderr, code, "exists (--force replaces it)")
	_, stderr, code = runCLI(t, "install-links", "--force", dir)
	require.Equal(t, 0, code, stderr)
	target, err := os.Readlink(filepath.Join(dir, "cannon"))
	require.NoError(t, err)
	require.Equal(t, exe, target)
	_, stderr, code = runCLI(t, "install-links", filepath.Join(dir, "missing"))
	requireOneLineError(t, stderr, code, "is not a directory")
}

// TestDropInCannon drives the binary as Cannon: list, load-elf for each state version, witness, and run
// with op-challenger's flags (a proof at the asked step, the complete debug info, --debug's traceback).
func TestDropInCannon(t *testing.T) {
	guests := vmGuests(t, t.TempDir())
	dir := t.TempDir()

	stdout, stderr, code := namedCLI(t, "cannon", nil, "list")
	require.Equal(t, 0, code, stderr)
	for _, line := range []string{"multithreaded64-3 (6)", "multithreaded64-4 (7)", "multithreaded64-5 (8)"} {
		require.Contains(t, stdout, line)
	}

	for _, v := range vm.Versions {
		t.Run(v.String(), func(t *testing.T) {
			state, meta := filepath.Join(dir, v.String()+".bin.gz"), filepath.Join(dir, v.String()+".json")
			_, stderr, code := namedCLI(t, "cannon", nil, "load-elf", "--type", v.String(), "--path", filepath.Join(guests, "threads"), "--out", state, "--meta", meta)
			require.Equal(t, 0, code, stderr)
			stdout, stderr, code := namedCLI(t, "cannon", nil, "witness", "--input", state)
			require.Equal(t, 0, code, stderr)
			var w struct {
				StateVersion uint8 `json:"stateVersion"`
				Step         uint64
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &w))
			require.Equal(t, uint8(v), w.StateVersion)

			// op-challenger's command line, without a server (the guest reads no pre-images).
			out := filepath.Join(dir, v.String())
			const proofStep = 1000
			_, stderr, code = namedCLI(t, "cannon", nil, "run", "--input", state, "--output", filepath.Join(out, "final.bin.gz"),
				"--meta", "", "--info-at", "%10000000", "--proof-at", "=1000", "--proof-fmt", filepath.Join(out, "proofs", "%d.json.gz"),
				"--snapshot-at", "%1000000000", "--snapshot-fmt", filepath.Join(out, "snapshots", "%d.bin.gz"),
				"--debug-info", filepath.Join(out, "preimages", "debug-info.json"))
			require.Equal(t, 0, code, stderr)
			var proof struct {
				Step uint64 `json:"step"`
			}
			require.NoError(t, json.Unmarshal(readMaybeGzip(t, filepath.Join(out, "proofs", "1000.json.gz")), &proof))
			require.Equal(t, uint64(proofStep), proof.Step)
			var info map[string]any
			require.NoError(t, json.Unmarshal(readMaybeGzip(t, filepath.Join(out, "preimages", "debug-info.json")), &info))
			for _, key := range []string{"pages", "memory_used", "num_preimage_requests", "total_preimage_size", "total_steps",
				"instruction_cache_miss_count", "highest_icache_miss_pc", "rmw_success_count", "rmw_fail_count",
				"max_steps_between_ll_and_sc", "reservation_invalidation_count", "forced_preemption_count", "idle_step_count_thread_0"} {
				require.Contains(t, info, key)
			}
			require.Len(t, info, 13)
			// The threads guest contends on locks across preempted threads.
			require.NotZero(t, info["rmw_success_count"])
			require.NotZero(t, info["forced_preemption_count"])
			stdout, stderr, code = namedCLI(t, "cannon", nil, "witness", "--input", filepath.Join(out, "final.bin.gz"))
			require.Equal(t, 0, code, stderr)
			require.NoError(t, json.Unmarshal([]byte(stdout), &w))
			require.Equal(t, uint8(v), w.StateVersion)
			require.Equal(t, uint64(info["total_steps"].(float64)), w.Step)
		})
	}

	t.Run("--debug prints a traceback with symbols", func(t *testing.T) {
		state, meta := filepath.Join(dir, "multithreaded64-5.bin.gz"), filepath.Join(dir, "multithreaded64-5.json")
		stdout, stderr, code := namedCLI(t, "cannon", nil, "run", "--input", state, "--meta", meta, "--output", "",
			"--stop-at", "=200000", "--debug")
		require.Equal(t, 0, code, stderr)
		require.Regexp(t, `^(ERROR: stack underflow at pc=[0-9a-f]+\. step=\d+\n)*traceback at pc=[0-9a-f]+\. step=200000\n(\t\d+ [0-9a-f]+ in \S+ caller=[0-9a-f]{8}\n)+$`, stdout)
		_, stderr, code = namedCLI(t, "cannon", nil, "run", "--input", state, "--meta", "", "--debug")
		requireOneLineError(t, stderr, code, "--debug needs the symbols of --meta")
	})

	t.Run("bad input", func(t *testing.T) {
		_, stderr, code := namedCLI(t, "cannon", nil, "load-elf", "--type", "multithreaded64-2", "--path", filepath.Join(guests, "hello"))
		requireOneLineError(t, stderr, code, `unsupported state version "multithreaded64-2"`)
		// A state of an unsupported version: the latest state with another version byte.
		data := readMaybeGzip(t, filepath.Join(dir, "multithreaded64-5.bin.gz"))
		for _, version := range []byte{5, 9} {
			data[0] = version
			path := filepath.Join(dir, "bad.bin")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			for _, cmd := range [][]string{{"witness", "--input", path}, {"run", "--input", path, "--meta", ""}} {
				_, stderr, code := namedCLI(t, "cannon", nil, cmd...)
				requireOneLineError(t, stderr, code, "unsupported state version "+string('0'+rune(version)))
			}
		}
		_, stderr, code = namedCLI(t, "cannon", nil, "run", "--input", filepath.Join(dir, "multithreaded64-5.bin.gz"), "--bogus")
		requireOneLineError(t, stderr, code, "flag provided but not defined: --bogus")
	})
}

// keepFlags restores the flags at the end of the test: urfave/cli keeps the values it read from the
// environment in the (package-level) flags, where they would outlive the test's variables.
func keepFlags(t *testing.T, flags []cli.Flag) {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			saved := *f
			t.Cleanup(func() { *f = saved })
		case *cli.StringSliceFlag:
			saved := *f
			t.Cleanup(func() { *f = saved })
		case *cli.Uint64Flag:
			saved := *f
			t.Cleanup(func() { *f = saved })
		case *cli.IntFlag:
			saved := *f
			t.Cleanup(func() { *f = saved })
		case *cli.BoolFlag:
			saved := *f
			t.Cleanup(func() { *f = saved })
		default:
			require.FailNow(t, fmt.Sprintf("keepFlags: %T", f))
		}
	}
}

// parseOpProgramFlags parses op-program's flags (plus env) as the op-program drop-in does, with the boot
// flags and a datadir.
func parseOpProgramFlags(t *testing.T, env map[string]string, args ...string) (*host.Config, error) {
	keepFlags(t, hostFlags)
	for k, v := range env {
		t.Setenv(k, v)
	}
	return parseHostFlags(t, args...)
}

// TestDropInOpProgramFlags: op-program's spellings of flags and variables, comma lists naming one chain,
// and the interop options refused.
func TestDropInOpProgramFlags(t *testing.T) {
	b := testL2Chain(t)
	dir := t.TempDir()
	devRollup := writeJSONFile(t, filepath.Join(dir, "rollup.json"), b.Rollup())
	devGenesis := writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": b.Config()})
	devL1 := writeJSONFile(t, filepath.Join(dir, "l1.json"), devnet.L1ChainConfig())
	custom := []string{"--rollup.config", devRollup, "--l2.genesis", devGenesis}
	commaDir := filepath.Join(dir, "a,b")
	require.NoError(t, os.Mkdir(commaDir, 0o755))
	commaRollup := writeJSONFile(t, filepath.Join(commaDir, "rollup.json"), b.Rollup())

	for _, name := range []string{"OP_PROGRAM_L1_CHAINCONFIG", "OP_PROGRAM_L1_CHAIN_CONFIG"} {
		t.Run(name+" is honoured", func(t *testing.T) {
			cfg, err := parseOpProgramFlags(t, map[string]string{name: devL1}, custom...)
			require.NoError(t, err, name)
			require.NotNil(t, cfg.L1ChainConfig, name)
			require.Equal(t, devnet.L1ChainConfig().ChainID, cfg.L1ChainConfig.ChainID)
			_, served := announced(t, cfg)
			require.True(t, served, "%s: the chain configs are served", name)
		})
	}
	t.Run("without the L1 config nothing is served", func(t *testing.T) {
		cfg, err := parseOpProgramFlags(t, nil, custom...)
		require.NoError(t, err)
		_, served := announced(t, cfg)
		require.False(t, served)
	})
	t.Run("l2.sequencenumber and its variables", func(t *testing.T) {
		keepFlags(t, hostFlags)
		app := &cli.App{Flags: hostFlags, Action: func(ctx *cli.Context) error {
			require.Equal(t, uint64(77), ctx.Uint64(l2BlockNumFlag.Name))
			return nil
		}}
		require.NoError(t, app.Run([]string{"op-program", "--l2.sequencenumber", "77"}))
		t.Setenv("OP_PROGRAM_L2_SEQUENCE_NUMBER", "77")
		require.NoError(t, app.Run([]string{"op-program"}))
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		err  string
	}{
		{"a network list naming one chain", []string{"--network", "op-sepolia,11155420"}, nil, ""},
		{"a network list naming two chains", []string{"--network", "op-sepolia,op-mainnet"}, nil, "names chains 11155420 and 10: several chains make an interop (super root) claim"},
		{"a rollup config list of one chain", []string{"--rollup.config", devRollup + "," + devRollup, "--l2.genesis", devGenesis + "," + devGenesis}, nil, ""},
		{"an empty list", []string{"--network", ","}, nil, "names no chain"},
		{"a file whose path has a comma", []string{"--rollup.config", commaRollup, "--l2.genesis", devGenesis}, nil, ""},
		{"--l2.agreed-prestate", append([]string{"--l2.agreed-prestate", "0x00"}, custom...), nil, "is not used with --l2.agreed-prestate"},
		{"--depset.config", append([]string{"--depset.config", devRollup}, custom...), nil, "--depset.config is for interop claims: it needs --l2.agreed-prestate"},
		{"OP_PROGRAM_DEPSET_CONFIG", custom, map[string]string{"OP_PROGRAM_DEPSET_CONFIG": devRollup}, "--depset.config is for interop claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOpProgramFlags(t, tc.env, tc.args...)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestDropInOpProgram runs the binary as op-program: bad options are one line and exit 2, and a devnet
// claim is decided in process (neither --server nor --exec), the valid one with 0 and a wrong one with 1.
func TestDropInOpProgram(t *testing.T) {
	b := testL2Chain(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"an interop pre-state with a single-chain claim's flags", []string{"--l2.agreed-prestate", "0xabcd"}, nil, "--l2.head is not used with --l2.agreed-prestate"},
		{"an interop dependency set from the environment", nil, []string{"OP_PROGRAM_DEPSET_CONFIG=depset.json"}, "--depset.config is for interop claims: it needs --l2.agreed-prestate"},
		{"an unknown flag", []string{"--bogus"}, nil, "flag provided but not defined: --bogus"},
		{"a bad value", []string{"--l2.blocknumber", "x"}, nil, "--l2.blocknumber: invalid value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(devnetHostArgs(t, b, 14, devnetRightClaim(t), 11)[1:], tc.args...)
			_, stderr, code := namedCLI(t, "op-program", tc.env, args...)
			requireOneLineError(t, stderr, code, tc.want)
		})
	}
	right := devnetRightClaim(t)
	for _, tc := range []struct {
		name  string
		claim [32]byte
		code  int
	}{{"valid claim", right, 0}, {"invalid claim", [32]byte{0xba, 0xd}, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			args := devnetHostArgs(t, b, 14, tc.claim, 11)[1:] // without the "host" command
			_, stderr, code := namedCLI(t, "op-program", nil, args...)
			require.Equal(t, tc.code, code, stderr)
		})
	}
	t.Run("OP_PROGRAM_L1_CHAINCONFIG gives the program the custom chain's configs", func(t *testing.T) {
		args := devnetHostArgsNoL1Config(t, right)[1:]
		_, stderr, code := namedCLI(t, "op-program", nil, args...)
		require.Equal(t, 2, code, "without an L1 chain config the host cannot serve the chain's configs: %s", stderr)
		l1 := writeJSONFile(t, filepath.Join(t.TempDir(), "l1.json"), devnet.L1ChainConfig())
		_, stderr, code = namedCLI(t, "op-program", []string{"OP_PROGRAM_L1_CHAINCONFIG=" + l1}, args...)
		require.Equal(t, 0, code, stderr)
	})
}

// konaArgsFrom turns devnetHostArgs' host flags into kona-host single's.
func konaArgsFrom(hostArgs []string) []string {
	names := map[string]string{
		"--rollup.config": "--rollup-config-path", "--l1.chainconfig": "--l1-config-path", "--datadir": "--data-dir",
		"--l1.head": "--l1-head", "--l2.head": "--agreed-l2-head-hash", "--l2.outputroot": "--agreed-l2-output-root",
		"--l2.claim": "--claimed-l2-output-root", "--l2.blocknumber": "--claimed-l2-block-number",
	}
	out := []string{"single"}
	for i := 1; i+1 < len(hostArgs); i += 2 {
		if n, ok := names[hostArgs[i]]; ok {
			out = append(out, n, hostArgs[i+1])
		}
	}
	return out
}

// parseKonaFlags parses kona-host single's flags as the drop-in does.
func parseKonaFlags(t *testing.T, args ...string) (*host.Config, error) {
	var cfg *host.Config
	app := &cli.App{Commands: []*cli.Command{{Name: "single", Flags: konaSingleFlags, Action: func(ctx *cli.Context) error {
		var err error
		cfg, err = konaHostConfig(ctx)
		return err
	}}}, ExitErrHandler: func(*cli.Context, error) {}}
	return cfg, app.Run(append([]string{"kona-host"}, args...))
}

func TestDropInKonaHostFlags(t *testing.T) {
	b := testL2Chain(t)
	base := konaArgsFrom(devnetHostArgs(t, b, 14, devnetRightClaim(t), 11))
	without := func(flag string) []string {
		for i, a := range base {
			if a == flag {
				return append(append([]string{}, base[:i]...), base[i+2:]...)
			}
		}
		require.FailNow(t, fmt.Sprintf("no %s", flag))
		return nil
	}
	t.Run("a custom chain: the L2 chain config from the rollup config, all configs served", func(t *testing.T) {
		cfg, err := parseKonaFlags(t, join(base, "--server")...)
		require.NoError(t, err)
		require.True(t, cfg.ServerMode)
		require.Equal(t, rollup.ChainConfigFromRollup(b.Rollup()), cfg.L2ChainConfig)
		require.Equal(t, b.Config(), cfg.L2ChainConfig, "kona's rule gives the devnet's own L2 chain config")
		id, served := announced(t, cfg)
		require.Equal(t, b.Rollup().ChainID(), id)
		require.True(t, served)
	})
	t.Run("a registry chain by ID", func(t *testing.T) {
		cfg, err := parseKonaFlags(t, join(without("--rollup-config-path"), "--native", "--l2-chain-id", "11155420", "--l1-config-path", "")...)
		require.NoError(t, err)
		require.Equal(t, uint64(11155420), cfg.Rollup.ChainID())
		require.False(t, cfg.ServerMode)
	})
	t.Run("kona's environment variables", func(t *testing.T) {
		keepFlags(t, konaSingleFlags)
		t.Setenv("CLAIMED_L2_BLOCK_NUMBER", "12")
		t.Setenv("DATA_FORMAT", "pebble")
		cfg, err := parseKonaFlags(t, join(without("--claimed-l2-block-number"), "--native")...)
		require.NoError(t, err)
		require.Equal(t, uint64(12), cfg.L2ClaimBlockNumber)
		require.Equal(t, "pebble", string(cfg.DataFormat))
	})
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"neither --native nor --server", base, "exactly one of --native and --server is required"},
		{"both", join(base, "--native", "--server"), "exactly one of --native and --server is required"},
		{"chain ID and rollup config", join(base, "--native", "--l2-chain-id", "10"), "mutually exclusive"},
		{"no chain", join(without("--rollup-config-path"), "--native"), "one of --l2-chain-id or --rollup-config-path is required"},
		{"an unknown chain ID", join(without("--rollup-config-path"), "--native", "--l2-chain-id", "424242"), "--l2-chain-id"},
		{"one node address", join(base, "--native", "--l1-node-address", "http://127.0.0.1:1"), "must be given together"},
		{"offline without a data directory", join(without("--data-dir"), "--native"), "--data-dir is required"},
		{"a bad hash", join(without("--l1-head"), "--native", "--l1-head", "0x12"), "--l1-head"},
		{"a bad data format", join(base, "--native", "--data-format", "sqlite"), "--data-format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseKonaFlags(t, tc.args...)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestDropInKonaHost runs the binary as kona-host: single --native decides a devnet claim in process, and
// bad input is one line with exit 2.
func TestDropInKonaHost(t *testing.T) {
	b := testL2Chain(t)
	right := devnetRightClaim(t)
	for _, tc := range []struct {
		name  string
		claim [32]byte
		code  int
	}{{"valid claim", right, 0}, {"invalid claim", [32]byte{0xba, 0xd}, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(konaArgsFrom(devnetHostArgs(t, b, 14, tc.claim, 11)), "--native")
			_, stderr, code := namedCLI(t, "kona-host", nil, append([]string{"-vvvv"}, args...)...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, "DEBUG", "-vvvv is debug level")
		})
	}
	args := konaArgsFrom(devnetHostArgs(t, b, 14, right, 11))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"super without a mode", []string{"super", "--l1-head", "0x00"}, "exactly one of --native and --server is required"},
		{"no command", nil, "a command is required: single or super"},
		{"an unknown flag", join(args, "--native", "--bogus"), "flag provided but not defined: --bogus"},
		{"file logs", join(args, "--native", "--logs.file.directory", "/tmp"), "--logs.file.directory: logging to files is not supported"},
		{"both modes", join(args, "--native", "--server"), "exactly one of --native and --server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := namedCLI(t, "kona-host", nil, tc.args...)
			requireOneLineError(t, stderr, code, tc.want)
		})
	}
}

// join concatenates args into a new slice (append would share the first's array between table rows).
func join(args []string, more ...string) []string {
	return append(append([]string{}, args...), more...)
}

// TestKonaArgs: clap's counted -v and kona's global logging flags, before or after the command.
func TestKonaArgs(t *testing.T) {
	defer func(v int) { konaVerbosity = v }(konaVerbosity)
	for _, tc := range []struct {
		in, want  []string
		verbosity int
	}{
		{[]string{"kona-host", "single", "--native"}, []string{"kona-host", "single", "--native"}, -1},
		{[]string{"kona-host", "-vv", "single", "-v", "--native"}, []string{"kona-host", "single", "--native"}, 3},
		{[]string{"kona-host", "-q", "--logs.stdout.format", "json", "single", "--native"},
			[]string{"kona-host", "single", "-q", "--logs.stdout.format", "json", "--native"}, -1},
		{[]string{"kona-host", "--logs.stdout.format=json", "single", "--l1-head", "0x1", "--logs.stdout.quiet"},
			[]string{"kona-host", "single", "--logs.stdout.format=json", "--l1-head", "0x1", "--logs.stdout.quiet"}, -1},
		{[]string{"kona-host", "--logs.stdout.quiet"}, []string{"kona-host", "--logs.stdout.quiet"}, -1},
		{[]string{"kona-host", "single", "--", "-v"}, []string{"kona-host", "single", "--", "-v"}, -1},
	} {
		konaVerbosity = -1
		require.Equal(t, tc.want, konaArgs(tc.in), "%v", tc.in)
		require.Equal(t, tc.verbosity, konaVerbosity, "%v", tc.in)
	}
}

// konaSuperFixtureArgs are kona-host super's flags for a claim of the interop fixture (its chain as a
// dependency set of one), offline from its datadir.
func konaSuperFixtureArgs(f *interopFixture, prestate []byte, claim common.Hash, game uint64) []string {
	return []string{"super", "--l1-head", f.d.L1Head().Hash().Hex(), "--agreed-l2-pre-state", common.Bytes2Hex(prestate),
		"--claimed-l2-post-state", claim.Hex(), "--claimed-l2-timestamp", itoa(game), "--data-dir", f.dd,
		"--rollup-config-paths", f.rollup, "--l1-config-path", f.l1, "--depset-cfg", f.depset}
}

// parseKonaSuperFlags parses kona-host super's flags as the drop-in does.
func parseKonaSuperFlags(t *testing.T, args ...string) (*host.Config, error) {
	var cfg *host.Config
	app := &cli.App{Commands: []*cli.Command{{Name: "super", Flags: konaSuperFlags, Action: func(ctx *cli.Context) error {
		var err error
		cfg, err = konaSuperConfig(ctx)
		return err
	}}}, ExitErrHandler: func(*cli.Context, error) {}}
	return cfg, app.Run(append([]string{"kona-host"}, args...))
}

// TestDropInKonaHostSuperFlags: kona-host super's flags make our host's configuration of a super-root
// claim (kona's rules: one mode, the three node addresses together, a data directory offline; the L2 chain
// config of a file's chain as kona derives it; the dependency set required once Lagoon is scheduled).
func TestDropInKonaHostSuperFlags(t *testing.T) {
	f := newInteropFixture(t)
	d, id := f.d, f.d.Rollup().ChainID()
	s := interop.NewSuperV1(d.L2Block(3).Time()+1, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(3)})
	base := konaSuperFixtureArgs(f, s.Marshal(), common.Hash{1}, s.Timestamp+5)
	without := func(flag string) []string {
		i := slices.Index(base, flag)
		require.GreaterOrEqual(t, i, 0, flag)
		return append(append([]string{}, base[:i]...), base[i+2:]...)
	}
	t.Run("a custom chain", func(t *testing.T) {
		cfg, err := parseKonaSuperFlags(t, join(base, "--server")...)
		require.NoError(t, err)
		require.True(t, cfg.ServerMode)
		require.Equal(t, s.Timestamp+5, cfg.L2ClaimBlockNumber)
		require.Equal(t, s.Marshal(), []byte(cfg.Interop.AgreedPrestate))
		require.Len(t, cfg.Interop.Chains, 1)
		require.Equal(t, rollup.ChainConfigFromRollup(d.Rollup()), cfg.Interop.Chains[0].L2)
		require.Equal(t, []uint64{id}, cfg.Interop.DepSet.Chains())
		require.NotNil(t, cfg.Interop.Rebuild, "online, replaced blocks are rebuilt")
	})
	t.Run("kona's aliases and environment variables", func(t *testing.T) {
		keepFlags(t, konaSuperFlags)
		t.Setenv("CLAIMED_L2_TIMESTAMP", "1700000099")
		args := join(without("--claimed-l2-timestamp"), "--native")
		args[slices.Index(args, "--agreed-l2-pre-state")] = "--l2-pre-state"
		args[slices.Index(args, "--depset-cfg")] = "--dependency-set-path"
		cfg, err := parseKonaSuperFlags(t, args...)
		require.NoError(t, err)
		require.Equal(t, uint64(1700000099), cfg.L2ClaimBlockNumber)
	})
	t.Run("without a dependency set and no Lagoon: the prestate's chains", func(t *testing.T) {
		cfg, err := parseKonaSuperFlags(t, join(without("--depset-cfg"), "--native")...)
		require.NoError(t, err)
		require.Equal(t, []uint64{id}, cfg.Interop.DepSet.Chains())
	})
	lagoon := *d.Rollup()
	at := uint64(0)
	lagoon.LagoonTime = &at
	lagoonPath := writeJSONFile(t, filepath.Join(t.TempDir(), "rollup-lagoon.json"), &lagoon)
	badVersion := (&interop.TransitionState{SuperRoot: s.Marshal()}).Marshal()
	badVersion[0] = 0xFE
	otherSet := writeJSONFile(t, filepath.Join(t.TempDir(), "depset.json"), map[string]any{"dependencies": map[string]any{"5": map[string]any{}}})
	two := interop.NewSuperV1(s.Timestamp, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(3)}, interop.ChainOutput{ChainID: 424242})
	other := *d.Rollup()
	other.L2ChainID = big.NewInt(77)
	otherRollup := writeJSONFile(t, filepath.Join(t.TempDir(), "rollup-77.json"), &other)
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"neither --native nor --server", base, "exactly one of --native and --server is required"},
		{"one node address", join(base, "--native", "--l1-node-address", "http://127.0.0.1:1"), "must be given together"},
		{"offline without a data directory", join(without("--data-dir"), "--native"), "--data-dir is required"},
		{"no timestamp", join(without("--claimed-l2-timestamp"), "--native"), "--claimed-l2-timestamp is required"},
		{"a transition state with a bad version", join(konaSuperFixtureArgs(f, badVersion, common.Hash{1}, s.Timestamp+5), "--native"), "unknown transition state version"},
		{"a dependency set without the chain", join(replaced(base, "--depset-cfg", otherSet), "--native"), "is not in the dependency set"},
		{"a chain of the prestate without configs", join(konaSuperFixtureArgs(f, two.Marshal(), common.Hash{1}, s.Timestamp+5), "--native"), "chain 424242 of the agreed prestate"},
		{"a rollup config of a chain not in the prestate", join(replaced(base, "--rollup-config-paths", f.rollup+","+otherRollup), "--native"), "chain 77, which is not in the agreed prestate"},
		{"Lagoon without a dependency set", join(replaced(without("--depset-cfg"), "--rollup-config-paths", lagoonPath), "--native"), "no --dependency-set-path (--depset-cfg)"},
		{"not hex", join(replaced(base, "--agreed-l2-pre-state", "zz"), "--native"), "--agreed-l2-pre-state: not hex-encoded bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseKonaSuperFlags(t, tc.args...)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestDropInKonaHostSuper runs the binary as kona-host super --native, offline: the next transition state
// is valid (exit 0), another claim invalid (1), and bad input is one line with exit 2.
func TestDropInKonaHostSuper(t *testing.T) {
	f := newInteropFixture(t)
	d, id := f.d, f.d.Rollup().ChainID()
	s := interop.NewSuperV1(d.L2Block(3).Time()+1, interop.ChainOutput{ChainID: id, Output: d.OutputRoot(3)})
	next := &interop.TransitionState{SuperRoot: s.Marshal(), PendingProgress: []interop.OptimisticBlock{{BlockHash: d.L2Block(4).Hash(), OutputRoot: d.OutputRoot(4)}}, Step: 1}
	_, stderr, code := namedCLI(t, "kona-host", nil, append([]string{"-v"}, join(konaSuperFixtureArgs(f, s.Marshal(), next.Hash(), s.Timestamp+5), "--native")...)...)
	require.Equal(t, 0, code, stderr)
	_, stderr, code = namedCLI(t, "kona-host", nil, join(konaSuperFixtureArgs(f, s.Marshal(), s.Root(), s.Timestamp+5), "--native")...)
	require.Equal(t, 1, code, stderr)
	badVersion := (&interop.TransitionState{SuperRoot: s.Marshal()}).Marshal()
	badVersion[0] = 0xFE
	otherSet := writeJSONFile(t, filepath.Join(t.TempDir(), "depset.json"), map[string]any{"dependencies": map[string]any{"5": map[string]any{}}})
	base := join(konaSuperFixtureArgs(f, s.Marshal(), next.Hash(), s.Timestamp+5), "--native")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a transition state with a bad version", join(konaSuperFixtureArgs(f, badVersion, next.Hash(), s.Timestamp+5), "--native"), "unknown transition state version"},
		{"a dependency set without the chain", replaced(base, "--depset-cfg", otherSet), "is not in the dependency set"},
		{"an unknown flag", join(base, "--bogus"), "flag provided but not defined: --bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := namedCLI(t, "kona-host", nil, tc.args...)
			requireOneLineError(t, stderr, code, tc.want)
		})
	}
}

// replaced is args with flag's value replaced.
func replaced(args []string, flag, value string) []string {
	out := join(args)
	out[slices.Index(out, flag)+1] = value
	return out
}
