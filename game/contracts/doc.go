// Package contracts runs the OP Stack's dispute contracts in an in-memory L1: optimism v1.19.6's
// FaultDisputeGame, DisputeGameFactory, AnchorStateRegistry and DelayedWETH, with the SystemConfig,
// SuperchainConfig, Proxy and ProxyAdmin their initializers require, and vm/onchain's MIPS64 and
// PreimageOracle. It deploys them as the OP Stack does (proxies initialized through the ProxyAdmin, the game
// registered in the factory with its immutable arguments), and binds the calls a game's players make:
// proposals, moves, steps, local data and pre-image loads (including large-preimage proposals), resolution
// and credit claims. It sits under game/ (the players and the loop) and over go-ethereum's EVM.
//
// The contracts' bytecode and ABIs are data files embedded here (<Name>.json); provenance.json names the
// sources, compiler and settings, and the release's semver-lock.json initCodeHash each creation code equals.
// crosscheck/onchain compiles them afresh and checks both.
package contracts
