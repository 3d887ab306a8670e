package main

// Why fault proofs cannot run on a registry chain. FromRegistry returns the reason as its error.
const (
	reasonAltDA   = "alt-DA (plasma) is not supported by fault proofs"
	reasonInterop = "its interop dependency set has other chains: super-root claims take the dependency set from the host (local key 8), which dispute games cannot serve"
	reasonCelo    = "Celo's execution layer is not op-geth's (fee-currency transactions, base-fee floor): its blocks cannot be executed"
	reasonStale   = "the registry's fork schedule is out of date: the chain activated Isthmus (2026-08-20) and Jovian (2026-08-25) outside the registry"
)

// exception marks a chain that the registry data alone does not show to be unsupported.
type exception struct {
	reason string
	// applies reports whether the exception still holds for the chain's registry entry, so that a
	// registry that catches up lifts it; nil means always.
	applies func(c *chain) bool
}

// exceptions are decided by hand; each says where the fact comes from.
var exceptions = map[uint64]exception{
	// Celo: a Celo L1 converted to an L2. Its execution client is Celo's fork of op-geth (fee-currency
	// transactions of type 0x7b, a base-fee floor, cel2Time in its genesis config); op-geth and op-node's
	// registry sync skip it for its "non-standard genesis". Its registry entry is also alt-DA.
	42220: {reason: reasonCelo},
	// Celo Sepolia runs the same execution client (and is alt-DA too).
	11142220: {reason: reasonCelo},
	// Boba Sepolia activated Isthmus and Jovian at 1787227200 and 1787659200 with configs Boba ships itself
	// (bobanetwork/boba#363, #364: "not yet merged into the superchain-registry"); a registry entry
	// without Isthmus derives those blocks with the wrong rules.
	28882: {reason: reasonStale, applies: func(c *chain) bool { return c.Hardforks.IsthmusTime == nil }},
}
