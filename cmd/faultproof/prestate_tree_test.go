package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrestateBuildTree prepares the prestate's build tree: the patches apply to the pinned op-geth, and
// the tree holds the program's sources, not its tests.
func TestPrestateBuildTree(t *testing.T) {
	if testing.Short() {
		t.Skip("vendors the program's dependencies")
	}
	dir := t.TempDir()
	require.NoError(t, prepareBuildTree(filepath.Join("..", ".."), dir, "go"))
	code, err := os.ReadFile(filepath.Join(dir, "vendor", "github.com", "ethereum", "go-ethereum", "core", "types", "tx_setcode.go"))
	require.NoError(t, err)
	require.Contains(t, string(code), "if RecoverAuthority != nil {")
	require.FileExists(t, filepath.Join(dir, "client", "l2", "authority_vm.go"))
	require.NoFileExists(t, filepath.Join(dir, "client", "l2", "authority_other.go"), "files of other builds are left out")
	require.NoFileExists(t, filepath.Join(dir, "client", "l2", "engine_test.go"))
	require.FileExists(t, filepath.Join(dir, "derive", "upgrade_karst_nut_bundle.json"), "embedded files come along")
	require.NoFileExists(t, filepath.Join(dir, "client", "l1", "kzg_lagrange_g1.bin"), "the native build's KZG setup stays out")
}

// TestPrestateBuildIsReproducible builds the program twice, in two build trees: the ELFs are identical.
func TestPrestateBuildIsReproducible(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to build the mips64 program twice")
	}
	a, b := filepath.Join(t.TempDir(), "a.elf"), filepath.Join(t.TempDir(), "b.elf")
	require.NoError(t, buildProgramELF(filepath.Join("..", ".."), a, "go", nil, ""))
	require.NoError(t, buildProgramELF(filepath.Join("..", ".."), b, "go", nil, ""))
	da, err := os.ReadFile(a)
	require.NoError(t, err)
	db, err := os.ReadFile(b)
	require.NoError(t, err)
	require.True(t, bytes.Equal(da, db), "the two builds differ")
}

func TestSourcePatchRefusesChangedCode(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f.go"), []byte("a\nb\na\n"), 0o644))
	require.ErrorContains(t, sourcePatch{file: "f.go", old: "c\n", new: "d\n"}.apply(dir), "occurs 0 times")
	require.ErrorContains(t, sourcePatch{file: "f.go", old: "a\n", new: "d\n"}.apply(dir), "occurs 2 times")
	require.NoError(t, sourcePatch{file: "f.go", old: "b\n", new: "d\n"}.apply(dir))
	got, err := os.ReadFile(filepath.Join(dir, "f.go"))
	require.NoError(t, err)
	require.Equal(t, "a\nd\na\n", string(got))
}
