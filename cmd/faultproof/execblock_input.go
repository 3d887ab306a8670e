package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// readParentHeader reads a header in the JSON shape of eth_getBlockByHash. If the JSON names the block's
// hash, the header must hash to it: a header that does not is not the parent the user meant.
func readParentHeader(path string) (*types.Header, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read parent header: %w", err)
	}
	if isJSONNull(data) {
		return nil, fmt.Errorf("--%s %s: null, not a header", execParentFlag.Name, path)
	}
	var h types.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("parent header %s: %w", path, err)
	}
	if err := checkParentNumber(fmt.Sprintf("--%s %s", execParentFlag.Name, path), h.Number); err != nil {
		return nil, err
	}
	var named struct {
		Hash *common.Hash `json:"hash"`
	}
	if err := json.Unmarshal(data, &named); err == nil && named.Hash != nil && *named.Hash != h.Hash() {
		return nil, fmt.Errorf("parent header %s hashes to %s, but its hash field says %s: a field is missing or wrong", path, h.Hash(), *named.Hash)
	}
	return &h, nil
}

// readAttributes reads engine API payload attributes for block number n, as op-node sends them or as kona's
// fixtures hold them.
func readAttributes(path string, l2cfg *params.ChainConfig, n uint64) (*rollup.PayloadAttributes, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	if isJSONNull(data) {
		return nil, fmt.Errorf("payload attributes %s: null, not attributes", path)
	}
	var attrs rollup.PayloadAttributes
	if err := json.Unmarshal(data, &attrs); err != nil {
		return nil, fmt.Errorf("payload attributes %s: %w", path, err)
	}
	if err := normalizeWithdrawals(l2cfg, n, &attrs); err != nil {
		return nil, fmt.Errorf("payload attributes %s: %w", path, err)
	}
	return &attrs, nil
}

var errWithdrawals = errors.New("OP Stack blocks carry no withdrawals")

// normalizeWithdrawals reads the withdrawals of attributes for block n as kona does: from Canyon (the
// OP Stack's Shanghai) a missing list is the empty list op-node always sends; before it, there is no list.
// A list with withdrawals in it is refused: the OP Stack has no withdrawals, and op-node never sends any.
func normalizeWithdrawals(l2cfg *params.ChainConfig, n uint64, attrs *rollup.PayloadAttributes) error {
	if len(attrs.Withdrawals) > 0 {
		return fmt.Errorf("%d withdrawals: %w", len(attrs.Withdrawals), errWithdrawals)
	}
	shanghai := l2cfg.IsShanghai(new(big.Int).SetUint64(n), attrs.Timestamp)
	switch {
	case shanghai && attrs.Withdrawals == nil:
		attrs.Withdrawals = []*types.Withdrawal{}
	case !shanghai && attrs.Withdrawals != nil:
		return errors.New("a withdrawals list before canyon")
	}
	return nil
}

func isJSONNull(data []byte) bool { return bytes.Equal(bytes.TrimSpace(data), []byte("null")) }

// preimageSource answers keccak256 keys from a witness or a datadir, plus extra values (the parent
// header), and with --l2 fetches what both lack from the node, by the program's last hint. Every answer
// is verified against its key (preimage.Verify), wherever it came from.
type preimageSource struct {
	extra map[[32]byte][]byte
	kv    kvstore.KV
	// fetch, if set, fetches a missing value by the program's last hint, which names its hash and kind.
	fetch   func(hint preimage.TypedHint) ([]byte, error)
	hint    preimage.TypedHint
	fetched int
	// closeNode, if set, closes the node fetch reads from.
	closeNode func()
}

func (s *preimageSource) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := s.extra[k]
	if !ok {
		var err error
		v, err = s.kv.Get(common.Hash(k))
		if errors.Is(err, kvstore.ErrNotFound) && s.fetch != nil && s.hinted(k) {
			if v, err = s.fetch(s.hint); err == nil {
				s.fetched++
				s.extra[k] = v
			}
		}
		if err != nil {
			if errors.Is(err, kvstore.ErrNotFound) {
				return nil, fmt.Errorf("missing from the witness and datadir: %w", err)
			}
			return nil, err
		}
	}
	if err := preimage.Verify(k, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Hint remembers the program's last hint: it names the full hash of what the next key is for (a key keeps
// only 31 bytes of it) and its kind (state node, code or header), and so the request that fetches it.
func (s *preimageSource) Hint(h preimage.Hint) error {
	if th, ok := h.(preimage.TypedHint); ok {
		s.hint = th
	}
	return nil
}

// hinted reports whether the last hint names the hash that key k was made from.
func (s *preimageSource) hinted(k [32]byte) bool {
	return len(s.hint.Data) >= 32 && preimage.Keccak256Key(common.BytesToHash(s.hint.Data[:32])).PreimageKey() == k
}

func (s *preimageSource) Close() error {
	if s.closeNode != nil {
		s.closeNode()
	}
	return s.kv.Close()
}

type noHints struct{}

func (noHints) Hint(preimage.Hint) error { return nil }

// execBlockSource serves the witness, the datadir, or both: the witness first, the datadir for what the
// witness lacks (op-geth's witnesses omit the trie nodes that prove an account absent).
func execBlockSource(ctx *cli.Context) (*preimageSource, error) {
	witness, datadir := ctx.String(execWitnessFlag.Name), ctx.String(execDataDirFlag.Name)
	if witness == "" && datadir == "" {
		return nil, fmt.Errorf("one of --%s or --%s is required", execWitnessFlag.Name, execDataDirFlag.Name)
	}
	var values [][]byte
	if witness != "" {
		data, err := os.ReadFile(witness)
		if err != nil {
			return nil, fmt.Errorf("read witness: %w", err)
		}
		if values, err = parseWitness(data); err != nil {
			return nil, fmt.Errorf("witness %s: %w", witness, err)
		}
	}
	return newPreimageSource(values, datadir)
}

// newPreimageSource serves values and, if datadir is set, the preimage store there.
func newPreimageSource(values [][]byte, datadir string) (*preimageSource, error) {
	src := &preimageSource{extra: map[[32]byte][]byte{}, kv: kvstore.NewMem()}
	for _, v := range values {
		src.extra[preimage.KeccakKeyOf(v).PreimageKey()] = v
	}
	if datadir != "" {
		if err := checkExistingDir(datadir); err != nil {
			return nil, err
		}
		kv, _, err := kvstore.Open(datadir, "")
		if err != nil {
			return nil, err
		}
		src.kv = kv
	}
	return src, nil
}

func checkExistingDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("datadir %s is not a directory", dir)
	}
	return nil
}

// parseWitness reads an execution witness in either shape geth and reth use: state, codes and keys as
// arrays of hex strings or as objects from hash to hex; headers as header objects or RLP hex strings.
// Its values need no other check: each is only ever served under its own hash.
func parseWitness(data []byte) ([][]byte, error) {
	if isJSONNull(data) {
		return nil, errors.New("null, not a witness")
	}
	var w struct {
		State   json.RawMessage   `json:"state"`
		Codes   json.RawMessage   `json:"codes"`
		Keys    json.RawMessage   `json:"keys"`
		Headers []json.RawMessage `json:"headers"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, part := range []struct {
		name string
		raw  json.RawMessage
	}{{"state", w.State}, {"codes", w.Codes}, {"keys", w.Keys}} {
		values, err := hexList(part.raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", part.name, err)
		}
		out = append(out, values...)
	}
	for i, raw := range w.Headers {
		var enc hexutil.Bytes
		if err := json.Unmarshal(raw, &enc); err == nil {
			out = append(out, enc)
			continue
		}
		var h types.Header
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("header %d: %w", i, err)
		}
		enc, err := rlp.EncodeToBytes(&h)
		if err != nil {
			return nil, err
		}
		out = append(out, enc)
	}
	return out, nil
}

func hexList(raw json.RawMessage) ([][]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []hexutil.Bytes
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
	} else {
		var byHash map[string]hexutil.Bytes
		if err := json.Unmarshal(raw, &byHash); err != nil {
			return nil, err
		}
		for _, v := range byHash {
			list = append(list, v)
		}
	}
	out := make([][]byte, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out, nil
}
