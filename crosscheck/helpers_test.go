package crosscheck

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/cannon/mipsevm"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/multithreaded"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/program"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/versions"

	"github.com/faultproof/faultproof/vm"
)

var (
	guestOnce sync.Once
	guestDir  string
	guestErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if guestDir != "" {
		os.RemoveAll(guestDir)
	}
	if tools.dir != "" {
		os.RemoveAll(tools.dir)
	}
	os.Exit(code)
}

// tools are the binaries built once per test binary (the faultproof CLI, cannon), shared by its tests.
var tools struct {
	sync.Mutex
	dir   string
	built map[string]string
}

// buildTool builds pkg in the module at dir (relative to this one) as name, once per test binary, and
// returns the binary's path.
func buildTool(tb testing.TB, name, dir, pkg string) string {
	tb.Helper()
	tools.Lock()
	defer tools.Unlock()
	if path, ok := tools.built[name]; ok {
		return path
	}
	if tools.dir == "" {
		d, err := os.MkdirTemp("", "crosscheck-tools")
		require.NoError(tb, err)
		tools.dir, tools.built = d, map[string]string{}
	}
	path := filepath.Join(tools.dir, name)
	cmd := exec.Command("go", "build", "-o", path, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "go build %s: %s", pkg, out)
	tools.built[name] = path
	return path
}

// faultproofBinary is the faultproof CLI built from the root module.
func faultproofBinary(tb testing.TB) string {
	return buildTool(tb, "faultproof", "..", "./cmd/faultproof")
}

// cannonBinary is $CANNON_BIN, or Cannon built from this module's optimism version (about a minute).
func cannonBinary(tb testing.TB) string {
	if c := os.Getenv("CANNON_BIN"); c != "" {
		return c
	}
	return buildTool(tb, "cannon", ".", "github.com/ethereum-optimism/optimism/cannon")
}

// guestPath returns the path of a guest program of ../vm/testdata/guest,
// compiled for the VM once per test binary.
func guestPath(tb testing.TB, name string) string {
	tb.Helper()
	guestOnce.Do(func() {
		guestDir, guestErr = os.MkdirTemp("", "crosscheck-guests")
		if guestErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", guestDir+"/", "./hello", "./threads", "./oracle")
		cmd.Dir = filepath.Join("..", "vm", "testdata", "guest")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			guestErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	require.NoError(tb, guestErr, "building guests")
	return filepath.Join(guestDir, name)
}

// cannonLoad does what "cannon load-elf --type multithreaded64-5" does and
// returns the versioned state and the meta.json bytes.
func cannonLoad(tb testing.TB, path string) (*versions.VersionedState, *program.Metadata) {
	tb.Helper()
	f, err := elf.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	st, err := program.LoadELF(f, multithreaded.CreateInitialState)
	require.NoError(tb, err)
	require.NoError(tb, program.PatchStack(st))
	meta, err := program.MakeMetadata(f)
	require.NoError(tb, err)
	vs, err := versions.NewFromState(versions.VersionMultiThreaded64_v5, st)
	require.NoError(tb, err)
	return vs, meta
}

// ourLoad loads a program with the vm package.
func ourLoad(tb testing.TB, path string) (*vm.State, *vm.Metadata) {
	tb.Helper()
	data, err := os.ReadFile(path)
	require.NoError(tb, err)
	s, meta, err := vm.LoadProgram(data)
	require.NoError(tb, err)
	return s, meta
}

// toCannon converts our state to Cannon's through the binary format.
func toCannon(tb testing.TB, s *vm.State) *versions.VersionedState {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, s.Serialize(&buf))
	var vs versions.VersionedState
	require.NoError(tb, vs.Deserialize(&buf))
	return &vs
}

func serializeCannon(tb testing.TB, vs *versions.VersionedState) []byte {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, vs.Serialize(&buf))
	return buf.Bytes()
}

func serializeOurs(tb testing.TB, s *vm.State) []byte {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, s.Serialize(&buf))
	return buf.Bytes()
}

// pair runs the same program in Cannon and in our VM.
type pair struct {
	cs       *versions.VersionedState
	cvm      mipsevm.FPVM
	os       *vm.State
	ovm      *vm.VM
	cOut     bytes.Buffer
	oOut     bytes.Buffer
	cOracle  *vm.MemoryOracle
	ourOracl *vm.MemoryOracle
}

func newPair(tb testing.TB, name string, preimages map[[32]byte][]byte) *pair {
	path := guestPath(tb, name)
	cs, meta := cannonLoad(tb, path)
	ours, _ := ourLoad(tb, path)
	p := &pair{cs: cs, os: ours, cOracle: vm.NewMemoryOracle(), ourOracl: vm.NewMemoryOracle()}
	for k, v := range preimages {
		p.cOracle.Set(k, v)
		p.ourOracl.Set(k, v)
	}
	logger := log.NewLogger(log.DiscardHandler())
	p.cvm = cs.CreateVM(logger, p.cOracle, &p.cOut, io.Discard, meta)
	p.ovm = vm.NewVM(ours, p.ourOracl, &p.oOut, io.Discard)
	return p
}

// cannonStep steps Cannon, turning its panics into errors.
func cannonStep(v mipsevm.FPVM, proof bool) (wit *mipsevm.StepWitness, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannon panic: %v", r)
		}
	}()
	return v.Step(proof)
}

func (p *pair) hashes() (cannon, ours [32]byte) {
	_, ch := p.cs.EncodeWitness()
	return ch, p.os.Hash()
}

func hashesOf(cs *versions.VersionedState, ours *vm.State) (cannon, our [32]byte) {
	_, ch := cs.EncodeWitness()
	return ch, ours.Hash()
}

// optimismDir is the directory of this module's optimism dependency in the module cache, where test
// vectors of Optimism's own repository (op-service, kona) are read from.
func optimismDir(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum-optimism/optimism").Output()
	require.NoError(tb, err, "go list -m github.com/ethereum-optimism/optimism")
	return strings.TrimSpace(string(out))
}
