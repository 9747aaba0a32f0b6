package suite

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
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
	tok, err := devkey.Mint(xbl.Caller{XUID: me, UserHash: "u", TitleID: titleA, Sandbox: "RETAIL", Gamertag: "Writer"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", tok)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	path := fmt.Sprintf("/stats/users/%d/scids/%s", me, scidA)
	if code, body := send("POST", path+"/", `{"stats":{"title":{"Kills":{"value":47},"KD":{"value":2.5}}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`); code != 200 {
		t.Fatalf("POST: %d %s", code, body)
	}
	if code, body := send("PATCH", path, `{"stats":{"title":{"kills":{"value":48}}}}`); code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	code, body := send("POST", "/batch", fmt.Sprintf(`{"requestedusers":["%d"],"requestedscids":[{"scid":"%s","requestedstats":["Kills","KD"]}]}`, me, scidA))
	for _, want := range []string{`"gamertag":"Writer"`, `{"statname":"Kills","type":"Integer","value":"48"}`, `{"statname":"KD","type":"Double","value":"2.5"}`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("batch read: %d, lacks %s: %s", code, want, body)
		}
	}
}
