// Package stats holds the rules of user statistics: the batch read (what a
// request asks for, who may read which statistic, what the answer holds)
// and the title-managed statistics document a game writes and reads back
// (who may write it, and which write wins). A Service applies them over
// its ports, Reader and Writer; the package knows neither HTTP nor the
// storage behind the ports.
package stats

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/xbl"
)

// Limits of one request.
const (
	MaxUsers         = 100 // users in one request
	MaxSCIDs         = 10  // SCIDs in one request
	MaxStatsPerSCID  = 50  // stat names requested of one SCID
	MaxStatNameBytes = 256 // one stat name
)

// Request asks for the statistics of users across SCIDs.
type Request struct {
	Users []xbl.XUID // distinct, in request order
	SCIDs []SCIDRequest
}

// SCIDRequest is one requested SCID with its stat names.
type SCIDRequest struct {
	Raw   string   // as the caller wrote it; answered back the same way
	SCID  string   // canonical (lower-case)
	Stats []string // distinct, in request order
}

// Query is what a Reader reads for a request: every (user, SCID) pair's
// statistics, limited to Names (in their xbl.StatKey form).
type Query struct {
	Users []xbl.XUID // distinct
	SCIDs []string   // canonical, distinct
	Names []string   // the distinct stat names requested across all SCIDs
}

// UserSCID names one user's statistics for one SCID.
type UserSCID struct {
	XUID xbl.XUID
	SCID string
}

// Found is what a Reader found for a Query. A missing entry means no data.
type Found struct {
	// Gamertags holds the gamertag that the users' statistics items carry.
	Gamertags map[xbl.XUID]string
	// Stats holds the queried statistics that have a value, by StatKey.
	Stats map[UserSCID]map[string]xbl.StatValue
	// Names are those statistics' names as the game wrote them, by
	// StatKey (the key itself when the store does not know it).
	Names map[UserSCID]map[string]string
	Usage xbl.Usage
}

// Reader reads statistics.
//
// ReadStats reads the statistics item of each (user, SCID) pair of q and
// nothing else. It returns, for each pair, the statistics among q.Names
// that have a value, and for each user with an item the gamertag the item
// carries. Statistics outside q.Names are not returned. It fails with a
// derrors.Unavailable error when storage cannot answer, or with the
// context's error when ctx ends first.
type Reader interface {
	ReadStats(ctx context.Context, q Query) (*Found, error)
}

// Result is the answer to a Request.
type Result struct {
	Users []UserResult // one per requested user, in request order
	Query Query        // what was read
	Found int          // statistics items found
	Usage xbl.Usage
}

// UserResult is one user's statistics.
type UserResult struct {
	XUID     xbl.XUID
	Gamertag string // empty when the user has no profile
	SCIDs    []SCIDResult
}

// SCIDResult is one user's statistics for one requested SCID: the requested
// stats that have a value, in request order.
type SCIDResult struct {
	SCID  string // as the caller wrote it
	Stats []Stat
}

// Stat is one statistic's value.
type Stat struct {
	Name  string
	Value xbl.StatValue
}

// Service is the user statistics of one deployment: the batch read (Read)
// and the writes and read-back of a statistics document (Replace, Patch,
// Document), over the dependencies it holds. No rule of the package reads
// the time, so a Service has no clock.
type Service struct {
	Configs xbl.ConfigReader // SCID configurations, usually a cache
	Reader  Reader           // the batch read's; nil where the service only writes
	Writer  Writer           // documents; nil where the service only reads
}

// Read answers req for caller. SCIDs requested twice are merged
// (MergeSCIDs). Access is decided first, from the SCIDs' configurations,
// for every SCID in request order: the first refused SCID refuses the whole
// request, and no statistics are read. Then one read of s.Reader answers
// it. The Result is not nil when reads were made, even with an error, so
// that their cost is known.
func (s *Service) Read(ctx context.Context, caller *xbl.Caller, req *Request) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	req = &Request{Users: distinct(req.Users), SCIDs: MergeSCIDs(req.SCIDs)}
	q := QueryOf(req)
	res := &Result{Query: q}
	cfgs := make([]*xbl.ServiceConfig, len(q.SCIDs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for i, scid := range q.SCIDs {
		g.Go(func() error {
			cfg, u, err := s.Configs.ReadConfig(gctx, scid)
			mu.Lock()
			res.Usage.Add(u)
			mu.Unlock()
			cfgs[i] = cfg
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	for i, sr := range req.SCIDs {
		if err := CheckAccess(cfgs[i], sr, caller); err != nil {
			return res, err
		}
	}
	found, err := s.Reader.ReadStats(ctx, q)
	if err != nil {
		return res, err
	}
	res.Found = len(found.Stats)
	res.Usage.Add(found.Usage)
	res.Users = make([]UserResult, len(req.Users))
	for i, x := range req.Users {
		res.Users[i] = userResult(req, found, x)
	}
	return res, nil
}

// Validate checks req against the limits of one request. The HTTP edge
// checks them while parsing, with the JSON path of the offending field;
// this is the rule for every other caller.
func (req *Request) Validate() error {
	if len(req.Users) == 0 || len(req.Users) > MaxUsers {
		return derrors.New(derrors.Invalid, "%d users requested; from 1 to %d are allowed", len(req.Users), MaxUsers)
	}
	if len(req.SCIDs) == 0 || len(req.SCIDs) > MaxSCIDs {
		return derrors.New(derrors.Invalid, "%d scids requested; from 1 to %d are allowed", len(req.SCIDs), MaxSCIDs)
	}
	for _, sr := range req.SCIDs {
		if len(sr.Stats) == 0 || len(sr.Stats) > MaxStatsPerSCID {
			return derrors.New(derrors.Invalid, "%d stats requested of scid %s; from 1 to %d are allowed", len(sr.Stats), sr.Raw, MaxStatsPerSCID)
		}
		for _, n := range sr.Stats {
			if err := CheckStatName(n); err != nil {
				return derrors.Wrap(derrors.Invalid, err.Error(), err)
			}
		}
	}
	return nil
}

// MergeSCIDs answers a SCID requested more than once (compared in
// canonical, lower-case form) once: at its first entry's position and
// spelling, with the stat names of the later entries appended in order
// where not already asked.
func MergeSCIDs(list []SCIDRequest) []SCIDRequest {
	out := make([]SCIDRequest, 0, len(list))
	at := make(map[string]int, len(list))
	for _, sr := range list {
		i, ok := at[sr.SCID]
		if !ok {
			at[sr.SCID] = len(out)
			out = append(out, SCIDRequest{Raw: sr.Raw, SCID: sr.SCID, Stats: slices.Clone(sr.Stats)})
			continue
		}
		for _, n := range sr.Stats {
			if !slices.Contains(out[i].Stats, n) {
				out[i].Stats = append(out[i].Stats, n)
			}
		}
	}
	return out
}

// distinct returns users without repeats, in order.
func distinct(users []xbl.XUID) []xbl.XUID {
	seen := make(map[xbl.XUID]bool, len(users))
	out := users[:0:0]
	for _, x := range users {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// QueryOf returns what must be read to answer req, whose SCIDs are
// distinct (MergeSCIDs).
func QueryOf(req *Request) Query {
	q := Query{Users: req.Users, SCIDs: make([]string, len(req.SCIDs))}
	seenName := map[string]bool{}
	for i, sr := range req.SCIDs {
		q.SCIDs[i] = sr.SCID
		for _, n := range sr.Stats {
			if k := xbl.StatKey(n); !seenName[k] {
				seenName[k] = true
				q.Names = append(q.Names, k)
			}
		}
	}
	return q
}

// CheckAccess decides whether the caller may read the stats of one
// requested SCID, whose configuration is cfg (nil when it has none): the
// SCID must be configured and in the caller's sandbox (xbl.CheckSCID), and a
// restricted stat, or one the configuration does not name, needs a title
// that owns the SCID. Open stats are readable by any caller authorized to
// the sandbox.
func CheckAccess(cfg *xbl.ServiceConfig, sr SCIDRequest, c *xbl.Caller) error {
	if err := xbl.CheckSCID(cfg, sr.Raw, c); err != nil {
		return err
	}
	if cfg.Owns(c) {
		return nil
	}
	for _, name := range sr.Stats {
		if cfg.Stats[xbl.StatKey(name)] != xbl.Open {
			return derrors.New(derrors.Forbidden, "stat %q of scid %s is restricted to the titles that own the scid", jsonpath.Clip(name), sr.Raw)
		}
	}
	return nil
}

// userResult is one user's entry: every requested SCID in request order,
// and within it the requested stats that have a value, in request order.
func userResult(req *Request, found *Found, x xbl.XUID) UserResult {
	u := UserResult{XUID: x, Gamertag: found.Gamertags[x], SCIDs: make([]SCIDResult, len(req.SCIDs))}
	for i, sr := range req.SCIDs {
		values := found.Stats[UserSCID{XUID: x, SCID: sr.SCID}]
		stats := make([]Stat, 0, len(sr.Stats))
		for _, name := range sr.Stats {
			if v, ok := values[xbl.StatKey(name)]; ok {
				stats = append(stats, Stat{Name: name, Value: v})
			}
		}
		u.SCIDs[i] = SCIDResult{SCID: sr.Raw, Stats: stats}
	}
	return u
}

// CheckStatName checks one stat name: not empty, at most MaxStatNameBytes,
// no control characters (xbl.IsControl: C0, DEL and C1, as names and
// keywords) or invalid UTF-8.
func CheckStatName(name string) error {
	switch {
	case name == "":
		return errors.New("stat name is empty")
	case len(name) > MaxStatNameBytes:
		return errors.New("stat name is longer than " + strconv.Itoa(MaxStatNameBytes) + " bytes")
	case xbl.HasControlOrInvalid(name):
		return errors.New("stat name contains a control character or invalid UTF-8")
	}
	return nil
}
