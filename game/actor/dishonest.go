package actor

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
)

// OutputLie is which output roots a dishonest actor gets wrong.
type OutputLie struct {
	// Root: the claimed block's output (the root's, and every position past the claimed block).
	Root bool
	// From: every output from this L2 block on (the claimed block's included).
	From uint64
	// PastClaim: only the positions past the claimed block, where the honest trace repeats the claimed
	// block's output.
	PastClaim bool
	// BeforeClaim: every output before the claimed block, so its root (the claimed block's) is right.
	BeforeClaim bool
}

func (l OutputLie) lies(o *trace.Outputs, pos trace.Position) bool {
	switch {
	case l.Root:
		return o.BlockAt(pos) >= o.ClaimBlock
	case l.PastClaim:
		return o.AnchorBlock+pos.TraceIndex(o.SplitDepth)+1 > o.ClaimBlock
	case l.BeforeClaim:
		return o.BlockAt(pos) < o.ClaimBlock
	case l.From > 0:
		return o.BlockAt(pos) >= l.From
	}
	return false
}

// ExecLie is where a dishonest actor's VM traces part from the VM's: from the state after a step on,
// every state hash it claims is made up.
type ExecLie struct {
	// Step: diverge after this step (an absolute step number).
	Step uint64
	// Fraction: diverge after this fraction of the program's steps (0 < f < 1).
	Fraction float64
	// ReadType: diverge at the first step that reads a pre-image of this key type, at least MinSize
	// bytes long, so that the honest actor must step on that read.
	ReadType preimage.KeyType
	MinSize  int
	// AfterExit: diverge half way between the program's exit and the trace's end (trace extension).
	AfterExit bool
}

func (l ExecLie) none() bool {
	return l.Step == 0 && l.Fraction == 0 && l.ReadType == 0 && !l.AfterExit
}

// Strategy is a dishonest actor: the honest rules over a trace that lies.
type Strategy struct {
	Name    string
	Outputs OutputLie
	Exec    ExecLie
}

// ParseStrategy reads a strategy: comma-separated parts, one about outputs and one about VM traces.
//
//	wrong-root             the claimed block's output is wrong (the root)
//	wrong-from:N           every output from L2 block N on is wrong
//	wrong-past-claim       the outputs past the claimed block are wrong (the root's is too)
//	right-root-wrong-subclaims   the root is right, every output before the claimed block wrong
//	diverge:N              VM traces are made up from the state after step N on (the step to prove is N)
//	diverge:middle         ... half way through the program's run
//	diverge:blob           ... at the first read of a blob field element
//	diverge:large-keccak:N ... at the first read of a keccak256 pre-image of at least N bytes
//	diverge:read:T[:N]     ... at the first read of a pre-image of key type T (local, keccak, sha256, blob,
//	                       precompile) of at least N bytes
//	diverge:after-exit     ... after the program exits (in the trace extension)
//	diverge:none           VM traces are the VM's
func ParseStrategy(s string) (Strategy, error) {
	st := Strategy{Name: s}
	if strings.TrimSpace(s) == "" {
		return st, fmt.Errorf("empty strategy")
	}
	for _, part := range strings.Split(s, ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(part), ":")
		bad := func(why string) error { return fmt.Errorf("strategy part %q: %s", part, why) }
		switch name {
		case "wrong-root":
			st.Outputs = OutputLie{Root: true}
		case "wrong-from":
			n, err := strconv.ParseUint(arg, 10, 64)
			if err != nil || n == 0 {
				return st, bad("want wrong-from:<L2 block>")
			}
			st.Outputs = OutputLie{From: n}
		case "wrong-past-claim":
			st.Outputs = OutputLie{PastClaim: true}
		case "right-root-wrong-subclaims":
			st.Outputs = OutputLie{BeforeClaim: true}
		case "diverge":
			kind, rest, _ := strings.Cut(arg, ":")
			switch kind {
			case "middle":
				st.Exec = ExecLie{Fraction: 0.5}
			case "blob":
				st.Exec = ExecLie{ReadType: preimage.BlobKeyType}
			case "large-keccak":
				n, err := strconv.Atoi(rest)
				if err != nil || n <= 0 {
					return st, bad("want diverge:large-keccak:<bytes>")
				}
				st.Exec = ExecLie{ReadType: preimage.Keccak256KeyType, MinSize: n}
			case "read":
				typ, size, _ := strings.Cut(rest, ":")
				kt, ok := keyTypes[typ]
				if !ok {
					return st, bad("want diverge:read:<local|keccak|sha256|blob|precompile>[:<min bytes>]")
				}
				st.Exec = ExecLie{ReadType: kt}
				if size != "" {
					n, err := strconv.Atoi(size)
					if err != nil || n < 0 {
						return st, bad("want a size in bytes after the key type")
					}
					st.Exec.MinSize = n
				}
			case "after-exit":
				st.Exec = ExecLie{AfterExit: true}
			case "none":
				st.Exec = ExecLie{}
			default:
				n, err := strconv.ParseUint(kind, 10, 64)
				if err != nil || n == 0 {
					return st, bad("want diverge:<step>, middle, blob, large-keccak:<bytes>, after-exit or none")
				}
				st.Exec = ExecLie{Step: n}
			}
		default:
			return st, fmt.Errorf("unknown strategy %q (want wrong-root, wrong-from:N, wrong-past-claim, right-root-wrong-subclaims, diverge:...)", name)
		}
	}
	return st, nil
}

var keyTypes = map[string]preimage.KeyType{
	"local": preimage.LocalKeyType, "keccak": preimage.Keccak256KeyType, "sha256": preimage.Sha256KeyType,
	"blob": preimage.BlobKeyType, "precompile": preimage.PrecompileKeyType,
}

// Liar is a dishonest actor's trace: the honest trace, except where its strategy lies.
type Liar struct {
	Honest   *trace.Honest
	Strategy Strategy
}

// fake is a made-up claim standing for honest.
func fake(honest common.Hash, what string, idx uint64) common.Hash {
	return crypto.Keccak256Hash([]byte("faultproof dishonest "+what), honest[:], binary.BigEndian.AppendUint64(nil, idx))
}

// Get implements trace.Accessor.
func (l *Liar) Get(g *trace.Game, ref *trace.Claim, pos trace.Position) (common.Hash, error) {
	o := l.Honest.Outputs
	if pos.Depth() <= o.SplitDepth {
		h, err := l.Honest.Get(g, ref, pos)
		if err != nil || !l.Strategy.Outputs.lies(o, pos) {
			return h, err
		}
		return fake(h, "output", pos.TraceIndex(o.SplitDepth)), nil
	}
	h, err := l.Honest.Get(g, ref, pos)
	if err != nil || l.Strategy.Exec.none() {
		return h, err
	}
	sub, err := g.SubgameOf(ref, pos)
	if err != nil {
		return common.Hash{}, err
	}
	t, _, err := l.Honest.ExecTrace(sub)
	if err != nil {
		return common.Hash{}, err
	}
	from, err := l.divergence(t)
	if err != nil {
		return common.Hash{}, err
	}
	rel, err := pos.RelativeTo(o.SplitDepth + 1)
	if err != nil {
		return common.Hash{}, err
	}
	idx := rel.TraceIndex(l.Honest.ExecDepth())
	if idx < from { // the claim at idx is the state after idx+1 steps
		return h, nil
	}
	v := fake(h, "state", idx)
	v[0] = StatusUnfinished
	if h[0] != StatusUnfinished {
		// An exited state: the liar says the program decided what its own outputs say.
		v[0] = StatusInvalid
		if mine, err := l.Get(g, sub.Post, sub.Post.Position); err == nil && mine == sub.Post.Value {
			v[0] = StatusValid
		}
	}
	return v, nil
}

// Status bytes of state hashes.
const (
	StatusValid      = trace.StatusValid
	StatusInvalid    = trace.StatusInvalid
	StatusUnfinished = trace.StatusUnfinished
)

// divergence is the first trace index whose claim the liar makes up.
func (l *Liar) divergence(t trace.ExecTrace) (uint64, error) {
	e := l.Strategy.Exec
	switch {
	case e.Step > 0:
		return e.Step, nil
	case e.Fraction > 0:
		exit, err := t.ExitStep()
		if err != nil {
			return 0, err
		}
		return max(uint64(float64(exit)*e.Fraction), 1), nil
	case e.AfterExit:
		exit, err := t.ExitStep()
		if err != nil {
			return 0, err
		}
		length := uint64(1) << l.Honest.ExecDepth()
		return exit + (length-exit)/2, nil
	case e.ReadType != 0:
		step, ok, err := t.FirstRead(byte(e.ReadType), e.MinSize)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("strategy %s: the program reads no pre-image of type %d of %d bytes or more", l.Strategy.Name, e.ReadType, e.MinSize)
		}
		return step, nil
	}
	return ^uint64(0), nil
}

// StepData implements trace.Accessor: a liar's steps start from the VM's states (they fail where it
// lies, as a liar's steps must).
func (l *Liar) StepData(g *trace.Game, ref *trace.Claim, pos trace.Position) (*trace.StepData, error) {
	return l.Honest.StepData(g, ref, pos)
}
