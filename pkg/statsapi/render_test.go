package statsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// envelope is body as aws-lambda-go carries it in the response: a JSON
// string, written by encoding/json with HTML escaping off.
func envelope(t *testing.T, body []byte) []byte {
	t.Helper()
	var env bytes.Buffer
	enc := json.NewEncoder(&env)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(string(body)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(env.Bytes(), []byte("\n"))
}

// TestAnswerSizeIsExact renders random answers, with strings full of
// characters that JSON escapes, and checks that the answer reads back as
// what was rendered, that envelopeSize is the size the answer really takes
// in the response, and that boundSize bounds it.
func TestAnswerSizeIsExact(t *testing.T) {
	alphabet := []string{"a", "é", "\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "<", "&", "\u2028", "\u2029", "\xff", "\xe2\x80", "😀", " "}
	str := func(r *rand.Rand) string {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	valid := func(s string) string { return string([]rune(s)) } // U+FFFD for each invalid byte, as encoding/json reads it
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		res := &stats.Result{}
		for range 1 + r.IntN(3) {
			u := stats.UserResult{XUID: xbl.XUID(r.Uint64()), Gamertag: str(r)}
			for range r.IntN(3) {
				sr := stats.SCIDResult{SCID: str(r)}
				for range r.IntN(4) {
					sr.Stats = append(sr.Stats, stats.Stat{Name: str(r), Value: xbl.StatValue{Type: xbl.String, Value: str(r)}})
				}
				u.SCIDs = append(u.SCIDs, sr)
			}
			res.Users = append(res.Users, u)
		}
		for _, batch := range []bool{true, false} {
			body, err := render(res, batch)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := httpapi.EnvelopeSize(body), len(envelope(t, body)); got != want {
				t.Fatalf("case %d (batch %v): envelopeSize %d, the envelope is %d bytes", i, batch, got, want)
			}
			if b := boundSize(res); b < httpapi.EnvelopeSize(body) {
				t.Fatalf("case %d: bound %d below the size %d", i, b, httpapi.EnvelopeSize(body))
			}
			var back batchJSON
			if !batch {
				back.Users = make([]userJSON, 1)
				err = json.Unmarshal(body, &back.Users[0])
			} else {
				err = json.Unmarshal(body, &back)
			}
			if err != nil {
				t.Fatalf("case %d: %v: %s", i, err, body)
			}
			for j, u := range back.Users {
				want := res.Users[j]
				if u.XUID != want.XUID || u.Gamertag != valid(want.Gamertag) || len(u.SCIDs) != len(want.SCIDs) || u.SCIDs == nil {
					t.Fatalf("case %d: user %d reads back as %+v, want %+v", i, j, u, want)
				}
				for k, sr := range u.SCIDs {
					if sr.SCID != valid(want.SCIDs[k].SCID) || len(sr.Stats) != len(want.SCIDs[k].Stats) || sr.Stats == nil {
						t.Fatalf("case %d: scid %d of user %d reads back as %+v", i, k, j, sr)
					}
					for l, st := range sr.Stats {
						if w := want.SCIDs[k].Stats[l]; st.Name != valid(w.Name) || st.Type != w.Value.Type || st.Value != valid(w.Value.Value) {
							t.Fatalf("case %d: stat %+v reads back as %+v", i, w, st)
						}
					}
				}
			}
		}
	}
}

// TestAnswerIsXSAPIs pins the bytes of an answer: no HTML escaping, the
// xuid and every value a string, U+2028 and invalid UTF-8 escaped.
func TestAnswerIsXSAPIs(t *testing.T) {
	res := &stats.Result{Users: []stats.UserResult{
		{XUID: 18446744073709551615, Gamertag: "<&>", SCIDs: []stats.SCIDResult{{SCID: scidA, Stats: []stats.Stat{
			{Name: "KD", Value: xbl.StatValue{Type: xbl.Double, Value: "1.25"}},
			{Name: "Motto", Value: xbl.StatValue{Type: xbl.String, Value: "a\u2028\"\xff\n"}},
		}}}},
		{XUID: 1, SCIDs: []stats.SCIDResult{{SCID: scidB, Stats: []stats.Stat{}}}},
	}}
	want := `{"users":[{"xuid":"18446744073709551615","gamertag":"<&>","scids":[{"scid":"` + scidA + `","stats":[` +
		`{"statname":"KD","type":"Double","value":"1.25"},{"statname":"Motto","type":"String","value":"a\u2028\"\ufffd\n"}]}]},` +
		`{"xuid":"1","scids":[{"scid":"` + scidB + `","stats":[]}]}]}`
	if body, err := render(res, true); err != nil || string(body) != want {
		t.Errorf("render = %s, %v\nwant %s", body, err, want)
	}
	if body, err := render(&stats.Result{Users: res.Users[1:]}, false); err != nil || string(body) != `{"xuid":"1","scids":[{"scid":"`+scidB+`","stats":[]}]}` {
		t.Errorf("render of one user = %s, %v", body, err)
	}
}

// TestOversizeAnswerIsRefused: 100 users × 10 SCIDs × 50 long stats with
// values is refused with a 400 that says what to reduce, not a 6 MB body.
func TestOversizeAnswerIsRefused(t *testing.T) {
	st := loaded(t)
	long := strings.Repeat("n", 200)
	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf(`"%s%02d"`, long, i))
	}
	var ds strings.Builder
	ds.WriteString(`{"serviceConfigs":[`)
	var scids []string
	for s := range 10 {
		scid := fmt.Sprintf("00000000-0000-0000-0000-%012d", s+100)
		scids = append(scids, `{"scid":"`+scid+`","requestedstats":[`+strings.Join(names, ",")+`]}`)
		if s > 0 {
			ds.WriteString(",")
		}
		ds.WriteString(`{"scid":"` + scid + `","titleIds":["` + titleA + `"],"sandboxes":["RETAIL"]}`)
	}
	ds.WriteString(`],"users":[`)
	var users []string
	for u := range 100 {
		if u > 0 {
			ds.WriteString(",")
		}
		x := fmt.Sprint(1000 + u)
		users = append(users, `"`+x+`"`)
		ds.WriteString(`{"xuid":"` + x + `","stats":{`)
		for s := range 10 {
			if s > 0 {
				ds.WriteString(",")
			}
			ds.WriteString(fmt.Sprintf(`"00000000-0000-0000-0000-%012d":{`, s+100))
			for i := range 50 {
				if i > 0 {
					ds.WriteString(",")
				}
				ds.WriteString(fmt.Sprintf(`"%s%02d":{"type":"Integer","value":%d}`, long, i, i))
			}
			ds.WriteString("}")
		}
		ds.WriteString("}}")
	}
	ds.WriteString("]}")
	st.Load(testkit.DatasetText(t, ds.String()))
	h := newHandler(t, st)
	w := call(t, h, "POST", "/batch", `{"requestedusers":[`+strings.Join(users, ",")+`],"requestedscids":[`+strings.Join(scids, ",")+`]}`)
	if w.Code != 400 || !strings.Contains(errorMessage(w), "ask for fewer users, SCIDs or stats") {
		t.Fatalf("%d %.300s", w.Code, w.Body)
	}
	// Half the users fit.
	w = call(t, h, "POST", "/batch", `{"requestedusers":[`+strings.Join(users[:40], ",")+`],"requestedscids":[`+strings.Join(scids, ",")+`]}`)
	if w.Code != 200 || w.Body.Len() > httpapi.MaxResponseBytes {
		t.Fatalf("40 users: %d, %d bytes", w.Code, w.Body.Len())
	}
}
