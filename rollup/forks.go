package rollup

import "fmt"

// Fork is an OP Stack network upgrade activated by L2 block timestamp.
type Fork string

// The forks in activation order. Bedrock is the base protocol and always active.
const (
	Regolith Fork = "regolith"
	Canyon   Fork = "canyon"
	Delta    Fork = "delta"
	Ecotone  Fork = "ecotone"
	Fjord    Fork = "fjord"
	Granite  Fork = "granite"
	Holocene Fork = "holocene"
	Isthmus  Fork = "isthmus"
	Jovian   Fork = "jovian"
	Karst    Fork = "karst"
	// Lagoon is an experimental feature set (interop), activated like a fork; not ordered with the others.
	Lagoon Fork = "lagoon"
)

// Forks lists the ordered forks, oldest first.
var Forks = []Fork{Regolith, Canyon, Delta, Ecotone, Fjord, Granite, Holocene, Isthmus, Jovian, Karst}

// ActivationTime is the fork's activation timestamp, or nil if it is not scheduled.
func (c *Config) ActivationTime(f Fork) *uint64 {
	switch f {
	case Regolith:
		return c.RegolithTime
	case Canyon:
		return c.CanyonTime
	case Delta:
		return c.DeltaTime
	case Ecotone:
		return c.EcotoneTime
	case Fjord:
		return c.FjordTime
	case Granite:
		return c.GraniteTime
	case Holocene:
		return c.HoloceneTime
	case Isthmus:
		return c.IsthmusTime
	case Jovian:
		return c.JovianTime
	case Karst:
		return c.KarstTime
	case Lagoon:
		return c.LagoonTime
	}
	return nil
}

// IsActive reports whether fork f is active at L2 timestamp t.
func (c *Config) IsActive(f Fork, t uint64) bool {
	at := c.ActivationTime(f)
	return at != nil && t >= *at
}

// IsActivationBlock reports whether the L2 block at timestamp t is the first one under fork f. A fork
// active at genesis has no activation block: its upgrade transactions are never needed.
func (c *Config) IsActivationBlock(f Fork, t uint64) bool {
	return c.IsActive(f, t) && t >= c.BlockTime && !c.IsActive(f, t-c.BlockTime)
}

func (c *Config) IsRegolith(t uint64) bool { return c.IsActive(Regolith, t) }
func (c *Config) IsCanyon(t uint64) bool   { return c.IsActive(Canyon, t) }
func (c *Config) IsDelta(t uint64) bool    { return c.IsActive(Delta, t) }
func (c *Config) IsEcotone(t uint64) bool  { return c.IsActive(Ecotone, t) }
func (c *Config) IsFjord(t uint64) bool    { return c.IsActive(Fjord, t) }
func (c *Config) IsGranite(t uint64) bool  { return c.IsActive(Granite, t) }
func (c *Config) IsHolocene(t uint64) bool { return c.IsActive(Holocene, t) }
func (c *Config) IsIsthmus(t uint64) bool  { return c.IsActive(Isthmus, t) }
func (c *Config) IsJovian(t uint64) bool   { return c.IsActive(Jovian, t) }
func (c *Config) IsKarst(t uint64) bool    { return c.IsActive(Karst, t) }
func (c *Config) IsLagoon(t uint64) bool   { return c.IsActive(Lagoon, t) }

// ForkAt names the newest ordered fork active at t ("bedrock" if none).
func (c *Config) ForkAt(t uint64) string {
	name := "bedrock"
	for _, f := range Forks {
		if c.IsActive(f, t) {
			name = string(f)
		}
	}
	return name
}

// checkForkOrder requires each scheduled fork to come no earlier than the one before it, and no fork to be
// scheduled after one that is not.
func (c *Config) checkForkOrder() error {
	for i := 1; i < len(Forks); i++ {
		prev, next := c.ActivationTime(Forks[i-1]), c.ActivationTime(Forks[i])
		if next == nil {
			continue
		}
		if prev == nil {
			return fmt.Errorf("fork %s is scheduled (at %d) but the earlier fork %s is not", Forks[i], *next, Forks[i-1])
		}
		if *prev > *next {
			return fmt.Errorf("fork %s at %d is before the earlier fork %s at %d", Forks[i], *next, Forks[i-1], *prev)
		}
	}
	return nil
}
