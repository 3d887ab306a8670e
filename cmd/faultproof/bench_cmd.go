package main

import (
	"fmt"
	"os"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
)

var benchCommand = &cli.Command{
	Name:  "bench",
	Usage: "Measure the headline numbers on the embedded devnet (no network)",
	Description: `Builds the devnet L2 chain with op-geth and re-executes every block through the preimage oracle from
a cold start, as a one-block claim does, reporting the median time per block, the oracle reads per block and
the process's peak memory.`,
	Flags: append([]cli.Flag{
		&cli.IntFlag{Name: "l2.blocks", Usage: "Number of devnet L2 blocks", Value: 20},
		&cli.IntFlag{Name: "rounds", Usage: "Re-executions of each block; the median is reported", Value: 5},
	}, logFlags...),
	Before: setupLogging,
	Action: runBench,

	Subcommands: []*cli.Command{benchVMCommand, benchProgramCommand, benchOnlineCommand},
}

func runBench(ctx *cli.Context) error {
	blocks, rounds := ctx.Int("l2.blocks"), ctx.Int("rounds")
	if blocks < 1 || rounds < 1 {
		return fmt.Errorf("--l2.blocks and --rounds must be at least 1")
	}
	defer quietLogs(ctx)()
	b, err := devnet.NewL2Builder()
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Build(blocks); err != nil {
		return err
	}
	values, err := b.Preimages()
	if err != nil {
		return err
	}
	src := &preimageSource{extra: values, kv: kvstore.NewMem()}

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
				return err
			}
			res, err := chain.BuildBlock(parent.Hash(), b.Attributes(n), vm.Config{})
			if err != nil {
				return fmt.Errorf("block %d: %w", n, err)
			}
			times = append(times, time.Since(start))
			if res.Block.Hash() != want.Hash() {
				return fmt.Errorf("block %d: built %s, op-geth built %s", n, res.Block.Hash(), want.Hash())
			}
			if r == 0 {
				reads = append(reads, oracle.Reads)
			}
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "BENCHMARK\tMEDIAN\tMIN\tMAX\tUNIT")
	fmt.Fprintf(w, "native block re-execution (cold, %d blocks x %d rounds, %.1f txs/block)\t%s\t%s\t%s\tper block\n",
		blocks, rounds, float64(txs)/float64(blocks), median(times), slices.Min(times), slices.Max(times))
	fmt.Fprintf(w, "oracle reads\t%d\t%d\t%d\tper block\n", median(reads), slices.Min(reads), slices.Max(reads))
	fmt.Fprintf(w, "peak memory (max RSS)\t%.1f\t\t\tMiB\n", float64(ru.Maxrss)/1024)
	return w.Flush()
}

func median[T int64 | uint64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
