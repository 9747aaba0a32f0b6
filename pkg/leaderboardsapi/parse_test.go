package leaderboardsapi

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/leaderboards"
)

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestParseGlobal: the query strings XSAPI's own tests build, and what is
// refused with which kind and message.
func TestParseGlobal(t *testing.T) {
	for _, tt := range []struct {
		board, query string
		want         leaderboards.Request
	}{
		{"stat(Jumps)", "maxItems=100", leaderboards.Request{Stat: "Jumps", MaxItems: 100}},
		{"stat(Jumps)", "maxItems=100&continuationToken=6", leaderboards.Request{Stat: "Jumps", MaxItems: 100, Continuation: "6"}},
		{"stat(Jumps)", "maxItems=10&skipToRank=100", leaderboards.Request{Stat: "Jumps", MaxItems: 10, SkipToRank: 100}},
		{"stat(Jumps)", "maxItems=20&skipToUser=2533274896500838", leaderboards.Request{Stat: "Jumps", MaxItems: 20, SkipToUser: 2533274896500838}},
		{"stat(Jumps)", "xuid=2814613569642996&maxItems=20", leaderboards.Request{Stat: "Jumps", MaxItems: 20}},
		{"stat(Jumps)", "maxItems=5000", leaderboards.Request{Stat: "Jumps", MaxItems: leaderboards.MaxItems}},
		{"stat(Time%20Trial)", "", leaderboards.Request{Stat: "Time%20Trial"}},
		{"stat(a(b))", "", leaderboards.Request{Stat: "a(b)"}},
	} {
		got, err := parseGlobal(scid, tt.board, tt.query)
		tt.want.SCID = scid
		if err != nil || *got != tt.want {
			t.Errorf("%s?%s: %+v, %v; want %+v", tt.board, tt.query, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		scid, board, query string
		kind               derrors.Kind
		msg                string
	}{
		{scid, "Jumps", "", derrors.NotFound, "only stat(<name>) leaderboards"},
		{scid, "stat()", "", derrors.Invalid, "stat name is empty"},
		{scid, "stat(Jumps", "", derrors.NotFound, "only stat(<name>)"},
		{"nope", "stat(Jumps)", "", derrors.Invalid, "scid"},
		{scid, "stat(Jumps)", "maxItems=0", derrors.Invalid, "maxItems \"0\""},
		{scid, "stat(Jumps)", "maxItems=-1", derrors.Invalid, "maxItems"},
		{scid, "stat(Jumps)", "maxItems=ten", derrors.Invalid, "maxItems"},
		{scid, "stat(Jumps)", "maxItems=1&maxItems=2", derrors.Invalid, "given 2 times"},
		{scid, "stat(Jumps)", "skipToRank=0", derrors.Invalid, "skipToRank"},
		{scid, "stat(Jumps)", "skipToRank=4294967296", derrors.Invalid, "skipToRank"},
		{scid, "stat(Jumps)", "skipToUser=0", derrors.Invalid, "skipToUser"},
		{scid, "stat(Jumps)", "skipToUser=x", derrors.Invalid, "skipToUser"},
		{scid, "stat(Jumps)", "continuationToken=", derrors.Invalid, "continuationToken is empty"},
		{scid, "stat(Jumps)", "xuid=abc", derrors.Invalid, "xuid"},
		{scid, "stat(Jumps)", "include=everything", derrors.Invalid, "include"},
		{scid, "stat(Jumps)", "xuid=2814613569642996&maxItems=20&view=People&viewTarget=People", derrors.NotFound, "no people graph"},
		{scid, "stat(Jumps)", "view=people&viewTarget=Favorites", derrors.NotFound, "no people graph"},
		{scid, "stat(Jumps)", "view=Everyone", derrors.Invalid, "view"},
		{scid, "stat(Jumps)", "viewTarget=People", derrors.Invalid, "viewTarget needs view"},
		{scid, "stat(Jumps)", "sort=ascending", derrors.Invalid, `query key "sort"`},
		{scid, "stat(Jumps)", "maxItems=%zz", derrors.Invalid, "malformed"},
		{scid, "stat(Jumps)", strings.Repeat("a", 3000), derrors.Invalid, "longer than"},
	} {
		_, err := parseGlobal(tt.scid, tt.board, tt.query)
		var de *derrors.Error
		if !errors.As(err, &de) || de.Kind != tt.kind || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s %s?%s: %v; want %v with %q", tt.scid, tt.board, tt.query, err, tt.kind, tt.msg)
		}
	}
}

func TestParseSocial(t *testing.T) {
	for _, g := range []string{"all", "favorite", "Favorites", "FAVORITES"} {
		if x, err := parseSocial("xuid(2814613569642996)", scid, "Jumps", g); err != nil || x != 2814613569642996 {
			t.Errorf("%s: %d %v", g, x, err)
		}
	}
	for _, tt := range [][4]string{
		{"2814613569642996", scid, "Jumps", "all"},
		{"xuid(x)", scid, "Jumps", "all"},
		{"xuid(1)", "nope", "Jumps", "all"},
		{"xuid(1)", scid, "", "all"},
		{"xuid(1)", scid, "Jumps", "friends"},
	} {
		if _, err := parseSocial(tt[0], tt[1], tt[2], tt[3]); err == nil {
			t.Errorf("%v accepted", tt)
		}
	}
}

// FuzzParseGlobal: any path and query is read or refused with a kind of
// its own and a bounded message; nothing panics.
func FuzzParseGlobal(f *testing.F) {
	f.Add("stat(Jumps)", "maxItems=100&continuationToken=6")
	f.Add("stat(Jumps)", "xuid=2814613569642996&maxItems=20&view=People&viewTarget=People")
	f.Add("stat(\xff)", "skipToRank=99999999999")
	f.Fuzz(func(t *testing.T, board, query string) {
		req, err := parseGlobal(scid, board, query)
		if err != nil {
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind == derrors.Internal || len(err.Error()) > 600 {
				t.Fatalf("%q %q: %v", board, query, err)
			}
			return
		}
		if req.MaxItems < 0 || req.MaxItems > leaderboards.MaxItems || !utf8.ValidString(req.Stat) {
			t.Fatalf("%q %q: %+v", board, query, req)
		}
	})
}
