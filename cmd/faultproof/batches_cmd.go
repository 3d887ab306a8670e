package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

var batchesCommand = &cli.Command{
	Name:  "batches",
	Usage: "Inspect batcher data",
	Subcommands: []*cli.Command{{
		Name:  "decode",
		Usage: "Decode a channel, frames or a batcher transaction's data into batches (one JSON object per line)",
		Description: `Reads hex from FILE ('-' for stdin): --channel a compressed channel, --frames frames back to back
(with or without the leading version byte), --tx a batcher transaction's data. Span batches are expanded
into one line per block. The chain config (--network or --rollup.config) gives the chain ID, genesis time
and block time that span batches need; channels are read under the newest fork's rules.`,
		Flags: append([]cli.Flag{
			&cli.PathFlag{Name: "channel", Usage: "Hex of a compressed channel"},
			&cli.PathFlag{Name: "frames", Usage: "Hex of frames"},
			&cli.PathFlag{Name: "tx", Usage: "Hex of a batcher transaction's data (version byte and frames)"},
			&cli.StringFlag{Name: "network", Usage: "Chain from the embedded registry"},
			&cli.PathFlag{Name: "rollup.config", Usage: "Rollup config file"},
		}, logFlags...),
		Before: setupLogging,
		Action: runBatchesDecode,
	}},
}

// batchLine is one decoded block's batch.
type batchLine struct {
	Type         string          `json:"type"`
	ParentHash   *common.Hash    `json:"parentHash,omitempty"`
	EpochNum     uint64          `json:"epochNum"`
	EpochHash    *common.Hash    `json:"epochHash,omitempty"`
	Timestamp    uint64          `json:"timestamp"`
	Transactions []hexutil.Bytes `json:"transactions"`
}

func runBatchesDecode(ctx *cli.Context) error {
	cfg, err := batchesConfig(ctx)
	if err != nil {
		return err
	}
	var inputs []string
	for _, f := range []string{"channel", "frames", "tx"} {
		if ctx.IsSet(f) {
			inputs = append(inputs, f)
		}
	}
	if len(inputs) != 1 {
		return errors.New("give exactly one of --channel, --frames or --tx")
	}
	data, err := readHexInput(ctx.Path(inputs[0]))
	if err != nil {
		return err
	}
	var channels [][]byte
	switch inputs[0] {
	case "channel":
		channels = [][]byte{data}
	case "tx":
		if channels, err = channelsOfFrames(data); err != nil {
			return err
		}
	case "frames":
		if len(data) > 0 && data[0] != 0 { // frames without the version byte
			data = append([]byte{0}, data...)
		}
		if channels, err = channelsOfFrames(data); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(os.Stdout)
	failed := 0
	for i, ch := range channels {
		// One bad channel must not hide the others: report it and go on.
		if err := decodeChannel(cfg, ch, enc); err != nil {
			fmt.Fprintf(os.Stderr, "channel %d: %v\n", i, err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d channels did not decode fully", failed, len(channels))
	}
	return nil
}

func batchesConfig(ctx *cli.Context) (*rollup.Config, error) {
	network, path := ctx.String("network"), ctx.Path("rollup.config")
	switch {
	case network != "" && path != "":
		return nil, errors.New("--network and --rollup.config are mutually exclusive")
	case network != "":
		id, err := rollup.ResolveNetwork(network)
		if err != nil {
			return nil, err
		}
		cfg, _, err := rollup.FromRegistry(id)
		return cfg, err
	case path != "":
		return rollup.LoadConfig(path)
	}
	return nil, errors.New("one of --network or --rollup.config is required")
}

func readHexInput(path string) ([]byte, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(s, "0x") {
		s = "0x" + s
	}
	data, err := hexutil.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not hex: %w", path, err)
	}
	return data, nil
}

// channelsOfFrames assembles batcher transaction data into the channels its frames complete, in the order
// they complete.
func channelsOfFrames(data []byte) ([][]byte, error) {
	frames, err := derive.ParseFrames(data)
	if err != nil {
		return nil, fmt.Errorf("frames: %w", err)
	}
	open := map[derive.ChannelID]*derive.Channel{}
	var out [][]byte
	for _, f := range frames {
		ch, ok := open[f.ID]
		if !ok {
			ch = derive.NewChannel(f.ID, rollup.BlockID{}, false)
			open[f.ID] = ch
		}
		if err := ch.AddFrame(f); err != nil {
			return nil, fmt.Errorf("channel %s: %w", f.ID, err)
		}
		if ch.IsReady() {
			d, err := ch.Data()
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			delete(open, f.ID)
		}
	}
	for id := range open {
		fmt.Fprintf(os.Stderr, "channel %s is incomplete: its remaining frames are not in this input\n", id)
	}
	return out, nil
}

func decodeChannel(cfg *rollup.Config, data []byte, enc *json.Encoder) error {
	r, err := derive.NewChannelReader(cfg, data, math.MaxUint64)
	if err != nil {
		return fmt.Errorf("channel: %w", err)
	}
	for {
		b, err := r.NextBatch()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		if s, ok := b.Singular(); ok {
			parent, epoch := s.ParentHash, s.EpochHash
			if err := enc.Encode(batchLine{Type: "singular", ParentHash: &parent, EpochNum: s.EpochNum, EpochHash: &epoch,
				Timestamp: s.Timestamp, Transactions: nonNil(s.Transactions)}); err != nil {
				return err
			}
			continue
		}
		raw, _ := b.Span()
		span, err := derive.DeriveSpanBatch(cfg, raw)
		if err != nil {
			return fmt.Errorf("span batch: %w", err)
		}
		for _, blk := range span.Blocks {
			if err := enc.Encode(batchLine{Type: "span", EpochNum: blk.EpochNum, Timestamp: blk.Timestamp, Transactions: nonNil(blk.Transactions)}); err != nil {
				return err
			}
		}
	}
}

func nonNil(txs []hexutil.Bytes) []hexutil.Bytes {
	if txs == nil {
		return []hexutil.Bytes{}
	}
	return txs
}
