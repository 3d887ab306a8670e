package devnet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultproof/faultproof/rollup"
)

// A Named devnet configuration.
type Named struct {
	Name   string
	Doc    string // what it varies, in a line
	Config Config
}

// Configurations are the named devnets: the default one and variations of the fork schedule, the batches,
// the transactions and the batcher's honesty, each small enough to build in seconds. Sweeps decide every
// claim of each (see devnet/sweep).
func Configurations() []Named {
	out := []Named{
		{Name: "default", Doc: "every fork at its own block (DevnetForkHeights), the default batcher", Config: Config{}},
		{Name: "invalid-batch", Doc: "the default devnet with two batches the engine rejects after Holocene, replaced by deposits only",
			Config: Config{InvalidBatchAt: []uint64{47, 66}}},
		{Name: "all-genesis", Doc: "every fork at genesis, random transactions and deposits",
			Config: Config{L2Blocks: 36, Forks: AllForksAtGenesis(), TxSeed: 1}},
		{Name: "forks-together", Doc: "several forks in one block: Canyon to Granite, Holocene with Isthmus, Jovian with Karst",
			Config: Config{L2Blocks: 36, Forks: mustParseForks("canyon@8,granite@8,holocene@20,isthmus@20,jovian@21,karst@21")}},
	}
	for _, f := range rollup.Forks {
		out = append(out, Named{
			Name: "alone-" + string(f), Doc: fmt.Sprintf("%s alone at block 13: the forks before it at genesis, none after it", f),
			Config: Config{L2Blocks: 20, Forks: mustParseForks(string(f) + "@13")},
		})
	}
	out = append(out,
		Named{Name: "batches-singular-calldata", Doc: "singular batches in calldata only, three channels per L1 block, every fork at genesis",
			Config: Config{L2Blocks: 36, Forks: AllForksAtGenesis(), Batcher: BatcherConfig{Batches: BatchesSingular, DA: DACalldata, Channels: 3}}},
		Named{Name: "batches-span-blobs", Doc: "one span batch per channel in blobs only, a channel every two L1 blocks cut in seven frames over three",
			Config: Config{L2Blocks: 36, Forks: AllForksAtGenesis(), Batcher: BatcherConfig{Batches: BatchesSpan, DA: DABlobs, ChannelEvery: 2, FramesPerChannel: 7, FrameSpread: 3}}},
		Named{Name: "batches-mixed", Doc: "singular and span batches mixed, two channels per L1 block, calldata and blobs, Holocene mid-chain",
			Config: Config{L2Blocks: 48, Forks: mustParseForks("holocene@24,isthmus@24,jovian@30"), Batcher: BatcherConfig{Batches: BatchesMixed, Channels: 2, FramesPerChannel: 5}}},
		Named{Name: "random-txs", Doc: "random transactions and deposits over Ecotone, Holocene and Isthmus (EIP-7702) activations",
			Config: Config{L2Blocks: 40, TxSeed: 2, Forks: mustParseForks("canyon@3,ecotone@9,holocene@15,isthmus@21,jovian@27,karst@33")}},
		Named{Name: "faults-pre-holocene", Doc: "a faulty batcher before Holocene: every fault, sequencing window 6, channel timeout 4",
			Config: Config{L2Blocks: 72, Forks: mustParseForks("fjord@0"), SeqWindowSize: 6, ChannelTimeout: 4, Faults: faultsAt(15, 6, faultOrder...)}},
		Named{Name: "faults-holocene", Doc: "a faulty batcher from Holocene (at genesis): every fault but the channel timeout, sequencing window 8",
			Config: Config{L2Blocks: 66, Forks: AllForksAtGenesis(), SeqWindowSize: 8, Faults: faultsAt(15, 6, withoutFault(faultOrder, FaultChannelTimeout)...)}},
		Named{Name: "holocene-edge-invalid-tx", Doc: "a batch the engine rejects for block 44, the last before Holocene, read from an L1 block after Holocene's time",
			Config: Config{L2Blocks: 50, Faults: []Fault{{FaultInvalidTx, 44}}}},
		Named{Name: "holocene-channel-timeout", Doc: "from Holocene, a channel whose last frame comes after the channel timeout (50 L1 blocks)",
			Config: Config{L2Blocks: 30, Forks: AllForksAtGenesis(), Faults: []Fault{{FaultChannelTimeout, 27}}}},
	)
	return out
}

// Configuration returns the named configuration.
func Configuration(name string) (Named, error) {
	var names []string
	for _, n := range Configurations() {
		if n.Name == name {
			return n, nil
		}
		names = append(names, n.Name)
	}
	return Named{}, fmt.Errorf("no devnet configuration %q (known: %s)", name, strings.Join(names, ", "))
}

// faultOrder is the order of the faults in a devnet with all of them, one per epoch: the old origin needs
// an L1 block beyond a sequencing window, and the withheld batches and the channel timeout, which stall
// derivation for a window or a timeout, come last.
var faultOrder = []FaultKind{
	FaultWrongParent, FaultFutureTimestamp, FaultSpanOverlap, FaultInvalidTx, FaultUnfinishedChannel,
	FaultFramesReordered, FaultFramesDuplicated, FaultOldOrigin, FaultWithhold, FaultChannelTimeout,
}

// faultsAt aims the faults, in order, at blocks first, first+every, ...: one per epoch with every = 6.
func faultsAt(first, every uint64, kinds ...FaultKind) []Fault {
	out := make([]Fault, len(kinds))
	for i, k := range kinds {
		out[i] = Fault{Kind: k, Block: first + uint64(i)*every}
	}
	return out
}

func withoutFault(kinds []FaultKind, drop FaultKind) []FaultKind {
	return slices.DeleteFunc(slices.Clone(kinds), func(k FaultKind) bool { return k == drop })
}

func mustParseForks(s string) ForkSchedule {
	f, err := ParseForks(s)
	if err != nil {
		panic(fmt.Sprintf("devnet configuration: %v", err))
	}
	return f
}

// InteropConfigurations are the named interop devnets (NewInterop).
func InteropConfigurations() []Named {
	return []Named{
		{Name: "interop", Doc: "two chains, every fork at genesis, Lagoon at block 3, messages both ways, and a missing message at 8, one from the future at 12 and an expired one at 18",
			Config: Config{L2Blocks: 24, Forks: AllForksAtGenesis(), Interop: &InteropConfig{LagoonAt: 3, Invalid: []InvalidMessage{
				{InvalidMissing, 0, 8}, {InvalidFuture, 1, 12}, {InvalidExpired, 0, 18},
			}}}},
		{Name: "interop-3-chains", Doc: "three chains, every fork at genesis, Lagoon at genesis, messages around the ring, all valid",
			Config: Config{L2Blocks: 16, Forks: AllForksAtGenesis(), Interop: &InteropConfig{Chains: 3}}},
	}
}

// InteropConfiguration returns the named interop configuration.
func InteropConfiguration(name string) (Named, error) {
	var names []string
	for _, n := range InteropConfigurations() {
		if n.Name == name {
			return n, nil
		}
		names = append(names, n.Name)
	}
	return Named{}, fmt.Errorf("no interop devnet configuration %q (known: %s)", name, strings.Join(names, ", "))
}
