package sessions

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// A session template (xbl.SessionTemplate) gives the sessions created
// under it their constants: Multiplayer Manager creates a lobby without
// sending any. A create that also sends constants gets both: the
// template's, and those it sends that the template leaves unset; one that
// sends a constant the template sets must send the same value (409
// otherwise), as a write to an existing session must.

// EncodeTemplate returns the stored form of a template's constants (what
// xbl.SessionTemplate.Constants holds).
func EncodeTemplate(c *ConstantsChange) ([]byte, error) { return marshalKept(c) }

// DecodeTemplate reads constants stored by EncodeTemplate.
func DecodeTemplate(b []byte) (*ConstantsChange, error) {
	var c ConstantsChange
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("session template: %w", err)
	}
	return &c, nil
}

// template returns the constants of ref's template in cfg: nil when the
// SCID names no templates; NotFound when it names others.
func template(cfg *xbl.ServiceConfig, ref Ref) (*ConstantsChange, error) {
	t, ok := cfg.SessionTemplate(ref.Template)
	switch {
	case !ok:
		return nil, derrors.New(derrors.NotFound, "scid %s has no session template named %q", ref.SCIDRaw, ref.Template)
	case t == nil:
		return nil, nil
	}
	c, err := DecodeTemplate(t.Constants)
	if err != nil {
		return nil, err // the stored configuration is broken: Internal
	}
	return c, nil
}

// withTemplate returns the constants a create under template t applies:
// t's, and those of c that t leaves unset (nil when both are nil). A
// constant of c that t sets to another value is a Conflict.
func withTemplate(t, c *ConstantsChange) (*ConstantsChange, error) {
	if t == nil {
		return c, nil
	}
	out := *t
	if c == nil {
		return &out, nil
	}
	const path = "$.constants.system"
	fixed := func(name string) error {
		return conflict("%s.%s: the session template sets it to another value", path, name)
	}
	switch {
	case c.Visibility != nil && t.Visibility != nil && *c.Visibility != *t.Visibility:
		return nil, fixed("visibility")
	case c.MaxMembers != nil && t.MaxMembers != nil && *c.MaxMembers != *t.MaxMembers:
		return nil, fixed("maxMembersCount")
	case c.Version != nil && t.Version != nil && *c.Version != *t.Version:
		return nil, fixed("version")
	case c.ReservedRemovalTimeout != nil && t.ReservedRemovalTimeout != nil && *c.ReservedRemovalTimeout != *t.ReservedRemovalTimeout:
		return nil, fixed("reservedRemovalTimeout")
	case c.Custom != nil && t.Custom != nil && !sameJSON(c.Custom, t.Custom):
		return nil, conflict("$.constants.custom: the session template sets it to another value")
	}
	if out.Visibility == nil {
		out.Visibility = c.Visibility
	}
	if out.MaxMembers == nil {
		out.MaxMembers = c.MaxMembers
	}
	if out.Version == nil {
		out.Version = c.Version
	}
	if out.ReservedRemovalTimeout == nil {
		out.ReservedRemovalTimeout = c.ReservedRemovalTimeout
	}
	if out.Custom == nil {
		out.Custom = c.Custom
	}
	out.System = maps.Clone(t.System)
	for k, v := range c.System {
		if tv, ok := out.System[k]; ok && !sameJSON(tv, v) {
			return nil, fixed(k)
		}
		if out.System == nil {
			out.System = map[string]json.RawMessage{}
		}
		if _, ok := out.System[k]; !ok {
			out.System[k] = v
		}
	}
	return &out, nil
}

// CheckTemplate reports whether template constants c break a rule a
// session's constants must meet at create (a reservation timeout out of
// range, say), with the error a create would get.
func CheckTemplate(c *ConstantsChange) error {
	d := &Doc{Visibility: xbl.OpenVis, MaxMembers: MaxMembersCount, ReservedRemovalTimeout: DefaultReservedRemovalTimeout}
	return applyConstants(d, c, true)
}
