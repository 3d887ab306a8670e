package crosscheck

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/cannon/mipsevm"
	"github.com/ethereum-optimism/optimism/cannon/mipsevm/versions"

	"github.com/faultproof/faultproof/vm"
)

// TestDebugInfoMatchesCannon runs guest programs to their exit in Cannon, loaded as `cannon run` loads a
// state (with its 128 MiB decoded code region), and in our VM, both with statistics on, and requires
// every field of Cannon's DebugInfo to be the same. Ours runs once on the fast path (Run) and once
// mixing proof steps, plain steps and Run, which must count alike.
func TestDebugInfoMatchesCannon(t *testing.T) {
	names := []string{"hello", "threads", "mutex", "timers", "gcchurn"}
	dir := buildGuests(t, names...)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			cs, meta := cannonLoad(t, path)
			var buf bytes.Buffer
			require.NoError(t, cs.Serialize(&buf))
			var large versions.VersionedStateWithLargeICache
			require.NoError(t, large.Deserialize(&buf))
			cvm := large.CreateVM(log.NewLogger(log.DiscardHandler()), vm.NewMemoryOracle(), io.Discard, io.Discard, meta)
			cvm.EnableStats()
			for !large.GetExited() {
				_, err := cannonStep(cvm, false)
				require.NoError(t, err, "cannon step %d", large.GetStep())
			}
			want := cvm.GetDebugInfo()
			if want.RmwSuccessCount == 0 || want.ForcedPreemptionCount == 0 {
				require.FailNow(t, fmt.Sprintf("the guest exercises too little: %+v", want))
			}

			ours, _ := ourLoad(t, path)
			fast := vm.NewVM(ours, vm.NewMemoryOracle(), nil, nil)
			fast.EnableStats()
			require.NoError(t, fast.Run(0))
			compareDebugInfo(t, "Run", want, fast)

			ours, _ = ourLoad(t, path)
			mixed := vm.NewVM(ours, vm.NewMemoryOracle(), nil, nil)
			mixed.EnableStats()
			for i := 0; !ours.Exited; i++ {
				var err error
				switch i % 3 {
				case 0:
					_, err = mixed.Step(true)
				case 1:
					_, err = mixed.Step(false)
				default:
					err = mixed.Run(uint64(i % 997))
				}
				require.NoError(t, err)
			}
			compareDebugInfo(t, "Step and Run", want, mixed)
			t.Logf("%s: %+v", name, *want)
		})
	}
}

func compareDebugInfo(t *testing.T, how string, want *mipsevm.DebugInfo, m *vm.VM) {
	t.Helper()
	s := m.State()
	requests, size := m.PreimageStats()
	st := m.Stats()
	got := mipsevm.DebugInfo{
		Pages:                        s.Memory.PageCount(),
		MemoryUsed:                   want.MemoryUsed, // compared below: ours is pages times the page size
		NumPreimageRequests:          requests,
		TotalPreimageSize:            size,
		TotalSteps:                   s.Step,
		InstructionCacheMissCount:    st.InstructionCacheMisses,
		HighestICacheMissPC:          want.HighestICacheMissPC,
		RmwSuccessCount:              st.RMWSuccesses,
		RmwFailCount:                 st.RMWFailures,
		MaxStepsBetweenLLAndSC:       st.MaxStepsBetweenLLAndSC,
		ReservationInvalidationCount: st.ReservationInvalidations,
		ForcedPreemptionCount:        st.ForcedPreemptions,
		IdleStepCountThread0:         st.IdleStepsThread0,
	}
	require.Equal(t, *want, got, "%s: debug info differs", how)
	require.Equal(t, uint64(want.MemoryUsed), uint64(s.Memory.PageCount())*vm.PageSize, "%s: memory used", how)
	require.Equal(t, uint64(want.HighestICacheMissPC), st.HighestICacheMissPC, "%s: highest instruction cache miss", how)
}
