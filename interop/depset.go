package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// MessageExpiryWindow is the default time, in seconds, after which an initiating message can no longer be
// executed (specs/interop/messaging.md "Message Expiry Invariant": 7 days).
const MessageExpiryWindow uint64 = 7 * 24 * 60 * 60

// DependencySet is the set of chains that may execute each other's messages. Its JSON form is op-supervisor's
// and op-program's static dependency set: {"dependencies": {"<chain ID>": {}, ...},
// "overrideMessageExpiryWindow": seconds}, also served to the program as local key 8.
type DependencySet struct {
	chains         []uint64 // sorted
	expiryOverride uint64
}

// NewDependencySet returns the dependency set of the given chains; expiryOverride 0 keeps the default
// expiry window.
func NewDependencySet(chains []uint64, expiryOverride uint64) (*DependencySet, error) {
	ids := slices.Clone(chains)
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil, fmt.Errorf("dependency set has no chains")
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return nil, fmt.Errorf("dependency set names chain %d twice", ids[i])
		}
	}
	return &DependencySet{chains: ids, expiryOverride: expiryOverride}, nil
}

// Chains lists the chain IDs, sorted.
func (d *DependencySet) Chains() []uint64 { return slices.Clone(d.chains) }

// HasChain says whether the chain is in the set.
func (d *DependencySet) HasChain(id uint64) bool {
	_, ok := slices.BinarySearch(d.chains, id)
	return ok
}

// ExpiryWindow is the message expiry window in seconds.
func (d *DependencySet) ExpiryWindow() uint64 {
	if d.expiryOverride != 0 {
		return d.expiryOverride
	}
	return MessageExpiryWindow
}

type depSetJSON struct {
	Dependencies                map[string]struct{} `json:"dependencies"`
	OverrideMessageExpiryWindow uint64              `json:"overrideMessageExpiryWindow,omitempty"`
}

// MarshalJSON writes the static dependency set form (keys in chain ID order: encoding/json sorts map keys
// as strings, so the set is written by hand to stay in numeric order).
func (d *DependencySet) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"dependencies":{`)
	for i, id := range d.chains {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":{}`, id)
	}
	b.WriteByte('}')
	if d.expiryOverride != 0 {
		fmt.Fprintf(&b, `,"overrideMessageExpiryWindow":%d`, d.expiryOverride)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the static dependency set form. Unknown fields are refused: a dependency set is
// trusted configuration and a misspelt field must not be dropped silently.
func (d *DependencySet) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v depSetJSON
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("dependency set: %w", err)
	}
	ids := make([]uint64, 0, len(v.Dependencies))
	for s := range v.Dependencies {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("dependency set: chain ID %q: %w", s, err)
		}
		ids = append(ids, id)
	}
	ds, err := NewDependencySet(ids, v.OverrideMessageExpiryWindow)
	if err != nil {
		return err
	}
	*d = *ds
	return nil
}

// ParseDependencySet decodes a dependency set from its JSON form.
func ParseDependencySet(data []byte) (*DependencySet, error) {
	var d DependencySet
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// CheckCovers returns an error unless every chain of a super root is in the dependency set.
func (d *DependencySet) CheckCovers(chains []uint64) error {
	for _, id := range chains {
		if !d.HasChain(id) {
			return fmt.Errorf("chain %d is not in the dependency set %v", id, d.chains)
		}
	}
	return nil
}
