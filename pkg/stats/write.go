package stats

import (
	"context"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Limits of one written document; with them a document stays under
// DynamoDB's 400 KB item size.
const (
	MaxWriteStats     = 256  // stats in one document or one patch
	MaxStringValueLen = 1024 // bytes of a String value
)

// Document is a user's title-managed statistics for one SCID, as a game
// writes and reads them: a revision the writer chose, a timestamp, and
// the stats by name (as written; names are case-insensitive).
type Document struct {
	Revision  int64
	Timestamp string
	Stats     map[string]xbl.StatValue
}

// Writer writes statistics documents.
//
// Replace stores doc as the whole document of t, unless the stored
// document's revision is newer than or equal to doc.Revision (a document
// written by Patch alone, or loaded, is at revision 0); it reports whether
// it stored it. Patch applies p to t's document (sets p.Set, removes the
// stats p.Remove names), atomically, whatever the revision. Both set the gamertag the
// reads answer when gamertag is not empty, and make one conditional write
// in the common case. Document returns the stored document, nil when there
// is none. Each fails with a derrors.Unavailable error when storage cannot
// answer.
type Writer interface {
	Replace(ctx context.Context, t Target, doc *Document, gamertag string) (bool, error)
	Patch(ctx context.Context, t Target, p *Patch, gamertag string) error
	Document(ctx context.Context, t Target) (*Document, error)
}

// Target names the document a write addresses.
type Target struct {
	XUID    xbl.XUID
	SCIDRaw string // as the caller wrote it
	SCID    string // canonical
}

// CheckWrite is who may write (and read back) a document: the user it
// belongs to, or a caller with server-level access; from a sandbox of the
// SCID's; with a title that owns the SCID. An SCID with no configuration
// is not found.
func CheckWrite(cfg *xbl.ServiceConfig, t Target, c *xbl.Caller) error {
	if err := xbl.CheckSCID(cfg, t.SCIDRaw, c); err != nil {
		return err
	}
	if !c.Server && c.XUID != t.XUID {
		return derrors.New(derrors.Forbidden, "xuid %s may not write or read the statistics document of xuid %s (only its own, or with server-level access)", c.XUID, t.XUID)
	}
	if !cfg.Owns(c) {
		return derrors.New(derrors.Forbidden, "title %s does not own scid %s", c.TitleID, t.SCIDRaw)
	}
	return nil
}

// Patch is a change to a document: the stats to set, and the names of
// those to remove.
type Patch struct {
	Set    map[string]xbl.StatValue
	Remove []string
}

// access reads the SCID's configuration and decides the write.
func (s *Service) access(ctx context.Context, c *xbl.Caller, t Target) error {
	cfg, _, err := s.Configs.ReadConfig(ctx, t.SCID)
	if err != nil {
		return err
	}
	return CheckWrite(cfg, t, c)
}

// gamertagOf is the gamertag a write stores with t's statistics: the
// caller's own, and only when a player writes its own. A server's token
// carries no player's gamertag but its own, if any, even when its xuid is
// the player's: a server's write leaves the gamertag as it was.
func gamertagOf(c *xbl.Caller, t Target) string {
	if c.Server || c.XUID != t.XUID {
		return ""
	}
	return c.Gamertag
}

// Replace writes doc as the whole document of t, when access allows, and
// reports whether it did: a doc not newer than the stored one changes
// nothing (last writer wins, and XSAPI expects no conflict status).
func (s *Service) Replace(ctx context.Context, c *xbl.Caller, t Target, doc *Document) (bool, error) {
	if err := s.access(ctx, c, t); err != nil {
		return false, err
	}
	return s.Writer.Replace(ctx, t, doc, gamertagOf(c, t))
}

// Patch sets and removes stats of t's document, when access allows.
func (s *Service) Patch(ctx context.Context, c *xbl.Caller, t Target, p *Patch) error {
	if err := s.access(ctx, c, t); err != nil {
		return err
	}
	return s.Writer.Patch(ctx, t, p, gamertagOf(c, t))
}

// Document returns t's stored document, when access allows; a user with
// none is not found.
func (s *Service) Document(ctx context.Context, c *xbl.Caller, t Target) (*Document, error) {
	if err := s.access(ctx, c, t); err != nil {
		return nil, err
	}
	doc, err := s.Writer.Document(ctx, t)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, derrors.New(derrors.NotFound, "xuid %s has no statistics in scid %s", t.XUID, t.SCIDRaw)
	}
	return doc, nil
}
