package vm

// icacheSize is the size of the code region that Cannon decodes when it loads a state for a run: an
// instruction fetched at or above it is an instruction cache miss in Cannon's statistics.
const icacheSize = 128 << 20

// llCacheSize is how many threads' last load-linked steps Cannon remembers (least recently used out).
const llCacheSize = 5

// Stats are the run statistics of Cannon's --debug-info that the VM counts, with Cannon's meanings. They
// describe the run, not the state: counting starts at EnableStats.
type Stats struct {
	// InstructionCacheMisses counts the steps that fetched an instruction at or above Cannon's 128 MiB
	// decoded code region; HighestICacheMissPC is the highest such PC.
	InstructionCacheMisses uint64
	HighestICacheMissPC    uint64
	// RMWSuccesses and RMWFailures count the store-conditionals (sc, scd) that stored and that did not.
	RMWSuccesses uint64
	RMWFailures  uint64
	// MaxStepsBetweenLLAndSC is the longest distance in steps from a thread's load-linked to its next
	// store-conditional, among the threads Cannon still remembered (the last five to load-link).
	MaxStepsBetweenLLAndSC uint64
	// ReservationInvalidations counts writes, other than by a store-conditional, to the word of the
	// load-linked reservation (which clear it; a write to the word at address 0 counts while none is held,
	// as in Cannon).
	ReservationInvalidations uint64
	// ForcedPreemptions counts the threads switched out because their quantum ran out (with one thread,
	// too).
	ForcedPreemptions uint64
	// IdleStepsThread0 counts the steps during which thread 0 was switched out, measured from the
	// preemption that activated another thread to the one that activated thread 0 again (a thread that
	// exits or is created switches without counting).
	IdleStepsThread0 uint64
}

// statsTracker counts Stats.
type statsTracker struct {
	Stats

	// llSteps[:nLL] are the last load-linked steps of up to llCacheSize threads, the most recent first.
	llSteps [llCacheSize]llStep
	nLL     int
	// activeThread and thread0Left follow thread activations for IdleStepsThread0; Cannon starts from
	// thread 0 whatever thread is active.
	activeThread uint64
	thread0Left  uint64
}

type llStep struct{ thread, step uint64 }

// EnableStats starts counting Stats (on every path: Run, Step with and without proofs). Counting costs
// nothing per ordinary instruction; Run only leaves code above 128 MiB to the reference step.
func (m *VM) EnableStats() {
	if m.stats == nil {
		m.stats = &statsTracker{}
		m.fastCodeLimit = icacheSize >> PageAddrBits
	}
}

// Stats returns the statistics counted since EnableStats.
func (m *VM) Stats() Stats {
	if m.stats == nil {
		return Stats{}
	}
	return m.stats.Stats
}

func (s *statsTracker) icacheMiss(pc uint64) {
	s.InstructionCacheMisses++
	s.HighestICacheMissPC = max(s.HighestICacheMissPC, pc)
}

func (s *statsTracker) loadLinked(thread, step uint64) {
	// Move the thread's entry (or, for a new thread, the least recently used slot) to the front.
	i := s.findLL(thread)
	if i < 0 {
		if s.nLL < llCacheSize {
			s.nLL++
		}
		i = s.nLL - 1
	}
	copy(s.llSteps[1:i+1], s.llSteps[:i])
	s.llSteps[0] = llStep{thread, step}
}

func (s *statsTracker) findLL(thread uint64) int {
	for i := range s.nLL {
		if s.llSteps[i].thread == thread {
			return i
		}
	}
	return -1
}

func (s *statsTracker) storeConditional(thread, step uint64, stored bool) {
	if stored {
		s.RMWSuccesses++
	} else {
		s.RMWFailures++
	}
	if i := s.findLL(thread); i >= 0 {
		s.MaxStepsBetweenLLAndSC = max(s.MaxStepsBetweenLLAndSC, step-s.llSteps[i].step)
		copy(s.llSteps[i:], s.llSteps[i+1:s.nLL])
		s.nLL--
	}
}

// threadActivated is called when a preemption makes thread the active one, at step.
func (s *statsTracker) threadActivated(thread, step uint64) {
	switch {
	case s.activeThread == 0 && thread != 0:
		s.thread0Left = step
	case s.activeThread != 0 && thread == 0:
		s.IdleStepsThread0 += step - s.thread0Left
	}
	s.activeThread = thread
}
