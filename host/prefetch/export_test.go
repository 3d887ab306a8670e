package prefetch

// The walk back's batch sizes, for the tests.
const (
	WalkFirstAhead  = walkFirstAhead
	WalkMaxAhead    = walkMaxAhead
	WalkMaxFailures = walkMaxFailures
)
