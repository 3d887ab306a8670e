// Package render shows a played game to people: the claims as a tree, each move's player, position and
// meaning (an output root of an L2 block, or a VM state after a step), the steps with their pre-images and
// gas, the winner and where each bond went (Text); and a picture of the bisection over the output roots and
// the VM trace, depth by position, with the step marked (SVG).
package render

import (
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/faultproof/faultproof/game"
	"github.com/faultproof/faultproof/game/trace"
)

// Text writes a game's account.
func Text(w io.Writer, res *game.Result) error {
	p := &printer{w: w, res: res, names: names(res)}
	sc := res.Scenario
	p.f("== %s: %s\n", sc.Name, sc.Title)
	p.f("   L2 block %d proposed (anchor: block %d); split depth %d, max depth %d (2^%d VM steps per execution subgame)\n",
		sc.ClaimBlock, res.Config.AnchorBlock, res.Config.SplitDepth, res.Config.MaxGameDepth, res.Config.MaxGameDepth-res.Config.SplitDepth-1)
	var roles []string
	for _, pl := range res.Players {
		kind := "honest"
		for _, r := range append([]game.Role{sc.Proposer}, sc.Challengers...) {
			if r.Name == pl.Name && r.Strategy != nil {
				kind = "dishonest: " + r.Strategy.Name
			}
		}
		roles = append(roles, fmt.Sprintf("%s (%s)", pl.Name, kind))
	}
	p.f("   players: %s\n\n", strings.Join(roles, ", "))
	p.tree()
	p.f("\n")
	for _, s := range res.Steps {
		p.step(s)
	}
	p.outcome()
	return p.err
}

type printer struct {
	w     io.Writer
	res   *game.Result
	names map[common.Address]string
	err   error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func names(res *game.Result) map[common.Address]string {
	m := map[common.Address]string{}
	for _, pl := range res.Players {
		m[pl.Account] = pl.Name
	}
	return m
}

func (p *printer) name(a common.Address) string {
	if n, ok := p.names[a]; ok {
		return n
	}
	return a.Hex()
}

// tree prints the claims, children under their parent; a claim's only child stays at its indentation, so
// a bisection reads as a list and branches stand out.
func (p *printer) tree() {
	children := map[int][]*trace.Claim{}
	for _, c := range p.res.Claims {
		children[c.Parent] = append(children[c.Parent], c)
	}
	var walk func(c *trace.Claim, prefix string, glyph string)
	walk = func(c *trace.Claim, prefix, glyph string) {
		p.f("%s%s%s\n", prefix, glyph, p.describe(c))
		kids := children[c.Index]
		if len(kids) == 1 {
			cont := prefix
			if glyph == "├─ " {
				cont += "│  "
			} else if glyph == "└─ " {
				cont += "   "
			}
			walk(kids[0], cont, "")
			return
		}
		next := prefix
		if glyph == "├─ " {
			next += "│  "
		} else if glyph == "└─ " {
			next += "   "
		}
		for i, k := range kids {
			g := "├─ "
			if i == len(kids)-1 {
				g = "└─ "
			}
			walk(k, next, g)
		}
	}
	if len(p.res.Claims) > 0 {
		walk(p.res.Claims[0], "", "")
	}
}

// describe is one claim's line.
func (p *printer) describe(c *trace.Claim) string {
	cfg := p.res.Config
	move := "root"
	if c.Parent >= 0 {
		parent := p.res.Claims[c.Parent]
		move = "attack"
		if !c.Position.IsAttackOn(parent.Position) {
			move = "defend"
		}
		move = fmt.Sprintf("%s #%d", move, c.Parent)
	}
	what := p.meaning(c)
	to := c.Claimant
	fate := "stands"
	if c.CounteredBy != (common.Address{}) {
		to = c.CounteredBy
		fate = "countered by " + p.name(c.CounteredBy)
	}
	ext := ""
	for _, i := range p.res.Extended {
		if i == c.Index {
			ext = ", clock extended"
		}
	}
	return fmt.Sprintf("#%d d%d %s by %s: %s %s [%s; bond %s → %s%s]", c.Index, c.Depth(), move, p.name(c.Claimant), what,
		short(c.Value), fate, eth(c.Bond), p.name(to), ext) + depthNote(cfg.SplitDepth, c)
}

func depthNote(split uint64, c *trace.Claim) string {
	if c.Depth() == split {
		return "  ← split depth"
	}
	return ""
}

// meaning says what a claim commits to.
func (p *printer) meaning(c *trace.Claim) string {
	cfg := p.res.Config
	if c.Depth() <= cfg.SplitDepth {
		idx := c.Position.TraceIndex(cfg.SplitDepth)
		block := cfg.AnchorBlock + idx + 1
		if c.IsRoot() {
			return fmt.Sprintf("output of block %d (the proposal)", p.res.Scenario.ClaimBlock)
		}
		if block > p.res.Scenario.ClaimBlock {
			return fmt.Sprintf("output of block %d (past the claim: block %d's)", block, p.res.Scenario.ClaimBlock)
		}
		return fmt.Sprintf("output of block %d", block)
	}
	execDepth := cfg.MaxGameDepth - cfg.SplitDepth - 1
	rel, err := c.Position.RelativeTo(cfg.SplitDepth + 1)
	if err != nil {
		return "?"
	}
	idx := rel.TraceIndex(execDepth)
	status := statusName(c.Value[0])
	if idx == 1<<execDepth-1 {
		return fmt.Sprintf("VM final state (%s)", status)
	}
	return fmt.Sprintf("VM state after step %s (%s)", commas(idx+1), status)
}

func statusName(b byte) string {
	switch b {
	case trace.StatusValid:
		return "valid"
	case trace.StatusInvalid:
		return "invalid"
	case trace.StatusPanic:
		return "panic"
	case trace.StatusUnfinished:
		return "running"
	}
	return fmt.Sprintf("status %d", b)
}

func (p *printer) step(s game.StepRecord) {
	kind := "defends"
	if s.Attack {
		kind = "attacks"
	}
	p.f("step: %s %s #%d with VM step %s of block %d's run", s.Player, kind, s.Leaf, commas(s.VMStep), s.ClaimBlock)
	if s.ExitStep > 0 {
		if s.VMStep >= s.ExitStep {
			p.f(" (in the trace extension: the program exited at step %s)", commas(s.ExitStep))
		} else {
			p.f(" (exits at %s)", commas(s.ExitStep))
		}
	}
	p.f("\n")
	if u := s.Upload; u != nil {
		p.f("      pre-image %s (%s bytes) via %s: %d transactions, %s gas\n", short(u.Key), commas(uint64(u.Size)), u.Route, len(u.Calls), commas(u.GasUsed()))
	}
	check := "= our VM's ✓"
	if s.MIPSPost != s.VMPost {
		check = fmt.Sprintf("≠ our VM's %s ✗", short(s.VMPost))
	}
	p.f("      MIPS64 post-state %s %s; step gas %s", short(s.MIPSPost), check, commas(s.Gas))
	if s.Err != "" {
		p.f("; refused: %s", s.Err)
	}
	p.f("\n")
}

func (p *printer) outcome() {
	res := p.res
	mark := "✓"
	if !res.OK() {
		mark = "✗ UNEXPECTED"
	}
	p.f("result: %s (expected %s) %s; bonds paid in %s mode\n", res.Status, res.Expected, mark, res.Mode)
	won := map[string]*big.Int{}
	var claims = map[string][]int{}
	for _, b := range res.Bonds {
		if won[b.To] == nil {
			won[b.To] = new(big.Int)
		}
		won[b.To].Add(won[b.To], b.Amount)
		claims[b.To] = append(claims[b.To], b.Claim)
	}
	for _, pl := range res.Players {
		p.f("  %-22s bonded %s, won %s (claims %s), withdrew %s; %d transactions, %s gas\n", pl.Name+":", eth(pl.Bonded), eth(won[pl.Name]),
			orNone(claims[pl.Name]), eth(pl.Paid), pl.Txs, commas(pl.Gas))
	}
	var subs []string
	for _, s := range res.Subgames {
		subs = append(subs, fmt.Sprintf("block %d from %d: exits at step %s (%s)", s.ClaimBlock, s.AgreedBlock, commas(s.ExitStep), statusName(s.Status)))
	}
	if len(subs) > 0 {
		p.f("  execution subgames: %s\n", strings.Join(subs, "; "))
	}
	days := float64(res.Resolved-res.Started) / 86400
	p.f("  %d claims, %d transactions; %.1f simulated days to resolution; %s VM steps run; wall time %s\n\n",
		len(res.Claims), len(res.Moves), days, commas(res.VMSteps), res.Wall.Round(time.Millisecond))
}

// orNone lists claim indexes, runs as ranges: #0-#5 #9.
func orNone(idx []int) string {
	if len(idx) == 0 {
		return "none"
	}
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("#%d-#%d", idx[i], idx[j]))
		} else {
			parts = append(parts, fmt.Sprintf("#%d", idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}

// short abbreviates a hash.
func short(h common.Hash) string {
	s := h.Hex()
	return s[:8] + "…" + s[len(s)-4:]
}

// eth formats wei as ETH.
func eth(wei *big.Int) string {
	if wei == nil {
		wei = new(big.Int)
	}
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(wei), big.NewFloat(1e18)).Float64()
	return fmt.Sprintf("%.4g ETH", f)
}

// commas formats n with thousands separators.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
