package suite

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/xbl"
)

// TestHandleAccess runs the handle calls through the local API on DynamoDB
// Local for callers of every kind: sandbox (the SCID's or not) × title
// (owning or not) × member of the session or not × server. Posting an
// activity needs the SCID's sandbox, an owning title and membership (no
// server); the activities query needs the sandbox and an owning title, and
// shows a private session's activity to its members and servers only; an
// invite is read by its invitee, its sender and servers only. Nothing
// answers 5xx.
func TestHandleAccess(t *testing.T) {
	a := newAttackStack(t, "handles")
	sum := &tally{name: "handle access"}
	const hostX, invitee = 7101, 7102
	host := a.player(hostX)
	ref := func(name string) string {
		return `{"scid":"` + scidA + `","templateName":"lobby","name":"` + name + `"}`
	}
	a.call("open lobby", host, "PUT", sessionPath("h-open"), activeMe, 201)
	a.call("private lobby", host, "PUT", sessionPath("h-private"), `{"constants":{"system":{"visibility":"private"}},"members":{"me":{"properties":{"system":{"active":true}}}}}`, 201)
	var inviteID string
	for _, lobby := range []string{"h-open", "h-private"} {
		a.call("host's activity", host, "POST", "/handles", `{"type":"activity","version":1,"sessionRef":`+ref(lobby)+`}`, 201)
	}
	_, out := a.call("invite", host, "POST", "/handles", `{"type":"invite","version":1,"invitedXuid":"7102","inviteAttributes":{"titleId":"`+titleA+`"},"sessionRef":`+ref("h-private")+`}`, 201)
	var inv struct{ ID string }
	if json.Unmarshal([]byte(out), &inv); inv.ID == "" {
		t.Fatalf("invite answer %s", out)
	}
	inviteID = inv.ID
	for _, sandbox := range []string{"RETAIL", "XDKS.9"} {
		for _, title := range []string{titleA, "1818181818"} {
			for _, member := range []bool{false, true} {
				for _, server := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/member=%v/server=%v", sandbox, title, member, server)
					x := xbl.XUID(7200)
					if member {
						x = hostX
					}
					if server {
						x = 0
					}
					tok := token(t, xbl.Caller{XUID: x, TitleID: title, Sandbox: sandbox, Server: server})
					allowed := sandbox == "RETAIL" && title == titleA
					t.Run("activity/"+name, func(t *testing.T) {
						want := 403
						if allowed && member && !server {
							want = 201
						}
						code, _, body := sessionCall(t, a.base, tok, "POST", "/handles", `{"type":"activity","version":1,"sessionRef":`+ref("h-private")+`}`)
						if code != want {
							t.Errorf("%d %s, want %d", code, body, want)
						}
						sum.record(t, code)
					})
					t.Run("query/"+name, func(t *testing.T) {
						code, _, body := sessionCall(t, a.base, tok, "POST", "/handles/query?include=relatedInfo,customProperties",
							`{"type":"activity","scid":"`+scidA+`","owners":{"xuids":["7101"]}}`)
						sum.record(t, code)
						if !allowed {
							if code != 403 {
								t.Errorf("%d %s, want 403", code, body)
							}
							return
						}
						var r struct {
							Results []struct {
								SessionRef struct{ Name string } `json:"sessionRef"`
							} `json:"results"`
						}
						if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
							t.Fatalf("%d %s", code, body)
						}
						var names []string
						for _, row := range r.Results {
							names = append(names, row.SessionRef.Name)
						}
						// The host's activity is one per title: h-private's
						// replaced h-open's; a private session's activity is
						// its members' and servers' only.
						want := ""
						if member || server {
							want = "h-private"
						}
						if got := strings.Join(names, ","); got != want {
							t.Errorf("activities %q, want %q", got, want)
						}
					})
					t.Run("invite/"+name, func(t *testing.T) {
						// The member here is the host: the invite's sender.
						want := 403
						if allowed && (server || member) {
							want = 200
						}
						code, _, body := sessionCall(t, a.base, tok, "GET", "/handles/"+inviteID+"/session", "")
						if code != want {
							t.Errorf("%d %s, want %d", code, body, want)
						}
						sum.record(t, code)
					})
				}
			}
		}
	}
	// The invitee reads and joins the private lobby by the invite; a
	// stranger cannot join it by the host's activity.
	a.call("invitee reads", a.player(invitee), "GET", "/handles/"+inviteID+"/session", "", 200)
	a.call("invitee joins", a.player(invitee), "PUT", "/handles/"+inviteID+"/session", activeMe, 200)
	sum.report(t)
}
