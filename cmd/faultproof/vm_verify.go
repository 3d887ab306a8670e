package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/onchain"
)

var (
	vmVerifyProofFlag = &cli.PathFlag{
		Name:      "proof",
		Usage:     "Step proof file written by vm run --proof-at (or Cannon): .json or .json.gz",
		TakesFile: true,
		Required:  true,
	}
	vmVerifyOracleDataFlag = &cli.StringFlag{
		Name: "preimage-oracle-data",
		Usage: "0x-prefixed hex input of the oracle's loader beyond the proof's pre-image, for blob keys (commitment ++ z ++ " +
			"KZG proof, 128 bytes) and precompile keys (address ++ 8-byte required gas ++ input); without it such parts are " +
			"written into the oracle's storage unchecked",
	}
)

var vmVerifyCommand = &cli.Command{
	Name:  "verify",
	Usage: "Check a step proof with the MIPS64 contract in an in-memory EVM",
	Description: `Deploys the OP Stack's PreimageOracle and MIPS64 contracts (embedded bytecode of optimism ` + provenanceVersion() + `, see
vm/onchain/provenance.json) in an in-memory EVM, loads the pre-image part the step reads (local keys with
loadLocalData in local context 0, keccak256 and sha256 keys through their loaders, which check that the value belongs
to the key), calls step(state-data, proof-data, 0) and compares the post-state it returns with the proof's post.

Prints "ok post=0x..." and exits 0 when they are equal; prints the mismatch or the contract's revert reason and exits 1
otherwise; exits 2 with a one-line error when the file cannot be read or is not a step proof.`,
	Flags:  append([]cli.Flag{vmVerifyProofFlag, vmVerifyOracleDataFlag}, logFlags...),
	Before: setupLogging,
	Action: vmVerify,
}

// provenanceVersion is the optimism release the embedded contracts come from.
func provenanceVersion() string {
	var p struct {
		Optimism string `json:"optimism"`
	}
	if json.Unmarshal(onchain.Provenance(), &p) != nil || p.Optimism == "" {
		return "(unknown)"
	}
	return p.Optimism
}

// verifyProof is a step proof file. The pointers tell missing fields from empty ones.
type verifyProof struct {
	Step         *uint64        `json:"step"`
	Pre          *common.Hash   `json:"pre"`
	Post         *common.Hash   `json:"post"`
	StateData    *hexutil.Bytes `json:"state-data"`
	ProofData    *hexutil.Bytes `json:"proof-data"`
	OracleKey    hexutil.Bytes  `json:"oracle-key"`
	OracleValue  hexutil.Bytes  `json:"oracle-value"`
	OracleOffset uint64         `json:"oracle-offset"`
}

// readVerifyProof reads and checks the shape of a proof file.
func readVerifyProof(path string) (*verifyProof, error) {
	var p verifyProof
	err := readInput(path, func(r io.Reader) error {
		dec := json.NewDecoder(r)
		if err := dec.Decode(&p); err != nil {
			return err
		}
		if _, err := dec.Token(); err != io.EOF {
			return errors.New("unexpected data after the JSON object")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"step", p.Step != nil}, {"pre", p.Pre != nil}, {"post", p.Post != nil}, {"state-data", p.StateData != nil}, {"proof-data", p.ProofData != nil}} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not a step proof: no %s", strings.Join(missing, ", "))
	}
	if n := len(*p.StateData); n != vm.StateWitnessSize {
		return nil, fmt.Errorf("state-data has %d bytes, want %d", n, vm.StateWitnessSize)
	}
	if n := len(*p.ProofData); n != vm.ProofDataSize {
		return nil, fmt.Errorf("proof-data has %d bytes, want %d", n, vm.ProofDataSize)
	}
	hasKey, hasValue := len(p.OracleKey) > 0, len(p.OracleValue) > 0
	switch {
	case hasKey != hasValue:
		return nil, errors.New("oracle-key and oracle-value must come together")
	case hasKey && len(p.OracleKey) != 32:
		return nil, fmt.Errorf("oracle-key has %d bytes, want 32", len(p.OracleKey))
	case hasValue && (len(p.OracleValue) < 8 || binary.BigEndian.Uint64(p.OracleValue[:8]) != uint64(len(p.OracleValue)-8)):
		return nil, errors.New("oracle-value does not start with its 8-byte length")
	}
	return &p, nil
}

func vmVerify(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	path := ctx.Path(vmVerifyProofFlag.Name)
	p, err := readVerifyProof(path)
	if err != nil {
		return fmt.Errorf("failed to read proof %q: %w", path, err)
	}
	var extra []byte
	if s := ctx.String(vmVerifyOracleDataFlag.Name); s != "" {
		if extra, err = hexutil.Decode(s); err != nil {
			return fmt.Errorf("invalid --%s: %w", vmVerifyOracleDataFlag.Name, err)
		}
	}
	chain, err := onchain.New()
	if err != nil {
		return fmt.Errorf("deploying the contracts: %w", err)
	}
	out := ctx.App.Writer
	invalid := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintln(out, msg)
		return &host.ExitError{Code: preimage.ExitInvalid, Err: errors.New(msg)}
	}

	if pre, err := vm.StateHashFromWitness(*p.StateData); err != nil {
		return invalid("bad state-data: %v", err)
	} else if pre != *p.Pre {
		return invalid("mismatch: pre=%s is not the hash of state-data (%s)", p.Pre.Hex(), pre.Hex())
	}
	var localContext common.Hash // local keys are loaded and read in context 0
	if len(p.OracleKey) > 0 {
		how, err := chain.LoadPreimagePart([32]byte(p.OracleKey), p.OracleValue, p.OracleOffset, localContext, extra)
		if err != nil {
			return invalid("oracle rejected the pre-image part: %v", err)
		}
		l := log.Info
		if how == onchain.LoadedStorage {
			l = log.Warn // no loader checked that the value belongs to the key
		}
		l("Loaded the pre-image part", "key", p.OracleKey, "offset", p.OracleOffset, "size", len(p.OracleValue)-8, "how", string(how))
	}
	post, gas, err := chain.Step(*p.StateData, *p.ProofData, localContext)
	var revert *onchain.RevertError
	switch {
	case errors.As(err, &revert):
		return invalid("reverted: %s (proof post=%s)", revert.Reason, p.Post.Hex())
	case err != nil:
		return fmt.Errorf("calling step: %w", err)
	case post != *p.Post:
		return invalid("mismatch: contract post=%s proof post=%s", post.Hex(), p.Post.Hex())
	}
	fmt.Fprintf(out, "ok post=%s\n", post.Hex())
	log.Info("Step verified by the MIPS64 contract", "step", *p.Step, "post", post, "gas", gas)
	return nil
}
