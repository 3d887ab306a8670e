package render

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/trace"
)

// SVG geometry.
const (
	svgWidth   = 1000.0
	svgMargin  = 70.0
	svgRow     = 16.0
	svgPanelGa = 60.0
)

// playerColors: honest players in greens and blues, dishonest in reds and oranges.
var (
	honestColors    = []string{"#1b7f3b", "#1f5fa8", "#2a9d8f"}
	dishonestColors = []string{"#c0392b", "#d35400", "#8e44ad"}
)

// SVG writes pictures of the games' bisections, one after the other: for each game a panel of the output
// root bisection (depth by L2 block), and a panel of the VM trace bisection of the execution subgame the
// step was in (depth by VM step, the program's exit and the trace extension marked), each claim a dot in
// its player's color, the step a star at the bottom.
func SVG(w io.Writer, results []*game.Result) error {
	var body strings.Builder
	y := 20.0
	for _, res := range results {
		y = svgGame(&body, res, y) + svgPanelGa
	}
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">
<rect width="100%%" height="100%%" fill="white"/>
%s</svg>
`, svgWidth, y, body.String())
	return err
}

func svgGame(b *strings.Builder, res *game.Result, y0 float64) float64 {
	cfg := res.Config
	colors := map[common.Address]string{}
	hi, di := 0, 0
	var legend []string
	for _, pl := range res.Players {
		var c string
		if pl.Honest {
			c = honestColors[hi%len(honestColors)]
			hi++
		} else {
			c = dishonestColors[di%len(dishonestColors)]
			di++
		}
		colors[pl.Account] = c
		legend = append(legend, fmt.Sprintf(`<tspan fill="%s">● %s</tspan>`, c, html.EscapeString(pl.Name)))
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="14" font-weight="bold">%s: %s</text>`+"\n", svgMargin, y0+4,
		html.EscapeString(res.Scenario.Name), res.Status)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="#444">%s</text>`+"\n", svgMargin, y0+20, html.EscapeString(res.Scenario.Title))
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f">%s  (a ringed dot was countered)</text>`+"\n", svgMargin, y0+36, strings.Join(legend, "  "))
	y := y0 + 62

	// Output bisection: depth 0..split, x by the L2 block each position commits to (its trace index).
	left, right := svgMargin, svgWidth-svgMargin
	split := cfg.SplitDepth
	xOut := func(pos trace.Position) float64 {
		return left + (float64(pos.TraceIndex(split))+0.5)/math.Exp2(float64(split))*(right-left)
	}
	top := y
	bottom := y + float64(split)*svgRow
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="#555">output roots (depth 0–%d) by L2 block</text>`+"\n", left, top-6, split)
	// The claimed block and the positions past it.
	n := uint64(1) << split
	claimed := res.Scenario.ClaimBlock - cfg.AnchorBlock // trace index of the claim + 1
	if claimed < n {
		xc := left + float64(claimed)/float64(n)*(right-left)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f3f3f3"/>`+"\n", xc, top-4, right-xc, bottom-top+8)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#888" text-anchor="end">past the claimed block (%d) →</text>`+"\n", right, top-6, res.Scenario.ClaimBlock)
	}
	for _, k := range ticks(n) {
		x := left + (float64(k)+0.5)/float64(n)*(right-left)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#888" text-anchor="middle">%d</text>`+"\n", x, bottom+14, cfg.AnchorBlock+k+1)
	}
	rowY := func(d uint64, base float64, first uint64) float64 { return base + float64(d-first)*svgRow }
	for _, c := range res.Claims {
		if c.Depth() > split {
			continue
		}
		cy := rowY(c.Depth(), top, 0)
		if c.Parent >= 0 {
			pc := res.Claims[c.Parent]
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb"/>`+"\n", xOut(pc.Position), rowY(pc.Depth(), top, 0), xOut(c.Position), cy)
		}
		dot(b, xOut(c.Position), cy, colors[c.Claimant], c)
	}
	y = bottom + 40

	// Execution bisection of the subgame with a step (else the first with claims).
	var sub []*trace.Claim
	var stepRec *game.StepRecord
	for i := range res.Steps {
		if res.Steps[i].Err == "" {
			stepRec = &res.Steps[i]
		}
	}
	if stepRec == nil && len(res.Steps) > 0 {
		stepRec = &res.Steps[len(res.Steps)-1]
	}
	leafOf := map[int]int{} // claim -> its split-depth ancestor
	for _, c := range res.Claims {
		if c.Depth() <= split {
			continue
		}
		a := c
		for a.Depth() > split {
			a = res.Claims[a.Parent]
		}
		leafOf[c.Index] = a.Index
	}
	target := -1
	if stepRec != nil {
		target = leafOf[stepRec.Leaf]
	}
	for _, c := range res.Claims {
		if c.Depth() > split && (target < 0 || leafOf[c.Index] == target) {
			if target < 0 {
				target = leafOf[c.Index]
			}
			sub = append(sub, c)
		}
	}
	if len(sub) == 0 {
		return y
	}
	execDepth := cfg.MaxGameDepth - split - 1
	length := math.Exp2(float64(execDepth))
	traceIdx := func(c *trace.Claim) float64 {
		rel, _ := c.Position.RelativeTo(split + 1)
		return float64(rel.TraceIndex(execDepth)) + 1 // the state after this many steps
	}
	xExec := func(steps float64) float64 { return left + steps/length*(right-left) }
	top = y
	bottom = y + float64(execDepth)*svgRow
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="#555">VM trace of block %d's run (depth %d–%d) by step, 0 to 2^%d</text>`+"\n", left, top-6,
		blockOf(res, stepRec), split+1, cfg.MaxGameDepth, execDepth)
	if stepRec != nil && stepRec.ExitStep > 0 {
		xe := xExec(float64(stepRec.ExitStep))
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f3f3f3"/>`+"\n", xe, top-4, right-xe, bottom-top+8)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="3,3"/>`+"\n", xe, top-4, xe, bottom+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#888">program exits at step %s; trace extension →</text>`+"\n", xe+4, bottom+14, commas(stepRec.ExitStep))
	}
	for _, c := range sub {
		cy := rowY(c.Depth(), top, split+1)
		if c.Parent >= 0 && res.Claims[c.Parent].Depth() > split {
			pc := res.Claims[c.Parent]
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb"/>`+"\n", xExec(traceIdx(pc)), rowY(pc.Depth(), top, split+1), xExec(traceIdx(c)), cy)
		}
		dot(b, xExec(traceIdx(c)), cy, colors[c.Claimant], c)
	}
	y = bottom + 24
	// The last levels, where the bisection closes in on the step, at their own scale.
	zoomFrom := cfg.MaxGameDepth - min(uint64(16), execDepth) + 1
	zlo, zhi := math.Inf(1), math.Inf(-1)
	for _, c := range sub {
		if c.Depth() >= zoomFrom {
			zlo, zhi = math.Min(zlo, traceIdx(c)), math.Max(zhi, traceIdx(c))
		}
	}
	if stepRec != nil {
		zlo, zhi = math.Min(zlo, float64(stepRec.VMStep)), math.Max(zhi, float64(stepRec.VMStep))
	}
	if math.IsInf(zlo, 0) {
		return y
	}
	pad := math.Max((zhi-zlo)*0.05, 1)
	zlo, zhi = zlo-pad, zhi+pad
	xZoom := func(steps float64) float64 { return left + (steps-zlo)/(zhi-zlo)*(right-left) }
	top = y + 16
	bottom = top + float64(cfg.MaxGameDepth-zoomFrom)*svgRow
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="#555">zoom: depth %d–%d, steps %s to %s</text>`+"\n", left, top-8, zoomFrom, cfg.MaxGameDepth, commas(uint64(zlo)), commas(uint64(zhi)))
	for _, c := range sub {
		if c.Depth() < zoomFrom {
			continue
		}
		cy := rowY(c.Depth(), top, zoomFrom)
		if pc := res.Claims[c.Parent]; pc.Depth() >= zoomFrom {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb"/>`+"\n", xZoom(traceIdx(pc)), rowY(pc.Depth(), top, zoomFrom), xZoom(traceIdx(c)), cy)
		}
		dot(b, xZoom(traceIdx(c)), cy, colors[c.Claimant], c)
	}
	if stepRec != nil {
		xs := xZoom(float64(stepRec.VMStep))
		ys := bottom + 26
		fill := "#f1c40f"
		if stepRec.Err != "" {
			fill = "#999"
		}
		fmt.Fprintf(b, `<polygon points="%s" fill="%s" stroke="#333"><title>step %d by %s</title></polygon>`+"\n", star(xs, ys, 8), fill, stepRec.VMStep, html.EscapeString(stepRec.Player))
		label := fmt.Sprintf("step %s by %s", commas(stepRec.VMStep), stepRec.Player)
		if stepRec.Upload != nil {
			label += ", reading a pre-image via " + stepRec.Upload.Route
		} else if stepRec.ExitStep > 0 && stepRec.VMStep >= stepRec.ExitStep {
			label += ", in the trace extension"
		}
		if stepRec.Err != "" {
			label += " (refused: " + stepRec.Err + ")"
		}
		anchor := "start"
		if xs > (left+right)/2 {
			anchor = "end"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`+"\n", xs, ys+20, anchor, html.EscapeString(label))
		return ys + 26
	}
	return bottom + 20
}

func blockOf(res *game.Result, s *game.StepRecord) uint64 {
	if s != nil {
		return s.ClaimBlock
	}
	if len(res.Subgames) > 0 {
		return res.Subgames[0].ClaimBlock
	}
	return res.Scenario.ClaimBlock
}

func dot(b *strings.Builder, x, y float64, color string, c *trace.Claim) {
	stroke := "none"
	if c.CounteredBy != (common.Address{}) {
		stroke = "#000"
	}
	fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s" stroke="%s"><title>#%d depth %d %s</title></circle>`+"\n",
		x, y, color, stroke, c.Index, c.Depth(), c.Value.Hex())
}

// ticks picks at most 16 evenly spaced indexes of n.
func ticks(n uint64) []uint64 {
	step := max(n/16, 1)
	var out []uint64
	for k := uint64(0); k < n; k += step {
		out = append(out, k)
	}
	return out
}

func star(x, y, r float64) string {
	var pts []string
	for i := range 10 {
		rr := r
		if i%2 == 1 {
			rr = r / 2.5
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+rr*math.Cos(a), y-rr*math.Sin(a)))
	}
	return strings.Join(pts, " ")
}
