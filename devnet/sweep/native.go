package sweep

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
)

// NativeRunner decides claims about a devnet with our fault proof program in this process, offline, from
// the devnet's preimages; every preimage is checked against its key before the program reads it.
type NativeRunner struct {
	d      *devnet.Devnet
	global map[[32]byte][]byte
	log    log.Logger
	// Options are the program's options. By default blob field elements are trusted to their KZG proofs
	// as inside the VM (the devnet made them), instead of recomputing each blob's commitment: a claim reads
	// every blob from its reset point on, which would otherwise take most of its time.
	Options client.Options
}

// NewNativeRunner is a runner for claims about d; logger gets the program's logs (nil: none).
func NewNativeRunner(d *devnet.Devnet, logger log.Logger) *NativeRunner {
	if logger == nil {
		logger = log.NewLogger(log.DiscardHandler())
	}
	return &NativeRunner{d: d, global: d.Preimages(), log: logger, Options: client.Options{SkipBlobCommitments: true}}
}

// Name is "faultproof".
func (r *NativeRunner) Name() string { return "faultproof" }

// Decide runs the program on c.
func (r *NativeRunner) Decide(ctx context.Context, c Claim) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.L1Head != r.d.L1Head().Hash() || c.AgreedHash != r.d.L2Block(c.Agreed).Hash() {
		return 0, fmt.Errorf("claim %s is not about this devnet", c)
	}
	local, err := r.d.LocalPreimages(c.Agreed, c.Output, c.Block)
	if err != nil {
		return 0, err
	}
	o := &layeredOracle{local: local, global: r.global}
	return client.ExitCode(client.RunWithOptions(r.log, o, o, r.Options)), nil
}

// layeredOracle serves a claim's local keys over the devnet's preimages, verifying every answer against
// its key as the preimage channel does.
type layeredOracle struct {
	local, global map[[32]byte][]byte
}

func (o *layeredOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := o.local[k]
	if !ok {
		if v, ok = o.global[k]; !ok {
			return nil, fmt.Errorf("missing preimage %x", k)
		}
	}
	return v, preimage.Verify(k, v)
}

func (o *layeredOracle) Hint(preimage.Hint) error { return nil }
