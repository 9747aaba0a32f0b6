package leaderboardsapi

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/xbl"
)

// The answer as XSAPI parses it (its leaderboard result, row and column
// parsers): pagingInfo always present (null on the last page), totalCount
// an unsigned 32-bit integer, xuids as strings, the four gamertag keys on
// every row, an integer rank, the percentile written as a double, the
// value as the read API prints it.
type (
	pageJSON struct {
		PagingInfo      *pagingJSON `json:"pagingInfo"`
		LeaderboardInfo infoJSON    `json:"leaderboardInfo"`
		UserList        []rowJSON   `json:"userList"`
	}
	pagingJSON struct {
		ContinuationToken string `json:"continuationToken"`
		TotalItems        uint32 `json:"totalItems"`
	}
	infoJSON struct {
		TotalCount uint32       `json:"totalCount"`
		Columns    []columnJSON `json:"columns"`
	}
	columnJSON struct {
		StatName string       `json:"statName"`
		Type     xbl.StatType `json:"type"`
	}
	rowJSON struct {
		Gamertag             string   `json:"gamertag"`
		ModernGamertag       string   `json:"moderngamertag"`
		ModernGamertagSuffix string   `json:"moderngamertagsuffix"`
		UniqueModernGamertag string   `json:"uniquemoderngamertag"`
		XUID                 xbl.XUID `json:"xuid,string"`
		Percentile           double   `json:"percentile"`
		Rank                 uint32   `json:"rank"`
		GlobalRank           uint32   `json:"globalrank"`
		Value                string   `json:"value"`
		// ValueMetadata is a string holding a JSON object of the player's
		// other statistics (include=valuemetadata): numbers for Integer
		// and Double, strings for String, as XSAPI types its columns.
		ValueMetadata *string `json:"valuemetadata,omitempty"`
	}
)

// double is a number XSAPI reads as a double (RapidJSON's IsDouble): it
// is always written with a fraction or an exponent, 1.0 and never 1.
type double float64

// MarshalJSON implements json.Marshaler.
func (d double) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(d), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

func render(p *leaderboards.Page) pageJSON {
	out := pageJSON{
		LeaderboardInfo: infoJSON{TotalCount: p.Total, Columns: []columnJSON{{StatName: p.Board.Stat, Type: p.Board.Type}}},
		UserList:        make([]rowJSON, len(p.Rows)),
	}
	if p.Next != "" {
		out.PagingInfo = &pagingJSON{ContinuationToken: p.Next, TotalItems: p.Total}
	}
	for i, r := range p.Rows {
		out.UserList[i] = rowJSON{
			Gamertag: clip(r.Gamertag, 47), ModernGamertag: clip(r.Gamertag, 96), UniqueModernGamertag: clip(r.Gamertag, 100),
			XUID: r.XUID, Percentile: double(r.Percentile), Rank: r.Rank, GlobalRank: r.Rank, Value: r.Value.Value,
		}
		if r.Metadata != nil {
			md := metadataJSON(r.Metadata)
			out.UserList[i].ValueMetadata = &md
		}
	}
	return out
}

// metadataJSON writes a row's statistics as the JSON object XSAPI reads
// from valuemetadata, names in order.
func metadataJSON(m map[string]xbl.StatValue) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		v := m[name]
		if v.Type == xbl.String {
			s, _ := json.Marshal(v.Value)
			b.Write(s)
		} else {
			b.WriteString(v.Value) // Integer and Double values are JSON numbers as stored
		}
	}
	b.WriteByte('}')
	return b.String()
}

// clip cuts s to at most n bytes, at a character's boundary: XSAPI copies
// each gamertag into a buffer of fixed size (48, 97 and 101 bytes with
// the terminator), and a longer one stops a game on Xbox.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
