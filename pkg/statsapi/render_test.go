package statsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// The reference encoding of the answer: the response shapes as structs,
// written by encoding/json. appendAnswer must write the same bytes.
type (
	batchJSON struct {
		Users []userJSON `json:"users"`
	}
	userJSON struct {
		XUID     string     `json:"xuid"`
		Gamertag string     `json:"gamertag,omitempty"`
		SCIDs    []scidJSON `json:"scids"`
	}
	scidJSON struct {
		SCID  string     `json:"scid"`
		Stats []statJSON `json:"stats"`
	}
	statJSON struct {
		Name  string `json:"statname"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
)

func userOf(u *stats.UserResult) userJSON {
	out := userJSON{XUID: u.XUID.String(), Gamertag: u.Gamertag, SCIDs: make([]scidJSON, len(u.SCIDs))}
	for i, sr := range u.SCIDs {
		list := make([]statJSON, len(sr.Stats))
		for j, st := range sr.Stats {
			list[j] = statJSON{Name: st.Name, Type: string(st.Value.Type), Value: st.Value.Value}
		}
		out.SCIDs[i] = scidJSON{SCID: sr.SCID, Stats: list}
	}
	return out
}

func encoded(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// encodedSize writes v as writeJSON does and as aws-lambda-go then carries
// it, and measures both.
func encodedSize(t *testing.T, v any) size {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var env bytes.Buffer
	enc = json.NewEncoder(&env)
	enc.SetEscapeHTML(false)
	enc.Encode(string(body))
	return size{body: len(body), envelope: env.Len() - 1}
}

// TestAnswerSizeIsExact compares the computed size of random answers, with
// strings full of characters that JSON escapes, with their real encoding.
func TestAnswerSizeIsExact(t *testing.T) {
	alphabet := []string{"a", "é", "\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "<", "&", "\u2028", "\u2029", "\xff", "\xe2\x80", "😀", " "}
	str := func(r *rand.Rand) string {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
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
				if sr.Stats == nil {
					sr.Stats = []stats.Stat{}
				}
				u.SCIDs = append(u.SCIDs, sr)
			}
			if u.SCIDs == nil {
				u.SCIDs = []stats.SCIDResult{}
			}
			res.Users = append(res.Users, u)
		}
		out := batchJSON{}
		for j := range res.Users {
			out.Users = append(out.Users, userOf(&res.Users[j]))
		}
		if got, want := answerSize(res, true), encodedSize(t, out); got != want {
			t.Fatalf("case %d: computed %+v, encoded %+v", i, got, want)
		}
		if got, want := answerSize(res, false), encodedSize(t, userOf(&res.Users[0])); got != want {
			t.Fatalf("case %d, single: computed %+v, encoded %+v", i, got, want)
		}
		if got, want := string(appendAnswer(nil, res, true)), encoded(t, out); got != want {
			t.Fatalf("case %d: appendAnswer\n%q\nencoding/json\n%q", i, got, want)
		}
		if got, want := string(appendAnswer(nil, res, false)), encoded(t, userOf(&res.Users[0])); got != want {
			t.Fatalf("case %d, single: appendAnswer\n%q\nencoding/json\n%q", i, got, want)
		}
		if b, _ := boundSize(res); b < answerSize(res, true).envelope {
			t.Fatalf("case %d: bound %d below the size %d", i, b, answerSize(res, true).envelope)
		}
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
	if w.Code != 200 || w.Body.Len() > MaxResponseBytes {
		t.Fatalf("40 users: %d, %d bytes", w.Code, w.Body.Len())
	}
}
