package xbl

import (
	"context"
	"slices"

	"github.com/xblread/xblread/pkg/derrors"
)

// ConfigReader reads SCID configurations.
type ConfigReader interface {
	// ReadConfig returns the configuration of a SCID (canonical form), nil
	// when it has none, and what the read cost. It fails with a
	// derrors.Unavailable error when storage cannot answer, or with the
	// context's error when ctx ends first.
	ReadConfig(ctx context.Context, scid string) (*ServiceConfig, Usage, error)
}

// CheckSCID is the access rule every API applies to a SCID first: an SCID
// with no configuration (cfg nil) is not found, and a caller whose sandbox is
// not one of the SCID's is forbidden. raw is the SCID as the caller wrote it,
// for the message.
func CheckSCID(cfg *ServiceConfig, raw string, c *Caller) error {
	if cfg == nil {
		return derrors.New(derrors.NotFound, "scid %s has no service configuration", raw)
	}
	if !slices.Contains(cfg.Sandboxes, c.Sandbox) {
		return derrors.New(derrors.Forbidden, "sandbox %q is not authorized for scid %s", c.Sandbox, raw)
	}
	return nil
}

// Owns reports whether the caller's title is one of the titles that own the
// SCID.
func (cfg *ServiceConfig) Owns(c *Caller) bool { return slices.Contains(cfg.TitleIDs, c.TitleID) }
