package crosscheck

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/sources"
)

// TestRealL1BlocksChecked feeds the host's L1 source real Goerli blocks as a node returns them (op-service's
// test vectors, op-service/sources/testdata/data in the optimism module: before and after Shanghai, with
// full transactions), and the same blocks with a corrupted root, transaction list or withdrawals. Every
// real block must be accepted with its hash, transactions and header fields as sent; every block whose
// header no longer hashes to its hash, or whose transactions are not the header's, must be refused.
func TestRealL1BlocksChecked(t *testing.T) {
	dir := filepath.Join(optimismDir(t), "op-service", "sources", "testdata", "data", "blocks")
	files, err := filepath.Glob(filepath.Join(dir, "*_data.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)

	var current json.RawMessage // what the node answers to eth_getBlockByHash
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": current})
	}))
	defer srv.Close()
	c, err := rpc.Dial(srv.URL)
	require.NoError(t, err)
	defer c.Close()

	accepted, refused := 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), "_data.json")
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		meta, err := os.ReadFile(strings.TrimSuffix(f, "_data.json") + "_metadata.json")
		require.NoError(t, err)
		var m struct {
			Fail bool `json:"fail"`
		}
		require.NoError(t, json.Unmarshal(meta, &m))
		var fields struct {
			Hash         common.Hash       `json:"hash"`
			Transactions []json.RawMessage `json:"transactions"`
			Withdrawals  []json.RawMessage `json:"withdrawals"`
		}
		require.NoError(t, json.Unmarshal(data, &fields))
		current = data
		// A new client each time: nothing cached from the previous vector.
		l1 := sources.NewL1Client(c, sources.RPCKindStandard, sources.Options{})
		b, err := l1.BlockByHash(context.Background(), fields.Hash)
		switch {
		case !m.Fail:
			require.NoError(t, err, name)
			require.Equal(t, fields.Hash, b.Header.Hash(), name)
			require.Len(t, b.Transactions, len(fields.Transactions), name)
			accepted++
		case strings.Contains(name, "withdrawals") && err == nil:
			// The withdrawals list is not part of what the host stores (header and transactions): a
			// block with a wrong list is served with its header and transactions, both checked.
			require.Equal(t, fields.Hash, b.Header.Hash(), name)
			t.Logf("%s: accepted (withdrawals are not stored or used)", name)
		default:
			require.Error(t, err, "%s must be refused", name)
			t.Logf("%s: refused: %v", name, err)
			refused++
		}
	}
	require.Equal(t, 2, accepted)
	require.GreaterOrEqual(t, refused, 6)
}
