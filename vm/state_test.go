package vm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

// Hash of Cannon's empty multithreaded64 state (one thread at PC 0, empty
// memory), as computed by Cannon.
const cannonEmptyStateHash = "0x035b096e17d7b97f6bbaa13d179958e729b70813e931dc90dbf4193372f3dc71"

func sampleState() *State {
	s := NewState(0x10000, HeapStart)
	s.Memory.SetWord(0x10000, 0x24020FA1_0000000C)
	s.Memory.SetWord(HighMemoryStart, 1)
	s.PreimageKey = common.Hash{2, 3, 4}
	s.PreimageOffset = 17
	s.LLReservationStatus = LLStatusActive64bit
	s.LLAddress = 0x2008
	s.LLOwnerThread = 1
	s.Step = 123456
	s.StepsSinceLastContextSwitch = 99
	s.TraverseRight = true
	s.RightThreadStack = append(s.RightThreadStack, &Thread{ThreadID: 1, ExitCode: 3, Exited: true, Cpu: Cpu{PC: 8, NextPC: 12, LO: 5, HI: 6}, Registers: [32]uint64{29: 0x7000}})
	s.NextThreadID = 2
	s.LastHint = []byte{0, 0, 0, 9, 'x'}
	return s
}

func TestEmptyStateHash(t *testing.T) {
	s := NewState(0, 0)
	h := s.Hash().Hex()
	require.Equal(t, cannonEmptyStateHash, h, "empty state hash %s, want %s", h, cannonEmptyStateHash)
	require.Equal(t, "0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5", EmptyThreadsRoot.Hex(), "empty threads root")
}

func TestStateWitness(t *testing.T) {
	s := sampleState()
	w, h := s.EncodeWitness()
	if len(w) != StateWitnessSize || StateWitnessSize != 188 {
		require.FailNow(t, fmt.Sprintf("witness size %d", len(w)))
	}
	require.Equal(t, byte(StatusUnfinished), h[0], "status byte")
	if got, err := StateHashFromWitness(w); err != nil || got != h {
		require.FailNow(t, "StateHashFromWitness")
	}
	for _, c := range []struct {
		exitCode uint8
		status   uint8
	}{{0, StatusValid}, {1, StatusInvalid}, {2, StatusPanic}, {200, StatusPanic}} {
		s.Exited, s.ExitCode = true, c.exitCode
		_, h := s.EncodeWitness()
		require.Equal(t, c.status, h[0], "exit code %d: status %d", c.exitCode, h[0])
	}
	if ThreadEncodingSize != 298 || ThreadWitnessSize != 330 {
		require.FailNow(t, "thread sizes")
	}
	require.Equal(t, pushThreadRoot(EmptyThreadsRoot, s.RightThreadStack[0]), ThreadStackRoot(s.RightThreadStack), "thread stack root")
}

func TestStateBinaryRoundTrip(t *testing.T) {
	s := sampleState()
	var buf bytes.Buffer
	require.NoError(t, s.Serialize(&buf))
	require.Equal(t, StateVersion, buf.Bytes()[0], "version byte")
	got, err := DeserializeState(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	if got.Hash() != s.Hash() || !bytes.Equal(got.LastHint, s.LastHint) || got.Memory.PageCount() != 2 {
		require.FailNow(t, "round trip changed the state")
	}
	var again bytes.Buffer
	if err := got.Serialize(&again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		require.FailNow(t, "re-serialization differs")
	}

	bad := append([]byte{}, buf.Bytes()...)
	for _, v := range []byte{0, 5, 9} { // single-threaded, 32-bit and future versions
		bad[0] = v
		_, err := DeserializeState(bytes.NewReader(bad))
		require.ErrorIs(t, err, ErrUnsupportedVersion, "version %d: %v", v, err)
	}
	for _, v := range Versions {
		bad[0] = byte(v)
		got, err := DeserializeState(bytes.NewReader(bad))
		if err != nil || got.Version != v || got.Hash() != s.Hash() {
			require.FailNow(t, fmt.Sprintf("version %d: %v", v, err))
		}
		var again bytes.Buffer
		if err := got.Serialize(&again); err != nil || !bytes.Equal(again.Bytes(), bad) {
			require.FailNow(t, fmt.Sprintf("version %d: re-serialization differs", v))
		}
	}
	bad[0] = StateVersion
	_, err = DeserializeState(bytes.NewReader(buf.Bytes()[:buf.Len()-1]))
	require.Error(t, err, "truncated state accepted")
	// The exited flag must be 0 or 1.
	exitedAt := 1 + 8 + 2*(8+PageSize) + 32 + 8 + 8 + 1 + 8 + 8 + 1
	bad = append([]byte{}, buf.Bytes()...)
	bad[exitedAt] = 2
	if _, err := DeserializeState(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "invalid boolean") {
		require.FailNow(t, fmt.Sprintf("bad bool: %v", err))
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	s := sampleState()
	data, err := json.Marshal(s)
	require.NoError(t, err)
	for _, field := range []string{`"Memory":[{"index":16,"data":[`, `"NextThreadId":2`, `"LastHint":"0x0000000978"`, `"threadId":1`, `"cpu":{"pc":8,"nextPC":12,"lo":5,"hi":6}`} {
		require.Contains(t, string(data), field, "JSON lacks %s", field)
	}
	var got State
	require.NoError(t, json.Unmarshal(data, &got))
	if got.Hash() != s.Hash() || !bytes.Equal(got.LastHint, s.LastHint) {
		require.FailNow(t, "JSON round trip changed the state")
	}
	if strings.Contains(string(data), "StateVersion") || got.Version != LatestVersion {
		require.FailNow(t, "the latest version is not written in JSON, as in Cannon's")
	}
	// An older version is kept, so that a JSON snapshot runs by its rules; an unknown one is refused.
	s.Version = MultiThreaded64v3
	if data, err = json.Marshal(s); err != nil || !strings.Contains(string(data), `"StateVersion":6`) {
		require.FailNow(t, fmt.Sprintf("version 6 in JSON: %v", err))
	}
	if err := json.Unmarshal(data, &got); err != nil || got.Version != MultiThreaded64v3 {
		require.FailNow(t, fmt.Sprintf("version 6 from JSON: %d, %v", got.Version, err))
	}
	bad := strings.Replace(string(data), `"StateVersion":6`, `"StateVersion":5`, 1)
	err = json.Unmarshal([]byte(bad), &got)
	require.ErrorIs(t, err, ErrUnsupportedVersion, "version 5 from JSON: %v", err)
}

func TestStateFiles(t *testing.T) {
	s := sampleState()
	for _, name := range []string{"s.bin", "s.bin.gz", "s.json", "s.json.gz"} {
		path := filepath.Join(t.TempDir(), name)
		require.NoError(t, WriteStateFile(path, s))
		got, err := LoadStateFile(path)
		require.NoError(t, err, "%s", name)
		require.Equal(t, s.Hash(), got.Hash(), "%s: hash changed", name)
	}
}

func TestLoadProgramRejects(t *testing.T) {
	_, _, err := LoadProgram([]byte("not an elf"))
	require.Error(t, err, "garbage accepted")
}

func TestMetadataLookup(t *testing.T) {
	m := &Metadata{Symbols: []Symbol{{"a", 0x100, 0x10}, {"b", 0x200, 0x8}}}
	for addr, want := range map[uint64]string{0x50: "!start", 0x100: "a", 0x110: "a", 0x150: "!gap", 0x204: "b"} {
		got := m.LookupSymbol(addr)
		require.Equal(t, want, got, "%#x: %s, want %s", addr, got, want)
	}
	require.Equal(t, "!unknown", (&Metadata{}).LookupSymbol(1), "empty metadata")
}
