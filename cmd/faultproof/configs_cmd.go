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
	Usage: "List the chains of the embedded chain registry, or print one chain's configs",
	Description: `Without --network, lists the registry's chains: chain IDs, newest fork, the registry's fault proof
status, and why fault proofs cannot run on a chain where they cannot. With --network, prints the chain's
rollup config (or, with --chain-config, its L2 chain config) as JSON on stdout; the registry version and
any unsupported feature go to stderr.`,
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
			return printChainConfig(name, ctx.Bool("chain-config"))
		}
		fmt.Printf("Chain registry: %s\n", rollup.RegistryVersion)
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tCHAIN ID\tL1 CHAIN ID\tLATEST FORK\tFAULT PROOFS\tNOTE")
		for _, n := range rollup.Networks() {
			fork := "?"
			if _, cfg, _, err := rollup.RegistryChain(n.ChainID); err == nil {
				fork = cfg.ForkAt(^uint64(0))
			}
			note := ""
			switch {
			case n.Unsupported != "":
				note = "unsupported: " + n.Unsupported
			case n.GasPayingToken != "":
				note = "custom gas token " + n.GasPayingToken
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\n", n.Name, n.ChainID, n.L1ChainID, fork, n.FaultProofs, note)
		}
		return w.Flush()
	},
}

// printChainConfig prints a registry chain's rollup or L2 chain config, also for chains that fault proofs
// do not support (with a warning naming the feature): the configs are still worth reading.
func printChainConfig(name string, chainConfig bool) error {
	id, err := rollup.ResolveNetwork(name)
	if err != nil {
		return err
	}
	n, cfg, l2, err := rollup.RegistryChain(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Chain registry: %s\n", rollup.RegistryVersion)
	if n.Unsupported != "" {
		fmt.Fprintf(os.Stderr, "Warning: fault proofs cannot run on %s: %s\n", n.Name, n.Unsupported)
	}
	var v any = cfg
	if chainConfig {
		v = l2
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
