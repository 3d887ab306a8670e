package crosscheck

import (
	"testing"

	"github.com/faultproof/faultproof/crosscheck/refbuild"
)

// cannonRelease is the optimism release whose Cannon made a state version, and how that Cannon is built.
type cannonRelease struct {
	version uint8  // the state version
	name    string // Cannon's name for it (load-elf --type)
	module  string // the optimism module release built
	env     []string
}

// cannonReleases are the 64-bit multithreaded state versions of the last year's Cannon releases, each with
// the last optimism release whose Cannon wrote it by default:
//   - multithreaded64-3 (6): optimism v1.11.x and v1.12.x (cannon64-impl, the `cannon64` build tag, embedded
//     as cannon-6 in multicannon);
//   - multithreaded64-4 (7): optimism v1.13.x and v1.14.x (their default; v8 was experimental there);
//   - multithreaded64-5 (8): optimism v1.16 onwards (v1.19.6 is this module's version).
var cannonReleases = []cannonRelease{
	{6, "multithreaded64-3", "v1.12.2", []string{"GOFLAGS=-buildvcs=false -tags=cannon64"}},
	{7, "multithreaded64-4", "v1.13.7", nil},
	{8, "multithreaded64-5", "v1.19.6", nil},
}

// releaseCannon builds the cannon command (the single-version cannon, not multicannon) of an optimism
// release; refbuild caches it.
func releaseCannon(t *testing.T, r cannonRelease) string {
	t.Helper()
	return refbuild.Build(t, r.module, refbuild.Binary{Name: "cannon", Package: "./cannon", Env: r.env})
}
