package vm

import (
	"errors"
	"fmt"
	"strings"
)

// Version is a state version: the byte that starts a serialized state and says which rules the VM
// applies to it. The versions are those of Cannon's 64-bit multithreaded VM that Cannon releases of the
// last year wrote, so that a prestate made by any of them (an open dispute game's) runs here step for step
// as it does in the Cannon that made it. Every version has the same state layout, witness and hash.
type Version uint8

const (
	// MultiThreaded64v3 is Cannon's multithreaded64-3 (optimism v1.11 and v1.12). A failed syscall
	// returns -1 in v0 and the errno in a3; eventfd2, mprotect, dclz and dclo do not exist; getrandom
	// returns 0 without writing.
	MultiThreaded64v3 Version = 6
	// MultiThreaded64v4 is Cannon's multithreaded64-4 (optimism v1.13 and v1.14): a failed syscall
	// returns the errno in v0 and -1 in a3, as Linux does; eventfd2 (non-blocking only, fd 100),
	// mprotect, dclz and dclo; getrandom still returns 0 without writing.
	MultiThreaded64v4 Version = 7
	// MultiThreaded64v5 is Cannon's multithreaded64-5 (optimism v1.16 onwards), the version the MIPS64
	// contract accepts: getrandom writes pseudo-random bytes derived from the step.
	MultiThreaded64v5 Version = 8

	// LatestVersion is the version new states get (load-elf's default).
	LatestVersion = MultiThreaded64v5
)

// StateVersion is LatestVersion as a byte.
const StateVersion = uint8(LatestVersion)

// StateVersionName is Cannon's name for LatestVersion.
const StateVersionName = "multithreaded64-5"

// Versions lists the supported versions, oldest first.
var Versions = []Version{MultiThreaded64v3, MultiThreaded64v4, MultiThreaded64v5}

// ErrUnsupportedVersion is returned for a state version (or name) this VM does not run.
var ErrUnsupportedVersion = errors.New("unsupported state version")

// String returns Cannon's name for the version ("multithreaded64-5").
func (v Version) String() string {
	switch v {
	case MultiThreaded64v3:
		return "multithreaded64-3"
	case MultiThreaded64v4:
		return "multithreaded64-4"
	case MultiThreaded64v5:
		return StateVersionName
	}
	return fmt.Sprintf("unknown (%d)", uint8(v))
}

// Supported reports whether the VM runs states of this version.
func (v Version) Supported() bool {
	_, ok := v.rules()
	return ok
}

// ParseVersion parses Cannon's name for a version (load-elf --type).
func ParseVersion(name string) (Version, error) {
	for _, v := range Versions {
		if v.String() == name {
			return v, nil
		}
	}
	names := make([]string, len(Versions))
	for i, v := range Versions {
		names[i] = v.String()
	}
	return 0, fmt.Errorf("%w %q: want one of %s", ErrUnsupportedVersion, name, strings.Join(names, ", "))
}

// rules are what differs between the versions.
type rules struct {
	// legacyErrno: a failed syscall sets v0 = -1 and a3 = errno (multithreaded64-3), instead of
	// v0 = errno and a3 = -1.
	legacyErrno bool
	// eventfd: eventfd2 and mprotect are syscalls, and fd 100 is the eventfd.
	eventfd bool
	// dclz: dclz and dclo are instructions.
	dclz bool
	// getrandom: getrandom writes bytes of splitmix64(step); before, it returns 0 and writes nothing.
	getrandom bool
}

func (v Version) rules() (rules, bool) {
	switch v {
	case MultiThreaded64v3:
		return rules{legacyErrno: true}, true
	case MultiThreaded64v4:
		return rules{eventfd: true, dclz: true}, true
	case MultiThreaded64v5:
		return rules{eventfd: true, dclz: true, getrandom: true}, true
	}
	return rules{}, false
}

// version returns the state's version: Version, or LatestVersion when it is unset.
func (s *State) version() Version {
	if s.Version == 0 {
		return LatestVersion
	}
	return s.Version
}

// supportedList names the supported versions for error messages: "6 (multithreaded64-3), ...".
func supportedList() string {
	parts := make([]string, len(Versions))
	for i, v := range Versions {
		parts[i] = fmt.Sprintf("%d (%s)", uint8(v), v)
	}
	return strings.Join(parts, ", ")
}
