package prefetch_test

import (
	"crypto/sha256"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// TestPointEvaluationMatchesOpGeth: the host answers the KZG point-evaluation precompile (with its own
// proof check) exactly as op-geth's precompile does, for valid openings and for each way an input fails.
func TestPointEvaluationMatchesOpGeth(t *testing.T) {
	addr := common.BytesToAddress([]byte{0x0a})
	blob := new(kzg4844.Blob)
	for i := range 4096 {
		blob[i*32+31] = byte(i * 7)
		blob[i*32+30] = byte(i)
	}
	commitment, err := kzg4844.BlobToCommitment(blob)
	require.NoError(t, err)
	point := kzg4844.Point{31: 0x42}
	proof, claim, err := kzg4844.ComputeProof(blob, point)
	require.NoError(t, err)
	vh := kzg4844.CalcBlobHashV1(sha256.New(), &commitment)
	input := func(vh common.Hash, z kzg4844.Point, y kzg4844.Claim, c kzg4844.Commitment, p kzg4844.Proof) []byte {
		return append(append(append(append(append([]byte{}, vh[:]...), z[:]...), y[:]...), c[:]...), p[:]...)
	}
	otherClaim := claim
	otherClaim[31] ^= 1
	var bigPoint kzg4844.Point
	for i := range bigPoint {
		bigPoint[i] = 0xff
	}
	valid := input(vh, point, claim, commitment, proof)
	for _, tc := range []struct {
		name  string
		input []byte
		ok    bool
	}{
		{"valid opening", valid, true},
		{"other value", input(vh, point, otherClaim, commitment, proof), false},
		{"point above the modulus", input(vh, bigPoint, claim, commitment, proof), false},
		{"versioned hash of another commitment", input(common.Hash{0: 1}, point, claim, commitment, proof), false},
		{"proof off the curve", input(vh, point, claim, commitment, kzg4844.Proof{0: 0x80, 47: 1}), false},
		{"one byte short", valid[:191], false},
		{"one byte long", append(append([]byte{}, valid...), 0), false},
		{"no input", nil, false},
	} {
		out, err := vm.PrecompiledContractsPrague[addr].Run(tc.input)
		want := layout.PrecompileAnswer(err == nil, out)
		require.Equal(t, tc.ok, err == nil, "%s: op-geth: %v", tc.name, err)
		for _, typ := range []string{preimage.HintL1Precompile, preimage.HintL1PrecompileV2} {
			data := append([]byte{}, addr[:]...)
			if typ == preimage.HintL1PrecompileV2 {
				data = append(data, 0, 0, 0, 0, 0, 0, 0xc3, 0x50) // 50,000 gas
			}
			got, err := prefetch.RunPrecompile(typ, append(data, tc.input...))
			require.NoError(t, err, tc.name)
			require.Equal(t, want, got.Answer, "%s (%s)", tc.name, typ)
		}
	}
}
