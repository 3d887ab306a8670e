package preimage

import "math"

// Local key indices: the boot inputs of one program instance. They are part of the fault proof ABI (the
// dispute game serves indices 1-5 on chain) and must not change.
const (
	L1HeadLocalIndex             LocalIndexKey = 1 // L1 block hash: the L1 chain the program may read
	L2OutputRootLocalIndex       LocalIndexKey = 2 // agreed L2 output root
	L2ClaimLocalIndex            LocalIndexKey = 3 // claimed L2 output root
	L2ClaimBlockNumberLocalIndex LocalIndexKey = 4 // claimed L2 block number, 8 bytes big-endian
	L2ChainIDLocalIndex          LocalIndexKey = 5 // L2 chain ID, 8 bytes big-endian, or CustomChainIDIndicator
	L2ChainConfigLocalIndex      LocalIndexKey = 6 // JSON L2 chain config (custom chains only)
	RollupConfigLocalIndex       LocalIndexKey = 7 // JSON rollup config (custom chains only)
	DependencySetLocalIndex      LocalIndexKey = 8 // JSON dependency set (interop only)
	L1ChainConfigLocalIndex      LocalIndexKey = 9 // JSON L1 chain config (custom chains only)
)

// CustomChainIDIndicator as the chain ID tells the program to read its configs from local keys 6, 7 and 9
// instead of its embedded registry. Such a program instance cannot be disputed on chain.
const CustomChainIDIndicator = uint64(math.MaxUint64)

// LocalIndexName names a local index for logs and errors.
func LocalIndexName(k LocalIndexKey) string {
	switch k {
	case L1HeadLocalIndex:
		return "l1-head"
	case L2OutputRootLocalIndex:
		return "l2-output-root"
	case L2ClaimLocalIndex:
		return "l2-claim"
	case L2ClaimBlockNumberLocalIndex:
		return "l2-claim-block-number"
	case L2ChainIDLocalIndex:
		return "l2-chain-id"
	case L2ChainConfigLocalIndex:
		return "l2-chain-config"
	case RollupConfigLocalIndex:
		return "rollup-config"
	case DependencySetLocalIndex:
		return "dependency-set"
	case L1ChainConfigLocalIndex:
		return "l1-chain-config"
	default:
		return "unknown"
	}
}
