package onchain

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

var (
	preimagesOnce sync.Once
	preimagesPath string
	preimagesErr  error
)

// preimagesGuest builds testdata/preimages (a guest reading pre-images of every key type).
func preimagesGuest(t *testing.T) string {
	t.Helper()
	guestPath(t, "hello") // the guests' directory
	preimagesOnce.Do(func() {
		preimagesPath = filepath.Join(guestsDir, "preimages")
		cmd := exec.Command("go", "build", "-trimpath", "-o", preimagesPath, ".")
		cmd.Dir = filepath.Join("testdata", "preimages")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=mips64", "GOMIPS64=softfloat", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			preimagesErr = err
			t.Logf("%s", out)
		}
	})
	require.NoError(t, preimagesErr, "building testdata/preimages")
	return preimagesPath
}

func typedKey(typ byte, h [32]byte) [32]byte {
	h[0] = typ
	return h
}

// allKeyTypes is the pre-images the preimages guest reads, with the loader inputs for the blob and
// precompile keys: a keccak256 manifest (named by local key 1) listing a sha256 key, a blob key (a
// field element of a real blob, with its KZG commitment and proof), precompile keys (sha256 of a
// message; ecrecover of garbage, which succeeds with no output), a long keccak256 pre-image, an empty
// one and local key 4 (8 bytes).
func allKeyTypes(t *testing.T) (*vm.MemoryOracle, map[[32]byte][]byte) {
	o := vm.NewMemoryOracle()
	extra := map[[32]byte][]byte{}
	var manifest []byte
	add := func(key [32]byte, value []byte) {
		o.Set(key, value)
		manifest = append(manifest, key[:]...)
	}

	shaData := []byte("a sha256 pre-image, as blob versioned hashes' commitments are served")
	add(typedKey(4, sha256.Sum256(shaData)), shaData)

	var blob kzg4844.Blob
	for i := 0; i < len(blob); i += 32 {
		binary.BigEndian.PutUint64(blob[i+24:], uint64(i)*0x9e3779b97f4a7c15>>8) // field elements below the modulus
	}
	commitment, err := kzg4844.BlobToCommitment(&blob)
	require.NoError(t, err)
	var z kzg4844.Point
	z[31] = 7
	proof, y, err := kzg4844.ComputeProof(&blob, z)
	require.NoError(t, err)
	blobKey := typedKey(5, crypto.Keccak256Hash(commitment[:], z[:]))
	add(blobKey, y[:])
	extra[blobKey] = append(append(append([]byte{}, commitment[:]...), z[:]...), proof[:]...)

	precompile := func(addr byte, gas uint64, input, output []byte) {
		call := append(append(common.BytesToAddress([]byte{addr}).Bytes(), binary.BigEndian.AppendUint64(nil, gas)...), input...)
		key := typedKey(6, crypto.Keccak256Hash(call))
		add(key, append([]byte{1}, output...)) // status 1: the call succeeded
		extra[key] = call
	}
	msg := []byte("input of the sha256 precompile")
	sum := sha256.Sum256(msg)
	precompile(2, 72, msg, sum[:])
	precompile(1, 3000, make([]byte, 128), nil)

	long := make([]byte, 300)
	for i := range long {
		long[i] = byte(i * 7)
	}
	add(typedKey(2, crypto.Keccak256Hash(long)), long)
	add(typedKey(2, crypto.Keccak256Hash(nil)), nil)
	local4 := [32]byte{0: 1, 31: 4}
	add(local4, binary.BigEndian.AppendUint64(nil, 123456))

	manifestKey := typedKey(2, crypto.Keccak256Hash(manifest))
	o.Set(manifestKey, manifest)
	o.Set([32]byte{0: 1, 31: 1}, manifestKey[:])
	return o, extra
}
