package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestHandleCallsCost counts, through the proxy in front of DynamoDB
// Local, the DynamoDB calls of each handle call (configuration warm, rate
// limits off), as docs/COST.md ("Handles") states them: posting an
// activity reads the session and writes the handle and the activity (and
// deletes the one it replaces); the activities query makes one Query per
// owner and reads each session found once; a read by handle reads the
// handle and the session; a join by handle reads them and commits as a
// session write does; deleting an activity deletes two items.
func TestHandleCallsCost(t *testing.T) {
	ddbtest.Require(t)
	t.Setenv("RATE_LIMITS", "off")
	t.Setenv("CONFIG_CACHE_TTL_SECONDS", "600")
	table := ddbtest.NewTable(t)
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: scidA, TitleIDs: []string{titleA}, Sandboxes: []string{"RETAIL"}}}}
	if _, err := loader.Load(context.Background(), store.Table{Client: ddbtest.Client(t), Name: table}, ds, nil); err != nil {
		t.Fatal(err)
	}
	proxy := ddbtest.NewProxy(t)
	base := stackOn(t, proxy.URL, table)
	host := token(t, xbl.Caller{XUID: 7301, TitleID: titleA, Sandbox: "RETAIL"})
	friend := token(t, xbl.Caller{XUID: 7302, TitleID: titleA, Sandbox: "RETAIL"})
	call := func(what, tok, method, path, body string, want int) string {
		t.Helper()
		code, _, out := sessionCall(t, base, tok, method, path, body)
		if code != want {
			t.Fatalf("%s: %d %.300s, want %d", what, code, out, want)
		}
		return out
	}
	ref := `{"scid":"` + scidA + `","templateName":"lobby","name":"cost-1"}`
	call("lobby", host, "PUT", sessionPath("cost-1"), activeMe, 201) // warms the configuration
	call("lobby 2", host, "PUT", sessionPath("cost-2"), activeMe, 201)
	// counted sends one call and checks its DynamoDB calls, operation by
	// operation (every other operation: none).
	counted := func(what, tok, method, path, body string, status int, want map[string]int) string {
		t.Helper()
		proxy.ResetCounts()
		out := call(what, tok, method, path, body, status)
		c := proxy.Counts()
		for op, n := range want {
			if c[op].Calls != n {
				t.Errorf("%s: %d %s calls, want %d (all: %s)", what, c[op].Calls, op, n, costOps(c))
			}
		}
		for op, o := range c {
			if _, ok := want[op]; !ok && o.Calls > 0 {
				t.Errorf("%s: %d %s calls, want none (all: %s)", what, o.Calls, op, costOps(c))
			}
		}
		return out
	}
	counted("post an activity", host, "POST", "/handles", `{"type":"activity","version":1,"sessionRef":`+ref+`}`, 201,
		map[string]int{"GetItem": 1, "PutItem": 2})
	counted("post an activity that replaces one", host, "POST", "/handles", `{"type":"activity","version":1,"sessionRef":`+ref+`}`, 201,
		map[string]int{"GetItem": 1, "PutItem": 2, "DeleteItem": 1})
	var owners []string
	for i := range 20 {
		owners = append(owners, fmt.Sprintf(`"%d"`, 7300+i))
	}
	out := counted("query 20 owners, one with an activity", friend, "POST", "/handles/query?include=relatedInfo,customProperties",
		`{"type":"activity","scid":"`+scidA+`","owners":{"xuids":[`+strings.Join(owners, ",")+`]}}`, 200,
		map[string]int{"Query": 20, "GetItem": 1})
	var q struct{ Results []struct{ ID string } }
	if json.Unmarshal([]byte(out), &q); len(q.Results) != 1 {
		t.Fatalf("query: %s", out)
	}
	id := q.Results[0].ID
	counted("read by handle", friend, "GET", "/handles/"+id+"/session", "", 200, map[string]int{"GetItem": 2})
	counted("join by handle", friend, "PUT", "/handles/"+id+"/session", activeMe, 200,
		map[string]int{"GetItem": 2, "UpdateItem": 1, "TransactWriteItems": 1})
	counted("delete the activity", host, "DELETE", "/handles/"+id, "", 204, map[string]int{"GetItem": 1, "DeleteItem": 2})
}
