package xbl

import (
	"slices"

	"github.com/xblread/xblread/pkg/derrors"
)

// Usage is what answering a request cost in storage reads.
type Usage struct {
	Calls       int     // requests sent to the store, retries included
	Retries     int     // retries of keys the store left unprocessed
	ConsumedRCU float64 // read capacity units consumed
}

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.Calls += o.Calls
	u.Retries += o.Retries
	u.ConsumedRCU += o.ConsumedRCU
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
