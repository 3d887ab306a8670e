package main

import (
	"fmt"
	"strconv"
	"strings"
)

// stepPatternHelp describes the step patterns of vm run's --*-at flags; the syntax is Cannon's.
const stepPatternHelp = "'never', 'always', '=N' (exactly at step N) or '%N' (every N steps); " +
	"N is decimal or 0x/0o/0b-prefixed"

type patternKind uint8

const (
	patternNever  patternKind = iota
	patternAlways             // every step
	patternAt                 // step == n
	patternEvery              // step % n == 0
)

// stepPattern selects the steps at which vm run does something (print info, write a proof or a snapshot,
// stop). It is evaluated on the step counter of the state before the step executes, as Cannon does.
type stepPattern struct {
	kind patternKind
	n    uint64
}

// parseStepPattern parses Cannon's step pattern syntax: "" or "never", "always", "=N", "%N". N is parsed
// like a Go integer literal (strconv base 0), which is what Cannon accepts. Unlike Cannon, "%0" is an
// error rather than a division by zero at the first step.
func parseStepPattern(flag, s string) (stepPattern, error) {
	bad := func(why string) (stepPattern, error) {
		return stepPattern{}, fmt.Errorf("invalid --%s %q: %s; want %s", flag, s, why, stepPatternHelp)
	}
	switch {
	case s == "" || s == "never":
		return stepPattern{kind: patternNever}, nil
	case s == "always":
		return stepPattern{kind: patternAlways}, nil
	case strings.HasPrefix(s, "=") || strings.HasPrefix(s, "%"):
		n, err := strconv.ParseUint(s[1:], 0, 64)
		if err != nil {
			return bad(fmt.Sprintf("%q is not a step number", s[1:]))
		}
		if s[0] == '=' {
			return stepPattern{kind: patternAt, n: n}, nil
		}
		if n == 0 {
			return bad("the interval must be at least 1")
		}
		return stepPattern{kind: patternEvery, n: n}, nil
	}
	return bad("unrecognized pattern")
}

// matches reports whether the pattern selects step.
func (p stepPattern) matches(step uint64) bool {
	switch p.kind {
	case patternAlways:
		return true
	case patternAt:
		return step == p.n
	case patternEvery:
		return step%p.n == 0
	}
	return false
}

// next returns the first step at or after step that the pattern selects; ok is false when there is none.
func (p stepPattern) next(step uint64) (next uint64, ok bool) {
	switch p.kind {
	case patternAlways:
		return step, true
	case patternAt:
		return p.n, p.n >= step
	case patternEvery:
		r := step % p.n
		if r == 0 {
			return step, true
		}
		next = step + (p.n - r)
		return next, next > step // false on overflow
	}
	return 0, false
}
