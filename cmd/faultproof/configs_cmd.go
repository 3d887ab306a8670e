package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/rollup"
)

var configsCommand = &cli.Command{
	Name:  "configs",
	Usage: "List the chains of the embedded superchain registry, or print one chain's configs",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "network", Usage: "Print this chain's rollup config (name or chain ID)"},
		&cli.BoolFlag{Name: "chain-config", Usage: "With --network: print the L2 chain config instead"},
	}, logFlags...),
	Before: setupLogging,
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() > 0 {
			return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
		}
		if name := ctx.String("network"); name != "" {
			id, err := rollup.ResolveNetwork(name)
			if err != nil {
				return err
			}
			cfg, l2, err := rollup.FromRegistry(id)
			if err != nil {
				return err
			}
			var v any = cfg
			if ctx.Bool("chain-config") {
				v = l2
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tCHAIN ID\tL1 CHAIN ID\tLATEST FORK")
		for _, n := range rollup.Networks() {
			fork := "?"
			if cfg, _, err := rollup.FromRegistry(n.ChainID); err == nil {
				fork = cfg.ForkAt(^uint64(0))
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", n.Name, n.ChainID, n.L1, fork)
		}
		return w.Flush()
	},
}
