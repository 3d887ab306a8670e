package derive

import "errors"

// How a pipeline stage says it cannot produce its next item. io.EOF means the stage has consumed all the
// data of the current L1 origin: the pipeline must advance L1 before asking again.
var (
	// ErrNotEnoughData means "call again": the stage made progress but has nothing to return yet.
	ErrNotEnoughData = errors.New("not enough data")
	// ErrReset means the pipeline's view is inconsistent with the chain (e.g. an L1 origin that is not on
	// the canonical chain) and derivation must restart from the safe head.
	ErrReset = errors.New("derivation reset needed")
	// ErrCritical means the inputs are impossible under the protocol: no verdict can be reached.
	ErrCritical = errors.New("critical derivation error")
)
