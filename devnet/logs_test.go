package devnet_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/devnet"
)

// record is one log line: its message and attributes as text.
type record struct {
	msg   string
	attrs map[string]string
}

// recorder is an slog handler that keeps every record, debug ones included.
type recorder struct {
	mu      *sync.Mutex
	records *[]record
	attrs   map[string]string
}

func newRecorder() *recorder {
	return &recorder{mu: new(sync.Mutex), records: new([]record), attrs: map[string]string{}}
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := maps.Clone(r.attrs)
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve().String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.records = append(*r.records, record{msg: rec.Message, attrs: attrs})
	return nil
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	out := *r
	out.attrs = maps.Clone(r.attrs)
	for _, a := range as {
		out.attrs[a.Key] = a.Value.Resolve().String()
	}
	return &out
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), *r.records...)
}

// programLogs runs the program on a claim about block claimBlock from agreed and returns its logs.
func programLogs(t *testing.T, d *devnet.Devnet, agreed uint64, claim common.Hash, claimBlock uint64) ([]record, error) {
	t.Helper()
	local, err := d.LocalPreimages(agreed, claim, claimBlock)
	require.NoError(t, err)
	values := d.Preimages()
	maps.Copy(values, local)
	o := &mapOracle{values: values}
	rec := newRecorder()
	err = client.Run(log.NewLogger(rec), o, o)
	return rec.all(), err
}

// verdict is a batch verdict derivation logged.
type verdict struct{ kind, validity, rule string }

func (v verdict) String() string { return fmt.Sprintf("%s %s (%s)", v.kind, v.validity, v.rule) }

// verdictsAt are the batch verdicts logged for batches starting at L2 timestamp ts, in order.
func verdictsAt(records []record, ts uint64) []verdict {
	var out []verdict
	for _, r := range records {
		if r.msg == "Batch verdict" && r.attrs["timestamp"] == fmt.Sprint(ts) {
			out = append(out, verdict{r.attrs["kind"], r.attrs["validity"], r.attrs["rule"]})
		}
	}
	return out
}

// logged reports whether a record's message contains text.
func logged(records []record, text string) bool {
	for _, r := range records {
		if strings.Contains(r.msg, text) {
			return true
		}
	}
	return false
}
