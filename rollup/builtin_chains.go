package rollup

// BuiltInChainsFile is this file's path in the module. 'faultproof prestate --chain-config' builds the
// program with this file replaced (go build -overlay) by one whose functions return the custom chains'
// configs, so the source tree stays as it is and the build stays reproducible. In the source tree the
// program has no built-in custom chains.
const BuiltInChainsFile = "rollup/builtin_chains.go"

// builtInChain returns the configs of a custom chain built into the program, as JSON (a rollup.json, an
// L2 chain config, and an L1 chain config or "" for a well-known L1).
func builtInChain(chainID uint64) (rollupJSON, l2JSON, l1JSON string, ok bool) {
	return "", "", "", false
}

// builtInChainIDs lists the custom chains built into the program.
func builtInChainIDs() []uint64 { return nil }
