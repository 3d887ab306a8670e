// Package host serves preimages to the fault proof program. It answers local keys from its configuration
// and global keys from a key-value store (filled beforehand, or by a prefetcher from L1/L2 RPC), verifies
// every answer against its key, and runs the program in one of three ways: in process, as a child process
// over file descriptors 3-6 (--exec), or as the server of a VM that started the host (--server).
package host

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/rollup"
)

// Configuration errors, named after op-program's so that operators recognise them.
var (
	ErrMissingRollupConfig = errors.New("missing rollup config")
	ErrMissingL2Genesis    = errors.New("missing l2 chain config")
	ErrInvalidL1Head       = errors.New("invalid l1 head")
	ErrInvalidL2Head       = errors.New("invalid l2 head")
	ErrInvalidL2OutputRoot = errors.New("invalid l2 output root")
	ErrInvalidL2ClaimBlock = errors.New("invalid l2 claim block number: must be above 0")
	ErrL1AndL2Inconsistent = errors.New("l1 and l2 options must be specified together or both omitted")
	ErrDataDirRequired     = errors.New("datadir must be specified when in non-fetching mode")
	ErrNoExecInServerMode  = errors.New("exec command must not be set when in server mode")
	ErrMissingL1ChainCfg   = errors.New("missing l1 chain config: custom chains must supply it with --l1.chainconfig")
)

// Config is everything the host needs to serve one program instance.
type Config struct {
	Rollup        *rollup.Config
	L2ChainConfig *params.ChainConfig
	// L1ChainConfig, when set, makes the host serve the three chain configs as local keys 6, 7 and 9, which
	// the program reads for the custom-chain indicator or for a chain ID it does not know. Programs embed
	// the configs of registry chains and of custom chains built in with --chain-config.
	L1ChainConfig *params.ChainConfig
	// IsCustomChainConfig makes the host announce the custom-chain indicator as chain ID instead of the
	// rollup config's, so that the program reads its configs from local keys 6, 7 and 9 (which requires
	// L1ChainConfig). Such a run cannot be disputed on chain.
	IsCustomChainConfig bool

	L1Head             common.Hash
	L2Head             common.Hash
	L2OutputRoot       common.Hash
	L2Claim            common.Hash
	L2ClaimBlockNumber uint64

	DataDir    string
	DataFormat kvstore.Format

	L1URL       string
	L1BeaconURL string
	// L1TrustRPC is op-program's --l1.trustrpc: the L1 execution RPC is trusted. This host checks its
	// answers anyway (they are cheap to check and must rebuild the roots the program reads through), and
	// beacon blobs are always checked against their KZG commitments.
	L1TrustRPC     bool
	L1RPCKind      string
	L2URLs         []string
	L2Experimental []string

	// ExecCmd is the program to start as a child with the channels on fds 3-6; empty runs it in process.
	ExecCmd string
	// ServerMode serves a program that started the host (a VM), on fds 3-6.
	ServerMode bool

	// Interop, if set, makes this an interop (super-root) claim: L2Claim is the claimed state after the
	// agreed prestate, L2ClaimBlockNumber the game timestamp; Rollup, L2ChainConfig, L2Head and
	// L2OutputRoot are unused.
	Interop *InteropConfig
}

// FetchingEnabled reports whether the host may fetch missing preimages over RPC.
func (c *Config) FetchingEnabled() bool {
	return c.L1URL != "" && len(c.L2URLs) > 0 && c.L1BeaconURL != ""
}

// Check validates the configuration as op-program's host does.
func (c *Config) Check() error { return c.check(false) }

// check validates the configuration; with a preloaded store there is no datadir to require.
func (c *Config) check(preloaded bool) error {
	if c.Interop != nil {
		return c.checkInterop(preloaded)
	}
	if c.Rollup == nil {
		return ErrMissingRollupConfig
	}
	if err := c.Rollup.Check(); err != nil {
		return fmt.Errorf("rollup config: %w", err)
	}
	if c.L2ChainConfig == nil {
		return ErrMissingL2Genesis
	}
	if c.L2ChainConfig.ChainID == nil || c.L2ChainConfig.ChainID.Cmp(c.Rollup.L2ChainID) != 0 {
		return fmt.Errorf("l2 chain config is for chain %v but the rollup config is for chain %v", c.L2ChainConfig.ChainID, c.Rollup.L2ChainID)
	}
	if c.IsCustomChainConfig && c.L1ChainConfig == nil {
		return ErrMissingL1ChainCfg
	}
	if c.L1ChainConfig != nil {
		if c.L1ChainConfig.ChainID == nil || c.L1ChainConfig.ChainID.Cmp(c.Rollup.L1ChainID) != 0 {
			return fmt.Errorf("l1 chain config is for chain %v but the rollup config's L1 is chain %v", c.L1ChainConfig.ChainID, c.Rollup.L1ChainID)
		}
	}
	if c.L1Head == (common.Hash{}) {
		return ErrInvalidL1Head
	}
	if c.L2Head == (common.Hash{}) {
		return ErrInvalidL2Head
	}
	if c.L2OutputRoot == (common.Hash{}) {
		return ErrInvalidL2OutputRoot
	}
	if c.L2ClaimBlockNumber == 0 {
		return ErrInvalidL2ClaimBlock
	}
	return c.checkRun(preloaded)
}

// checkInterop validates an interop claim's configuration.
func (c *Config) checkInterop(preloaded bool) error {
	if err := c.Interop.Check(); err != nil {
		return err
	}
	if c.L1Head == (common.Hash{}) {
		return ErrInvalidL1Head
	}
	return c.checkRun(preloaded)
}

// checkRun validates where the preimages come from and how the program runs.
func (c *Config) checkRun(preloaded bool) error {
	if (c.L1URL != "") != (len(c.L2URLs) > 0) {
		return ErrL1AndL2Inconsistent
	}
	if !c.FetchingEnabled() && c.DataDir == "" && !preloaded {
		return ErrDataDirRequired
	}
	if c.ServerMode && c.ExecCmd != "" {
		return ErrNoExecInServerMode
	}
	if c.DataFormat != "" {
		if _, err := kvstore.ParseFormat(string(c.DataFormat)); err != nil {
			return err
		}
	}
	return nil
}
