package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
)

// NativeResult is what Native measured: time per block re-executed from a cold start, oracle reads per
// block, and the process's peak memory.
type NativeResult struct {
	Blocks, Rounds   int
	TxsPerBlock      float64
	Median, Min, Max time.Duration // per block
	Reads            [3]uint64     // oracle reads per block: median, min, max
	PeakRSS          int64         // bytes, the whole process so far (the chain builder included)
}

// Native builds an L2 chain of blocks blocks with op-geth and re-executes every block through the preimage
// oracle from a cold start, as a one-block claim does, rounds times; it writes the median, min and max
// time per block, the oracle reads per block and the process's peak memory to out.
func Native(blocks, rounds int, out io.Writer) error {
	r, err := RunNative(blocks, rounds)
	if err != nil {
		return err
	}
	return r.WriteTable(out)
}

// RunNative measures what Native writes.
func RunNative(blocks, rounds int) (NativeResult, error) {
	if blocks < 1 || rounds < 1 {
		return NativeResult{}, fmt.Errorf("--l2.blocks and --rounds must be at least 1")
	}
	b, err := devnet.NewL2Builder()
	if err != nil {
		return NativeResult{}, err
	}
	defer b.Close()
	if err := b.Build(blocks); err != nil {
		return NativeResult{}, err
	}
	values, err := b.Preimages()
	if err != nil {
		return NativeResult{}, err
	}
	src := preimages(values)

	var times []time.Duration
	var reads []uint64
	var txs int
	for n := uint64(1); n <= uint64(blocks); n++ {
		parent, want := b.Block(n-1), b.Block(n)
		txs += len(want.Transactions())
		for r := 0; r < rounds; r++ {
			oracle := l2.NewOracle(src, noHints{})
			start := time.Now()
			chain, err := l2.NewChain(b.Rollup(), b.Config(), oracle, parent.Hash())
			if err != nil {
				return NativeResult{}, err
			}
			res, err := chain.BuildBlock(parent.Hash(), b.Attributes(n), vm.Config{})
			if err != nil {
				return NativeResult{}, fmt.Errorf("block %d: %w", n, err)
			}
			times = append(times, time.Since(start))
			if res.Block.Hash() != want.Hash() {
				return NativeResult{}, fmt.Errorf("block %d: built %s, op-geth built %s", n, res.Block.Hash(), want.Hash())
			}
			if r == 0 {
				reads = append(reads, oracle.Reads)
			}
		}
	}
	return NativeResult{
		Blocks: blocks, Rounds: rounds, TxsPerBlock: float64(txs) / float64(blocks),
		Median: median(times), Min: slices.Min(times), Max: slices.Max(times),
		Reads:   [3]uint64{median(reads), slices.Min(reads), slices.Max(reads)},
		PeakRSS: peakRSS(),
	}, nil
}

// WriteTable writes r as 'faultproof bench native' shows it.
func (r NativeResult) WriteTable(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "BENCHMARK\tMEDIAN\tMIN\tMAX\tUNIT")
	fmt.Fprintf(w, "native block re-execution (cold, %d blocks x %d rounds, %.1f txs/block)\t%s\t%s\t%s\tper block\n",
		r.Blocks, r.Rounds, r.TxsPerBlock, r.Median, r.Min, r.Max)
	fmt.Fprintf(w, "oracle reads\t%d\t%d\t%d\tper block\n", r.Reads[0], r.Reads[1], r.Reads[2])
	fmt.Fprintf(w, "peak memory (max RSS)\t%.1f\t\t\tMiB\n", float64(r.PeakRSS)/(1<<20))
	return w.Flush()
}

// preimages serves the builder's preimages, each checked against its key as the host checks it.
type preimages map[[32]byte][]byte

func (p preimages) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := p[k]
	if !ok {
		return nil, fmt.Errorf("no preimage for key %s", common.Hash(k))
	}
	if err := preimage.Verify(k, v); err != nil {
		return nil, err
	}
	return v, nil
}

type noHints struct{}

func (noHints) Hint(preimage.Hint) error { return nil }
