// Command kzgsetupgen writes the Lagrange-basis G1 points of Ethereum's KZG trusted setup (the 4096 points
// a blob's commitment is a combination of) as uncompressed affine points, in the setup's order, for
// blobkzg. It reads the trusted_setup.json that op-geth's kzg4844 package
// embeds, from op-geth's module directory, so the output is the same on every machine:
//
//	go generate ./internal/blobkzg
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

func main() {
	out := flag.String("out", "kzg_lagrange_g1.bin", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "kzgsetupgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum/go-ethereum").Output()
	if err != nil {
		return fmt.Errorf("find op-geth's module: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "crypto", "kzg4844", "trusted_setup.json"))
	if err != nil {
		return err
	}
	var setup struct {
		G1Lagrange []string `json:"g1_lagrange"`
	}
	if err := json.Unmarshal(data, &setup); err != nil {
		return err
	}
	if len(setup.G1Lagrange) != 4096 {
		return fmt.Errorf("%d Lagrange points, want 4096", len(setup.G1Lagrange))
	}
	var buf []byte
	for i, s := range setup.G1Lagrange {
		b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
		if err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
		var p bls12381.G1Affine
		if _, err := p.SetBytes(b); err != nil { // with the subgroup check
			return fmt.Errorf("point %d: %w", i, err)
		}
		raw := p.RawBytes()
		buf = append(buf, raw[:]...)
	}
	return os.WriteFile(out, buf, 0o644)
}
