package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// How an anchor was obtained.
const (
	Recorded = "recorded" // a constant of anchors.go, measured once
	Measured = "measured" // measured in this run
)

// Anchor is the figure a row of 'faultproof bench' is compared with, and where it comes from.
type Anchor struct {
	Value      float64
	Unit       string
	Kind       string // Recorded or Measured
	Source     string // short, for the table
	Provenance string // which version, which machine, which command
}

// Row is one figure of 'faultproof bench', with its anchor if it has one.
type Row struct {
	ID     string  // stable, for tracking: "native.claim.seconds"
	Name   string  // for people: what was measured, on what
	Value  float64 // in Unit
	Unit   string
	Better string  // "lower" or "higher"
	Anchor *Anchor // nil: no anchor
}

// Ratio is Value over the anchor's value, and whether there is one.
func (r Row) Ratio() (float64, bool) {
	if r.Anchor == nil || r.Anchor.Value == 0 || r.Anchor.Unit != r.Unit {
		return 0, false
	}
	return r.Value / r.Anchor.Value, true
}

// Skipped is a part of 'faultproof bench' that did not run, and why.
type Skipped struct {
	Part   string `json:"part"`
	Reason string `json:"reason"`
}

// Report is what 'faultproof bench' measured, and on what.
type Report struct {
	Date      string // RFC 3339, UTC
	Commit    string // the checkout's or the binary's VCS revision ("+dirty" if modified), or "unknown"
	Version   string // the main module's version as the binary records it
	GoVersion string
	GOOS      string
	GOARCH    string
	CPUs      int
	Rows      []Row
	Skipped   []Skipped
}

// WriteTable writes the report as one table: figure, this build's value, the anchor, their ratio and
// where the anchor comes from; then the parts skipped and why.
func (r *Report) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "faultproof %s (%s), %s, %s/%s, %d CPUs, %s\n\n", r.Commit, r.Version, r.GoVersion, r.GOOS, r.GOARCH, r.CPUs, r.Date)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(r.Rows) > 0 {
		fmt.Fprintln(w, "FIGURE\tFAULTPROOF\tANCHOR\tRATIO\tANCHOR FROM")
	}
	for _, row := range r.Rows {
		anchor, ratio, from := "-", "-", "-"
		if a := row.Anchor; a != nil {
			anchor, from = formatValue(a.Value, a.Unit), a.Kind+": "+a.Source
		}
		if v, ok := row.Ratio(); ok {
			ratio = fmt.Sprintf("%.2fx", v)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", row.Name, formatValue(row.Value, row.Unit), anchor, ratio, from)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(r.Rows) > 0 {
		fmt.Fprintln(out, "\nratio: faultproof / anchor (steps/s: higher is better; everything else: lower is better)")
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(out, "skipped: %s: %s\n", s.Part, s.Reason)
	}
	return nil
}

// formatValue writes v in unit as a person reads it.
func formatValue(v float64, unit string) string {
	switch unit {
	case "steps":
		return groupThousands(uint64(v + 0.5))
	case "steps/s":
		return fmt.Sprintf("%.1f M/s", v/1e6)
	case "s":
		return fmt.Sprintf("%.3f s", v)
	case "ms":
		return fmt.Sprintf("%.3f ms", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// The JSON form of a report: field names are stable, for tracking figures across commits. A row without
// an anchor has null anchor fields and ratio.
type (
	jsonReport struct {
		Schema    int       `json:"schema"`
		Date      string    `json:"date"`
		Commit    string    `json:"commit"`
		Version   string    `json:"version"`
		GoVersion string    `json:"go_version"`
		GOOS      string    `json:"goos"`
		GOARCH    string    `json:"goarch"`
		CPUs      int       `json:"cpus"`
		Rows      []jsonRow `json:"rows"`
		Skipped   []Skipped `json:"skipped"`
	}
	jsonRow struct {
		ID               string   `json:"id"`
		Name             string   `json:"name"`
		Value            float64  `json:"value"`
		Unit             string   `json:"unit"`
		Better           string   `json:"better"`
		Anchor           *float64 `json:"anchor"`
		AnchorUnit       *string  `json:"anchor_unit"`
		Ratio            *float64 `json:"ratio"`
		AnchorKind       *string  `json:"anchor_kind"` // "recorded" or "measured"
		AnchorSource     *string  `json:"anchor_source"`
		AnchorProvenance *string  `json:"anchor_provenance"`
	}
)

// jsonSchema is the version of the JSON form; it changes only if a field changes meaning or goes away.
const jsonSchema = 1

// WriteJSON writes the report in its JSON form.
func (r *Report) WriteJSON(out io.Writer) error {
	j := jsonReport{Schema: jsonSchema, Date: r.Date, Commit: r.Commit, Version: r.Version, GoVersion: r.GoVersion,
		GOOS: r.GOOS, GOARCH: r.GOARCH, CPUs: r.CPUs, Rows: []jsonRow{}, Skipped: r.Skipped}
	if j.Skipped == nil {
		j.Skipped = []Skipped{}
	}
	for _, row := range r.Rows {
		jr := jsonRow{ID: row.ID, Name: row.Name, Value: row.Value, Unit: row.Unit, Better: row.Better}
		if a := row.Anchor; a != nil {
			jr.Anchor, jr.AnchorUnit, jr.AnchorKind, jr.AnchorSource, jr.AnchorProvenance = &a.Value, &a.Unit, &a.Kind, &a.Source, &a.Provenance
		}
		if v, ok := row.Ratio(); ok {
			jr.Ratio = &v
		}
		j.Rows = append(j.Rows, jr)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
