package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
)

// tableRow is the row of the table whose figure starts with name, split at the table's column gaps.
func tableRow(t *testing.T, table, name string) []string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), name) {
			var cols []string
			for _, c := range strings.Split(l, "  ") {
				if c = strings.TrimSpace(c); c != "" {
					cols = append(cols, c)
				}
			}
			return cols
		}
	}
	require.FailNow(t, "no row "+name+" in:\n"+table)
	return nil
}

// TestReportTableAndJSON: the table and the JSON carry every row, the ratio is the value over the anchor,
// rows without an anchor (or with an anchor in another unit) have none, and recorded and measured anchors
// are labelled so.
func TestReportTableAndJSON(t *testing.T) {
	r := &Report{Date: "2026-01-02T03:04:05Z", Commit: "abc+dirty", Version: "(devel)", GoVersion: "go1.x", GOOS: "linux", GOARCH: "amd64", CPUs: 2,
		Rows: []Row{
			{ID: "a.steps", Name: "steps of a", Value: 600_000_000, Unit: "steps", Better: "lower", Anchor: &Anchor{Value: 1_800_000_000, Unit: "steps", Kind: Recorded, Source: "op-program", Provenance: "long story"}},
			{ID: "b.rate", Name: "speed of b", Value: 150e6, Unit: "steps/s", Better: "higher", Anchor: &Anchor{Value: 20e6, Unit: "steps/s", Kind: Measured, Source: "cannon now"}},
			{ID: "c.rss", Name: "memory of c", Value: 12.5, Unit: "MiB", Better: "lower"},
			{ID: "d.units", Name: "mixed units", Value: 3, Unit: "s", Better: "lower", Anchor: &Anchor{Value: 3000, Unit: "ms", Kind: Recorded, Source: "elsewhere"}},
		},
		Skipped: []Skipped{{PartProgram, "not a checkout"}},
	}

	var table bytes.Buffer
	require.NoError(t, r.WriteTable(&table))
	out := table.String()
	require.Equal(t, []string{"steps of a", "600,000,000", "1,800,000,000", "0.33x", "recorded: op-program"}, tableRow(t, out, "steps of a"))
	require.Equal(t, []string{"speed of b", "150.0 M/s", "20.0 M/s", "7.50x", "measured: cannon now"}, tableRow(t, out, "speed of b"))
	require.Equal(t, []string{"memory of c", "12.5 MiB", "-", "-", "-"}, tableRow(t, out, "memory of c"))
	require.Equal(t, "-", tableRow(t, out, "mixed units")[3], "no ratio between different units")
	require.Contains(t, out, "skipped: program: not a checkout\n")
	require.Contains(t, out, "abc+dirty")

	var js bytes.Buffer
	require.NoError(t, r.WriteJSON(&js))
	var got struct {
		Schema                           int
		Date, Commit, Version, GoVersion string
		GOOS, GOARCH                     string
		CPUs                             int
		Rows                             []map[string]any
		Skipped                          []Skipped
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &got))
	require.Equal(t, jsonSchema, got.Schema)
	require.Equal(t, []string{"2026-01-02T03:04:05Z", "abc+dirty", "linux", "amd64"}, []string{got.Date, got.Commit, got.GOOS, got.GOARCH})
	require.Equal(t, 2, got.CPUs)
	require.Equal(t, r.Skipped, got.Skipped)
	require.Len(t, got.Rows, len(r.Rows))
	fields := []string{"id", "name", "value", "unit", "better", "anchor", "anchor_unit", "ratio", "anchor_kind", "anchor_source", "anchor_provenance"}
	for _, row := range got.Rows {
		for _, f := range fields {
			require.Contains(t, row, f, "every row has every field, null if it has no value")
		}
	}
	require.Equal(t, "a.steps", got.Rows[0]["id"])
	require.InDelta(t, 1.0/3, got.Rows[0]["ratio"], 1e-12)
	require.Equal(t, "recorded", got.Rows[0]["anchor_kind"])
	require.Equal(t, "long story", got.Rows[0]["anchor_provenance"])
	require.InDelta(t, 7.5, got.Rows[1]["ratio"], 1e-12)
	require.Equal(t, "measured", got.Rows[1]["anchor_kind"])
	require.Equal(t, "higher", got.Rows[1]["better"])
	require.Nil(t, got.Rows[2]["anchor"])
	require.Nil(t, got.Rows[2]["ratio"])
	require.Nil(t, got.Rows[3]["ratio"])
	require.Equal(t, 3000.0, got.Rows[3]["anchor"])
}

// TestRecordedAnchors: every recorded anchor says where it comes from, and rows built from measurements
// take them, or a measured anchor when the run measured one.
func TestRecordedAnchors(t *testing.T) {
	for _, a := range []Anchor{anchorOpProgramNativeClaim, anchorOpProgramSteps, anchorReadmeStepsHolocene, anchorReadmeStepsBlobs,
		anchorReadmeStepsBehind, anchorCannonStepsPerSecond, anchorReadmeNativeBlock, anchorReadmeNativeRSS, anchorReadmeOnlineRSS, anchorOneHeaderPerRequest} {
		require.Equal(t, Recorded, a.Kind)
		require.Positive(t, a.Value)
		require.NotEmpty(t, a.Unit)
		require.NotEmpty(t, a.Source)
		require.Greater(t, len(a.Provenance), len(a.Source), "the provenance says more than the table's source: %s", a.Source)
	}

	claims := []ProgramClaim{
		{Name: honestClaim, Blocks: 6, VMRun: demo.VMRun{Steps: 602_000_000, Elapsed: 4 * time.Second, PeakRSS: 300 << 20}},
		{Name: "wrong output root", Blocks: 6, VMRun: demo.VMRun{Steps: 601_000_000, Elapsed: 4 * time.Second, PeakRSS: 310 << 20}},
		{Name: "batches posted in blobs (block 32)", Blocks: 2, VMRun: demo.VMRun{Steps: 242_000_000, Elapsed: time.Second}},
	}
	rows := programRows(claims, nil)
	byID := map[string]Row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	honest := byID["program.steps.honest_output_root"]
	require.Equal(t, anchorOpProgramSteps, *honest.Anchor)
	ratio, ok := honest.Ratio()
	require.True(t, ok)
	require.InDelta(t, 602e6/1_805_854_331, ratio, 1e-12)
	require.Nil(t, byID["program.steps.wrong_output_root"].Anchor, "op-program's figure is for the honest claim only")
	blobs := byID["program.steps.batches_posted_in_blobs"]
	require.Equal(t, anchorReadmeStepsBlobs, *blobs.Anchor)
	ratio, _ = blobs.Ratio()
	require.InDelta(t, 1.0, ratio, 1e-12)

	speed := byID["program.vm.steps_per_second"]
	require.InDelta(t, 150.5e6, speed.Value, 1)
	require.Equal(t, Recorded, speed.Anchor.Kind)
	require.InDelta(t, 310, byID["program.peak_rss"].Value, 1e-9, "the largest of the claims")

	cannon := &demo.VMRun{Steps: 602_000_000, Elapsed: 30 * time.Second}
	speed = programRows(claims, cannon)[3]
	require.Equal(t, "program.vm.steps_per_second", speed.ID)
	require.Equal(t, Measured, speed.Anchor.Kind)
	ratio, _ = speed.Ratio()
	require.InDelta(t, 7.5, ratio, 1e-9)

	require.Equal(t, "across_holocene_activation", claimID("across Holocene's activation (block 45)"))
	require.Equal(t, "behind_the_agreed_block", claimID("behind the agreed block (trace extension)"))
}

// TestSummaryCheapParts runs the native and online parts for real, small (about 15 s; the program part is
// skipped: it builds the program and runs the VM, see TestBenchProgram in cmd/faultproof) and checks the
// figures are sane.
func TestSummaryCheapParts(t *testing.T) {
	var progress bytes.Buffer
	r, err := Summary(context.Background(), SummaryOptions{Src: t.TempDir(), Program: inprocess.Program, Blocks: 3, Rounds: 1,
		Skip: []string{PartProgram}}, &progress)
	require.NoError(t, err)
	require.Contains(t, progress.String(), "native: ")
	require.Equal(t, []Skipped{{PartProgram, "--skip program"}}, r.Skipped)
	byID := map[string]Row{}
	for _, row := range r.Rows {
		byID[row.ID] = row
	}
	claim := byID["native.claim.seconds"]
	require.Positive(t, claim.Value)
	require.Less(t, claim.Value, 60.0)
	require.Nil(t, claim.Anchor, "an in-process run is not compared with op-program's whole process")
	block := byID["native.block.ms"]
	require.Positive(t, block.Value)
	require.Equal(t, Recorded, block.Anchor.Kind)
	for _, id := range []string{"native.claim.peak_rss", "native.block.peak_rss", "online.peak_rss"} {
		require.Greater(t, byID[id].Value, 10.0, "%s: MiB", id)
		require.Less(t, byID[id].Value, 4096.0, "%s: MiB", id)
	}
	trips := byID["online.round_trips_per_block"]
	require.Equal(t, Measured, trips.Anchor.Kind)
	require.Positive(t, trips.Value)
	require.Less(t, trips.Value, trips.Anchor.Value, "fewer round trips with the witness fast path")
	l1 := byID["online.l1_round_trips_past_100"]
	require.Positive(t, l1.Value)
	require.Less(t, l1.Value, 100.0, "the walk back over 100 blocks is in batches")

	var table bytes.Buffer
	require.NoError(t, r.WriteTable(&table))
	require.Contains(t, table.String(), "skipped: program: --skip program")
}

// TestSummaryBadOptions: bad options fail before anything runs, and a source that is not a checkout skips
// the program part with the reason.
func TestSummaryBadOptions(t *testing.T) {
	for _, tc := range []struct {
		o       SummaryOptions
		errText string
	}{
		{SummaryOptions{Blocks: 0, Rounds: 1}, "must be at least 1"},
		{SummaryOptions{Blocks: 1, Rounds: 1, Skip: []string{"vm"}}, `invalid --skip "vm"`},
		{SummaryOptions{Blocks: 1, Rounds: 1, Cannon: "/nonexistent/cannon"}, "invalid --cannon"},
		{SummaryOptions{Blocks: 1, Rounds: 1, Cannon: "cannon", Skip: []string{PartProgram}}, "cannot skip program"},
		{SummaryOptions{Blocks: 1, Rounds: 1, OpProgram: "op-program", Exe: "faultproof", Skip: []string{PartNative}}, "cannot skip native"},
	} {
		_, err := Summary(context.Background(), tc.o, &bytes.Buffer{})
		require.ErrorContains(t, err, tc.errText)
	}

	var progress bytes.Buffer
	r, err := Summary(context.Background(), SummaryOptions{Src: t.TempDir(), Blocks: 1, Rounds: 1, Skip: []string{PartNative, PartOnline}}, &progress)
	require.NoError(t, err)
	require.Empty(t, r.Rows)
	require.Len(t, r.Skipped, 3)
	require.Equal(t, PartProgram, r.Skipped[1].Part)
	require.Contains(t, r.Skipped[1].Reason, "is not a checkout of github.com/faultproof/faultproof")
}
