package bundle

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"io"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

func testPreimages() map[common.Hash][]byte {
	m := map[common.Hash][]byte{}
	for i := range 20 {
		v := bytes.Repeat([]byte{byte(i)}, i*7)
		m[preimage.Keccak256Key(crypto.Keccak256Hash(v)).PreimageKey()] = v
	}
	v := []byte("sha")
	m[preimage.Sha256Key(sha256.Sum256(v)).PreimageKey()] = v
	return m
}

func testRun(t *testing.T) *Run {
	rcfg, l2, err := rollup.FromRegistry(11155420)
	require.NoError(t, err)
	return &Run{
		L1Head: common.Hash{1}, L2Head: common.Hash{2}, L2OutputRoot: common.Hash{3}, L2Claim: common.Hash{4},
		L2ClaimBlockNumber: 77,
		Rollup:             mustJSON(t, rcfg), L2ChainConfig: mustJSON(t, l2),
	}
}

func TestExportImportEveryFormat(t *testing.T) {
	want := testPreimages()
	for _, format := range kvstore.Formats {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			kv, _, err := kvstore.Open(dir, format)
			require.NoError(t, err)
			for k, v := range want {
				require.NoError(t, kv.Put(k, v))
			}
			require.NoError(t, kv.Close())

			var buf bytes.Buffer
			w, err := NewWriter(&buf, Manifest{Source: dir, Run: testRun(t)})
			require.NoError(t, err)
			require.NoError(t, Iterate(dir, w.Add))
			require.NoError(t, w.Close())
			require.EqualValues(t, len(want), w.Count())

			mem := kvstore.NewMem()
			m, n, err := Read(&buf, mem, 0)
			require.NoError(t, err)
			require.EqualValues(t, len(want), n)
			require.Equal(t, Version, m.Version)
			for k, v := range want {
				got, err := mem.Get(k)
				require.NoError(t, err)
				require.Equal(t, v, got)
			}
			cfg, err := m.Run.HostConfig()
			require.NoError(t, err)
			require.EqualValues(t, 77, cfg.L2ClaimBlockNumber)
			require.Equal(t, common.Hash{4}, cfg.L2Claim)
			require.Equal(t, uint64(11155420), cfg.Rollup.ChainID())
			require.Nil(t, cfg.L1ChainConfig)
		})
	}
}

func writeBundle(t *testing.T, records func(w *Writer)) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Manifest{Run: testRun(t)})
	require.NoError(t, err)
	records(w)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func gunzip(t *testing.T, b []byte) []byte {
	r, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}

func regzip(raw []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(raw)
	w.Close()
	return buf.Bytes()
}

func TestReadRejectsCorruptBundles(t *testing.T) {
	v := []byte("value")
	key := preimage.Keccak256Key(crypto.Keccak256Hash(v)).PreimageKey()
	good := writeBundle(t, func(w *Writer) { require.NoError(t, w.Add(key, v)) })
	_, _, err := Read(bytes.NewReader(good), kvstore.NewMem(), 0)
	require.NoError(t, err)

	raw := gunzip(t, good)
	cases := map[string][]byte{
		"not gzip":      []byte("plain text"),
		"truncated":     good[:len(good)/2],
		"bad magic":     regzip(append([]byte("XXBUNDLE"), raw[8:]...)),
		"no trailer":    regzip(raw[:len(raw)-9]),
		"trailing data": regzip(append(bytes.Clone(raw), 0xff)),
		"value changed": func() []byte {
			b := bytes.Clone(raw)
			b[len(b)-9-1] ^= 1 // last byte of the value
			return regzip(b)
		}(),
		"count changed": func() []byte {
			b := bytes.Clone(raw)
			b[len(b)-1]++
			return regzip(b)
		}(),
		"flipped compressed byte": func() []byte {
			b := bytes.Clone(good)
			b[len(b)/2] ^= 0x55
			return b
		}(),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(b), kvstore.NewMem(), 0)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}

	// A well-formed record whose value does not hash to its key: the writer refuses it, the reader too.
	w, err := NewWriter(io.Discard, Manifest{})
	require.NoError(t, err)
	require.ErrorIs(t, w.Add(key, []byte("other")), preimage.ErrPreimageMismatch)
	bad := rawBundle(t, []byte(`{"version":1}`), record{key, []byte("other")})
	_, _, err = Read(bytes.NewReader(bad), kvstore.NewMem(), 0)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorIs(t, err, preimage.ErrPreimageMismatch)
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestInteropRunRoundTrip: a super-root claim's configuration (prestate, dependency set, each chain's
// configs) survives a bundle's manifest, and a manifest whose dependency set lacks a chain is refused.
func TestInteropRunRoundTrip(t *testing.T) {
	ids := []uint64{763373, 11155420} // Ink Sepolia, OP Sepolia: both on Sepolia
	ic := &host.InteropConfig{}
	var outs []interop.ChainOutput
	for _, id := range ids {
		c, err := rollup.KnownChain(id)
		require.NoError(t, err)
		ic.Chains = append(ic.Chains, c)
		outs = append(outs, interop.ChainOutput{ChainID: id, Output: common.Hash{byte(id)}})
	}
	ic.AgreedPrestate = interop.NewSuperV1(1700000000, outs...).Marshal()
	var err error
	ic.DepSet, err = interop.NewDependencySet(ids, 0)
	require.NoError(t, err)
	cfg := &host.Config{Interop: ic, L1Head: common.Hash{1}, L2Claim: common.Hash{2}, L2ClaimBlockNumber: 1700000005}
	run, err := RunFromConfig(cfg)
	require.NoError(t, err)

	var buf bytes.Buffer
	w, err := NewWriter(&buf, Manifest{Run: run})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	m, _, err := Read(&buf, kvstore.NewMem(), 0)
	require.NoError(t, err)
	got, err := m.Run.HostConfig()
	require.NoError(t, err)
	got.DataDir = t.TempDir()
	require.NoError(t, got.Check())
	require.Equal(t, ic.AgreedPrestate, got.Interop.AgreedPrestate)
	require.Equal(t, ids, got.Interop.DepSet.Chains())
	require.Len(t, got.Interop.Chains, 2)
	for i, c := range got.Interop.Chains {
		require.Equal(t, ids[i], c.Rollup.ChainID())
		require.Equal(t, ic.Chains[i].L2.ChainID, c.L2.ChainID)
		require.Equal(t, ic.Chains[i].L1.ChainID, c.L1.ChainID)
	}
	require.Equal(t, cfg.L2ClaimBlockNumber, got.L2ClaimBlockNumber)
	require.Nil(t, got.Rollup, "no single-chain configs")

	other, err := interop.NewDependencySet([]uint64{ids[0]}, 0)
	require.NoError(t, err)
	m.Run.Interop.DependencySet = mustJSON(t, other)
	_, err = m.Run.HostConfig()
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "dependency set")
}
