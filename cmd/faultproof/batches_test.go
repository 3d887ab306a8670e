package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
)

func decodeLines(t *testing.T, out string) []batchLine {
	var lines []batchLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l batchLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		lines = append(lines, l)
	}
	return lines
}

// TestBatchesDecodeOPMainnet decodes a real zlib channel posted for OP Mainnet in June 2024 (a test
// vector of kona's): one span batch of 143 blocks starting at L1 origin 20089746.
func TestBatchesDecodeOPMainnet(t *testing.T) {
	stdout, stderr, code := runCLI(t, "batches", "decode", "--channel", "testdata/op-mainnet-span-batch.hex", "--network", "op-mainnet")
	require.Equal(t, 0, code, stderr)
	lines := decodeLines(t, stdout)
	require.Len(t, lines, 143)
	require.Equal(t, uint64(20089746), lines[0].EpochNum)
	require.Equal(t, uint64(1718364637), lines[0].Timestamp)
	txs := 0
	for i, l := range lines {
		require.Equal(t, "span", l.Type)
		if i > 0 {
			require.Equal(t, lines[i-1].Timestamp+2, l.Timestamp, "OP Mainnet's 2 s blocks")
			require.GreaterOrEqual(t, l.EpochNum, lines[i-1].EpochNum)
		}
		for _, enc := range l.Transactions {
			var tx types.Transaction
			require.NoError(t, tx.UnmarshalBinary(enc))
			require.Equal(t, uint64(10), tx.ChainId().Uint64(), "signed for OP Mainnet")
			_, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), &tx)
			require.NoError(t, err, "the reassembled signature recovers a sender")
			txs++
		}
	}
	require.Positive(t, txs)
}

// TestBatchesDecodeDevnetFrames decodes the devnet batcher's calldata frames and finds its L2 blocks.
func TestBatchesDecodeDevnetFrames(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 30})
	require.NoError(t, err)
	var frames []byte
	cfg := d.Rollup()
	sysCfg := cfg.Genesis.SystemConfig
	signer := types.LatestSignerForChainID(cfg.L1ChainID)
	for n := uint64(0); n <= d.L1Head().NumberU64(); n++ {
		blk := d.L1Block(n)
		require.NoError(t, derive.ProcessSystemConfigUpdates(cfg, &sysCfg, d.L1Receipts(n), blk.Time()))
		for _, tx := range blk.Transactions() {
			if tx.To() == nil || *tx.To() != devnet.BatchInboxAddress || tx.Type() != types.DynamicFeeTxType || len(tx.Data()) < 2 {
				continue
			}
			if sender, err := types.Sender(signer, tx); err != nil || sender != sysCfg.BatcherAddr {
				continue // look-alikes from other senders
			}
			frames = append(frames, tx.Data()[1:]...) // drop each transaction's version byte
		}
	}
	require.NotEmpty(t, frames)
	dir := t.TempDir()
	framesPath := filepath.Join(dir, "frames.hex")
	require.NoError(t, os.WriteFile(framesPath, []byte(hex.EncodeToString(frames)), 0o644))
	stdout, stderr, code := runCLI(t, "batches", "decode", "--frames", framesPath,
		"--rollup.config", writeJSONFile(t, filepath.Join(dir, "rollup.json"), d.Rollup()))
	require.Equal(t, 0, code, stderr)
	lines := decodeLines(t, stdout)
	require.NotEmpty(t, lines)
	byTime := map[uint64]*types.Block{}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		byTime[d.L2Block(n).Time()] = d.L2Block(n)
	}
	for _, l := range lines {
		b, ok := byTime[l.Timestamp]
		require.True(t, ok, "batch at %d is a devnet block", l.Timestamp)
		var seq []hexutil.Bytes
		for _, tx := range b.Transactions() {
			if tx.Type() != types.DepositTxType {
				enc, err := tx.MarshalBinary()
				require.NoError(t, err)
				seq = append(seq, enc)
			}
		}
		require.Equal(t, nonNil(seq), l.Transactions, "block %d", b.NumberU64())
	}
}

func TestBatchesDecodeBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hex")
	require.NoError(t, os.WriteFile(bad, []byte("zz"), 0o644))
	for _, args := range [][]string{
		{"batches", "decode", "--channel", bad, "--network", "op-mainnet"},
		{"batches", "decode", "--network", "op-mainnet"},
		{"batches", "decode", "--channel", "testdata/op-mainnet-span-batch.hex"},
	} {
		_, stderr, code := runCLI(t, args...)
		require.Equal(t, 2, code, stderr)
		require.NotContains(t, stderr, "panic")
	}
}
