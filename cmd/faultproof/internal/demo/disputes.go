package demo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

// Dispute is one row of the demo: a claim about the devnet's L2 chain and the verdict it must get.
type Dispute struct {
	Name       string
	Agreed     uint64 // the agreed L2 block
	ClaimBlock uint64 // the block the claim is about
	Claim      common.Hash
	Want       int // the expected exit code
}

// Blocks is the number of L2 blocks the program derives to decide the dispute (0 for a claim behind the
// agreed block).
func (dp Dispute) Blocks() uint64 {
	if dp.ClaimBlock > dp.Agreed {
		return dp.ClaimBlock - dp.Agreed
	}
	return 0
}

// Disputes are the demo's disputes on d: honest and wrong output roots at the head, across Holocene's
// activation and about blocks batched in blobs (if the devnet has them), behind the agreed block, and one
// about each block a faulty batcher attacked.
func Disputes(d *devnet.Devnet) ([]Dispute, error) {
	head := d.L2Head().NumberU64()
	if head < 16 {
		return nil, fmt.Errorf("the demo needs at least 16 L2 blocks, got %d", head)
	}
	disputes := []Dispute{
		{"honest output root", head - 6, head, d.OutputRoot(head), preimage.ExitValid},
		{"wrong output root", head - 6, head, d.OutputRoot(head - 1), preimage.ExitInvalid},
	}
	r := d.Rollup()
	if at := r.HoloceneTime; at != nil && *at > r.Genesis.L2Time {
		if holocene := (*at - r.Genesis.L2Time) / r.BlockTime; holocene >= 3 && holocene+2 <= head {
			disputes = append(disputes, Dispute{fmt.Sprintf("across Holocene's activation (block %d)", holocene), holocene - 3, holocene + 2, d.OutputRoot(holocene + 2), preimage.ExitValid})
		}
	}
	blob := uint64(0)
	for n := min(uint64(30), head/2); n <= head && blob == 0; n++ {
		if d.Batch(n).Blob && n >= 2 {
			blob = n
		}
	}
	if blob != 0 {
		disputes = append(disputes, Dispute{fmt.Sprintf("batches posted in blobs (block %d)", blob), blob - 2, blob, d.OutputRoot(blob), preimage.ExitValid})
	}
	agreed := min(uint64(40), head-10)
	disputes = append(disputes, Dispute{"behind the agreed block (trace extension)", agreed, agreed - 5, d.OutputRoot(agreed - 5), preimage.ExitValid})
	for _, n := range d.Config().InvalidBatchAt {
		disputes = append(disputes, Dispute{fmt.Sprintf("invalid batch replaced by deposits only (block %d)", n), n - 1, n, d.OutputRoot(n), preimage.ExitValid})
	}
	for _, f := range d.Config().Faults {
		disputes = append(disputes, Dispute{fmt.Sprintf("faulty batcher %s (block %d)", f.Kind, f.Block), f.Block - 1, f.Block, d.OutputRoot(f.Block), preimage.ExitValid})
	}
	return disputes, nil
}

// HostConfig is the configuration of a host that decides dp offline: the devnet's chain is a custom chain,
// its configs given as local keys.
func HostConfig(d *devnet.Devnet, dp Dispute) *host.Config {
	return &host.Config{
		Rollup:              d.Rollup(),
		L2ChainConfig:       d.L2ChainConfig(),
		L1ChainConfig:       d.L1ChainConfig(),
		IsCustomChainConfig: true,
		L1Head:              d.L1Head().Hash(),
		L2Head:              d.L2Block(dp.Agreed).Hash(),
		L2OutputRoot:        d.OutputRoot(dp.Agreed),
		L2Claim:             dp.Claim,
		L2ClaimBlockNumber:  dp.ClaimBlock,
	}
}

// Verdict names an exit code in the demo's tables.
func Verdict(code int) string {
	switch code {
	case preimage.ExitValid:
		return "valid"
	case preimage.ExitInvalid:
		return "invalid"
	}
	return fmt.Sprintf("failed (exit %d)", code)
}

// WriteConfigs writes the devnet's configs into dir as ReplayArgs names them: rollup.json,
// genesis-l2.json and genesis-l1.json.
func WriteConfigs(dir string, d *devnet.Devnet) error {
	return writeJSONFiles(dir, map[string]any{
		"rollup.json":     d.Rollup(),
		"genesis-l2.json": map[string]any{"config": d.L2ChainConfig()},
		"genesis-l1.json": map[string]any{"config": d.L1ChainConfig()},
	})
}

// writeJSONFiles writes each value of files, indented JSON, into dir under its name.
func writeJSONFiles(dir string, files map[string]any) error {
	for name, v := range files {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// StorePreimages puts preimages (the devnet's) into kv.
func StorePreimages(kv kvstore.KV, preimages map[[32]byte][]byte) error {
	for k, v := range preimages {
		if err := kv.Put(k, v); err != nil {
			return fmt.Errorf("store preimages: %w", err)
		}
	}
	return nil
}

// WriteDataDir writes what a host in another process needs to decide the disputes on d offline: the
// preimages (a pebble store in dir/preimages) and the configs.
func WriteDataDir(dir string, d *devnet.Devnet) error {
	kv, _, err := kvstore.Open(filepath.Join(dir, "preimages"), kvstore.FormatPebble)
	if err != nil {
		return err
	}
	if err := StorePreimages(kv, d.Preimages()); err != nil {
		kv.Close()
		return err
	}
	if err := kv.Close(); err != nil {
		return err
	}
	return WriteConfigs(dir, d)
}

// ReplayArgs are the 'faultproof run' arguments that decide the dispute of cfg from the datadir dir (as
// WriteDataDir writes it); the devnet chain is a custom chain, announced with the custom-chain indicator
// (--l2.custom) as the demo does.
func ReplayArgs(dir string, cfg *host.Config) []string {
	args := []string{"run", "--rollup.config", filepath.Join(dir, "rollup.json"), "--l2.genesis", filepath.Join(dir, "genesis-l2.json"),
		"--l1.chainconfig", filepath.Join(dir, "genesis-l1.json"), "--datadir", filepath.Join(dir, "preimages"),
		"--l1.head", cfg.L1Head.Hex(), "--l2.head", cfg.L2Head.Hex(), "--l2.outputroot", cfg.L2OutputRoot.Hex(),
		"--l2.claim", cfg.L2Claim.Hex(), "--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber)}
	if cfg.IsCustomChainConfig {
		args = append(args, "--l2.custom")
	}
	return args
}
