package suite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestWriteThroughTheLocalAPI: XSAPI's write, with and without the
// trailing slash, goes through the local API to the write function, and the
// next batch read through the same API answers it.
func TestWriteThroughTheLocalAPI(t *testing.T) {
	ddbtest.Require(t)
	table := fmt.Sprintf("write-%d", time.Now().UnixNano())
	loadDemo(t, ddbtest.Endpoint(t), table)
	base := stackOn(t, ddbtest.Endpoint(t), table)
	tok := token(t, xbl.Caller{XUID: me, UserHash: "u", TitleID: titleA, Sandbox: "RETAIL", Gamertag: "Writer"})
	call := func(method, path, body string) (int, string) {
		code, _, b := send(t, method, base+path, []byte(body), [][2]string{{"Authorization", tok}, {"Content-Type", "application/json; charset=utf-8"}})
		return code, b
	}
	path := fmt.Sprintf("/stats/users/%d/scids/%s", me, scidA)
	if code, body := call("POST", path+"/", `{"stats":{"title":{"Kills":{"value":47},"KD":{"value":2.5}}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`); code != 200 {
		t.Fatalf("POST: %d %s", code, body)
	}
	if code, body := call("PATCH", path, `{"stats":{"title":{"kills":{"value":48}}}}`); code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	code, body := call("POST", "/batch", fmt.Sprintf(`{"requestedusers":["%d"],"requestedscids":[{"scid":"%s","requestedstats":["Kills","KD"]}]}`, me, scidA))
	for _, want := range []string{`"gamertag":"Writer"`, `{"statname":"Kills","type":"Integer","value":"48"}`, `{"statname":"KD","type":"Double","value":"2.5"}`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("batch read: %d, lacks %s: %s", code, want, body)
		}
	}
}

// TestWriteEveryTypeAndExtreme writes one stat of each type and extreme
// value through the local API into DynamoDB Local, then reads them back
// through the batch read (type and value as the read API prints them:
// Doubles as ECMAScript prints numbers), the single-user GET and the
// document GET (the number exactly as sent); the batch's ETag changes with
// the write.
func TestWriteEveryTypeAndExtreme(t *testing.T) {
	ddbtest.Require(t)
	table := fmt.Sprintf("extremes-%d", time.Now().UnixNano())
	loadDemo(t, ddbtest.Endpoint(t), table)
	base := stackOn(t, ddbtest.Endpoint(t), table)
	tok := token(t, xbl.Caller{XUID: me, UserHash: "u", TitleID: titleA, Sandbox: "RETAIL"})
	long := strings.Repeat("é", 512) // 1,024 bytes: the longest string value
	cases := []struct {
		json, typ, read string
		exact           float64 // the number the document GET answers (strings: unused)
	}{
		{`0`, "Integer", "0", 0},
		{`-9223372036854775808`, "Integer", "-9223372036854775808", -9223372036854775808},
		{`9223372036854775807`, "Integer", "9223372036854775807", 9223372036854775807},
		{`9223372036854775808`, "Double", "9223372036854776000", 9223372036854775808},
		{`1.0`, "Double", "1", 1},
		{`2.50`, "Double", "2.5", 2.5},
		{`0.1`, "Double", "0.1", 0.1},
		{`-0.0`, "Double", "0", 0},
		{`1e-7`, "Double", "1e-7", 1e-7},
		{`0.000001`, "Double", "0.000001", 0.000001},
		{`123456789012345680000`, "Double", "123456789012345680000", 123456789012345680000},
		{`1e21`, "Double", "1e+21", 1e21},
		{`1.7976931348623157e308`, "Double", "1.7976931348623157e+308", 1.7976931348623157e308},
		{`-1.7976931348623157e308`, "Double", "-1.7976931348623157e+308", -1.7976931348623157e308},
		{`5e-324`, "Double", "5e-324", 5e-324},
		{`-1.5e-130`, "Double", "-1.5e-130", -1.5e-130},
		{`1e126`, "Double", "1e+126", 1e126},
		{`0.30000000000000004`, "Double", "0.30000000000000004", 0.30000000000000004},
		{`""`, "String", "", 0},
		{`"12"`, "String", "12", 0},
		{`"gg \u00e9 \ud83c\udfae"`, "String", "gg é 🎮", 0},
		{`"` + long + `"`, "String", long, 0},
	}
	var stats, names []string
	for i, c := range cases {
		stats = append(stats, fmt.Sprintf(`"V%d":{"value":%s}`, i, c.json))
		names = append(names, fmt.Sprintf(`"v%d"`, i)) // names are case-insensitive
	}
	call := func(method, path, body string, extra ...[2]string) (int, http.Header, string) {
		return send(t, method, base+path, []byte(body), append([][2]string{{"Authorization", tok}}, extra...))
	}
	batch := fmt.Sprintf(`{"requestedusers":["%d"],"requestedscids":[{"scid":"%s","requestedstats":[%s]}]}`, me, scidA, strings.Join(names, ","))
	_, before, _ := call("POST", "/batch", batch)
	path := fmt.Sprintf("/stats/users/%d/scids/%s", me, scidA)
	if code, _, body := call("POST", path, `{"stats":{"title":{`+strings.Join(stats, ",")+`}},"revision":1}`, [2]string{"x-xbl-contract-version", "4"}); code != 200 {
		t.Fatalf("POST: %d %s", code, body)
	}
	code, after, body := call("POST", "/batch", batch)
	if code != 200 {
		t.Fatalf("batch: %d %s", code, body)
	}
	if before.Get("ETag") == "" || before.Get("ETag") == after.Get("ETag") {
		t.Errorf("ETag %q before the write, %q after", before.Get("ETag"), after.Get("ETag"))
	}
	var got struct {
		Users []struct {
			SCIDs []struct {
				Stats []struct{ Statname, Type, Value string }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Users) != 1 || len(got.Users[0].SCIDs) != 1 {
		t.Fatalf("batch answer: %v %.300s", err, body)
	}
	read := got.Users[0].SCIDs[0].Stats
	// The single-user GET takes at most 10 names: ask in chunks.
	var single string
	for start := 0; start < len(names); start += 10 {
		chunk := strings.ReplaceAll(strings.Join(names[start:min(start+10, len(names))], ","), `"`, "")
		code, _, b := call("GET", fmt.Sprintf("/users/xuid(%d)/scids/%s/stats/%s", me, scidA, chunk), "")
		if code != 200 {
			t.Errorf("single GET: %d %.300s", code, b)
		}
		single += b
	}
	_, _, docBody := call("GET", path, "")
	var doc struct {
		Stats struct {
			Title map[string]struct{ Value json.RawMessage }
		}
	}
	if err := json.Unmarshal([]byte(docBody), &doc); err != nil {
		t.Fatalf("document: %v %.300s", err, docBody)
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d %s", i, c.json[:min(len(c.json), 24)]), func(t *testing.T) {
			if i >= len(read) || read[i].Statname != fmt.Sprintf("v%d", i) || read[i].Type != c.typ || read[i].Value != c.read {
				if i < len(read) {
					t.Errorf("batch read %+v, want %s %q", read[i], c.typ, c.read)
				} else {
					t.Errorf("batch read lacks it")
				}
			}
			if want := fmt.Sprintf(`"type":%q,"value":%s`, c.typ, mustJSON(c.read)); !strings.Contains(single, want) {
				t.Errorf("single GET lacks %s", want)
			}
			raw := doc.Stats.Title[fmt.Sprintf("V%d", i)].Value
			if c.typ == "String" {
				var s string
				if json.Unmarshal(raw, &s) != nil || s != c.read {
					t.Errorf("document value %s, want %q", raw, c.read)
				}
				return
			}
			var f float64
			if err := json.Unmarshal(raw, &f); err != nil || f != c.exact {
				t.Errorf("document value %s, want %v exactly", raw, c.exact)
			}
		})
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
