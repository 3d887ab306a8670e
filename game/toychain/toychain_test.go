package toychain

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
)

// TestProgramDecidesClaims runs the toy program in the VM on right and wrong claims.
func TestProgramDecidesClaims(t *testing.T) {
	c, err := New(Keccak, Sha256, Blob, Precompile, LargeKeccak, Keccak)
	require.NoError(t, err)
	elf, err := BuildProgram(filepath.Join("..", ".."), t.TempDir())
	require.NoError(t, err)
	data, err := os.ReadFile(elf)
	require.NoError(t, err)
	for _, tt := range []struct {
		name          string
		agreed, block uint64
		claim         common.Hash
		exit          uint8
	}{
		{"right claim over every record", 0, 6, c.Outputs[6], 0},
		{"wrong claim", 2, 4, c.Outputs[3], 1},
		{"one block", 4, 5, c.Outputs[5], 0},
		{"behind the agreed block, right", 5, 3, c.Outputs[5], 0},
		{"behind the agreed block, wrong", 5, 3, c.Outputs[3], 1},
	} {
		s, _, err := vm.LoadProgram(data)
		require.NoError(t, err)
		o := vm.NewMemoryOracle()
		for k, v := range c.Preimages {
			o.Set(k, v)
		}
		be := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
		o.Set(preimage.L1HeadLocalIndex.PreimageKey(), c.L1Head.Bytes())
		o.Set(preimage.L2OutputRootLocalIndex.PreimageKey(), c.Outputs[tt.agreed].Bytes())
		o.Set(preimage.L2ClaimLocalIndex.PreimageKey(), tt.claim.Bytes())
		o.Set(preimage.L2ClaimBlockNumberLocalIndex.PreimageKey(), be(tt.block))
		o.Set(preimage.L2ChainIDLocalIndex.PreimageKey(), be(ChainID))
		m := vm.NewVM(s, o, nil, nil)
		for !s.Exited {
			require.NoError(t, m.Run(1<<24))
		}
		require.Equal(t, tt.exit, s.ExitCode, "%s: exit %d, want %d", tt.name, s.ExitCode, tt.exit)
		t.Logf("%s: exit %d after %d steps", tt.name, s.ExitCode, s.Step)
	}
}
