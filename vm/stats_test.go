package vm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStatsLLSCDistance follows Cannon's rules for the load-linked to store-conditional distance: measured
// per thread, only while the thread is among the last five to load-link, and forgotten at the
// store-conditional.
func TestStatsLLSCDistance(t *testing.T) {
	var s statsTracker
	s.loadLinked(1, 10)
	s.storeConditional(1, 15, true)
	s.storeConditional(1, 100, false) // no load-linked to measure from any more
	if s.RMWSuccesses != 1 || s.RMWFailures != 1 || s.MaxStepsBetweenLLAndSC != 5 {
		require.FailNow(t, fmt.Sprintf("after one pair: %+v", s.Stats))
	}
	s.loadLinked(2, 20)
	s.loadLinked(2, 30) // a later load-linked of the same thread replaces the first
	s.storeConditional(2, 37, true)
	require.Equal(t, uint64(7), s.MaxStepsBetweenLLAndSC, "re-linked: %d, want 7", s.MaxStepsBetweenLLAndSC)
	// Six threads load-link: the first is forgotten, the others are measured.
	for th := uint64(10); th < 16; th++ {
		s.loadLinked(th, 100+th)
	}
	s.storeConditional(10, 1000, false)
	require.Equal(t, uint64(7), s.MaxStepsBetweenLLAndSC, "evicted thread measured: %d", s.MaxStepsBetweenLLAndSC)
	s.storeConditional(11, 1000, false)
	require.Equal(t, uint64(1000-111), s.MaxStepsBetweenLLAndSC, "thread 11: %d, want %d", s.MaxStepsBetweenLLAndSC, 1000-111)
	// Touching a thread makes it the most recent: 12 survives two new threads, 13 does not.
	s.loadLinked(12, 500)
	s.loadLinked(20, 501)
	s.loadLinked(21, 502)
	if s.findLL(12) < 0 || s.findLL(13) >= 0 {
		require.FailNow(t, fmt.Sprintf("LRU order: %+v", s.llSteps[:s.nLL]))
	}
}

// TestStatsIdleThread0 counts thread 0's idle steps between the preemptions that switch it out and in,
// starting as Cannon does from thread 0 as the active thread.
func TestStatsIdleThread0(t *testing.T) {
	var s statsTracker
	s.threadActivated(0, 5) // 0 to 0: nothing
	s.threadActivated(1, 10)
	s.threadActivated(2, 20)
	s.threadActivated(0, 35)
	s.threadActivated(3, 40)
	s.threadActivated(0, 41)
	require.Equal(t, uint64(25+1), s.IdleStepsThread0, "idle steps %d, want 26", s.IdleStepsThread0)
}

// TestStatsOnTheFastPath runs code above the 128 MiB cached region through Run: every step there is an
// instruction cache miss, and a thread that runs its quantum out is preempted (with one thread, too).
func TestStatsOnTheFastPath(t *testing.T) {
	const pc = icacheSize + 0x100
	s := NewState(pc, HeapStart)
	for i := uint64(0); i < 8; i++ {
		writeInsn(s.Memory, pc+4*i, itype(0x09, 0, 2, 1)) // addiu v0, zero, 1
	}
	// A jump back keeps it looping: j pc, with a nop in the delay slot.
	writeInsn(s.Memory, pc+32, 0x08000000|uint32(pc>>2)&0x03FF_FFFF)
	m := NewVM(s, NewMemoryOracle(), nil, nil)
	m.EnableStats()
	require.NoError(t, m.Run(SchedQuantum+1))
	st := m.Stats()
	if st.InstructionCacheMisses != SchedQuantum || st.HighestICacheMissPC != pc+36 || st.ForcedPreemptions != 1 {
		require.FailNow(t, fmt.Sprintf("stats %+v, want %d misses up to %#x and one preemption", st, SchedQuantum, pc+36))
	}

	// The same code below 128 MiB has no misses, and without EnableStats nothing is counted.
	low := NewState(0x10000, HeapStart)
	for i := uint64(0); i < 8; i++ {
		writeInsn(low.Memory, 0x10000+4*i, itype(0x09, 0, 2, 1))
	}
	writeInsn(low.Memory, 0x10000+32, 0x08000000|0x10000>>2)
	m = NewVM(low, NewMemoryOracle(), nil, nil)
	m.EnableStats()
	require.NoError(t, m.Run(1000))
	st = m.Stats()
	require.Equal(t, uint64(0), st.InstructionCacheMisses, "misses below 128 MiB: %+v", st)
}

// TestStatsReservationInvalidation: a store to the reserved word clears the reservation and counts;
// the store-conditional then fails.
func TestStatsReservationInvalidation(t *testing.T) {
	m, th, _ := newTestVM(
		itype(0x30, 4, 2, 0), // ll v0, 0(a0)
		itype(0x2B, 4, 0, 4), // sw zero, 4(a0): the same doubleword
		itype(0x38, 4, 3, 0), // sc v1, 0(a0)
	)
	th.Registers[regA0] = 0x2000
	m.EnableStats()
	require.NoError(t, m.Run(3))
	st := m.Stats()
	if st.ReservationInvalidations != 1 || st.RMWFailures != 1 || st.RMWSuccesses != 0 || st.MaxStepsBetweenLLAndSC != 2 {
		require.FailNow(t, fmt.Sprintf("stats %+v", st))
	}
}
