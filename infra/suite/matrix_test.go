package suite

import (
	"fmt"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// TestAccessMatrix runs sandbox × title × open/restricted × server access
// × own xuid on both read APIs and both writes: each request is exactly a
// 200 (201 for a created session) or a 403.
// Statistics: restricted means a restricted stat, readable only by an
// owning title. Sessions: restricted means private=true, allowed only to
// servers and to the user's own xuid. Writes: only a title owning the SCID,
// for the caller's own xuid unless it is a server. Session writes: only a
// title owning the SCID; a private session is read by its members and
// servers only. All: the sandbox must be the SCID's.
func TestAccessMatrix(t *testing.T) {
	base := stack(t)
	runID := time.Now().UnixNano()
	sum := &tally{name: "access matrix"}
	const other = 2533274792693552
	for _, sandbox := range []string{"RETAIL", "XDKS.1", "XDKS.9"} {
		for _, title := range []string{titleA, "1818181818"} {
			for _, restricted := range []bool{false, true} {
				for _, server := range []bool{false, true} {
					for _, own := range []bool{false, true} {
						tok := token(t, xbl.Caller{XUID: me, TitleID: title, Sandbox: sandbox, Server: server})
						target := xbl.XUID(other)
						if own {
							target = me
						}
						inSandbox := sandbox != "XDKS.9"
						name := fmt.Sprintf("%s/%s/restricted=%v/server=%v/own=%v", sandbox, title, restricted, server, own)
						t.Run("stats/"+name, func(t *testing.T) {
							stat := "OverallReputation"
							if restricted {
								stat = "SecretStat"
							}
							want := 200
							if !inSandbox || restricted && title != titleA {
								want = 403
							}
							status, _, body := send(t, "GET", fmt.Sprintf("%s/users/xuid(%d)/scids/%s/stats/%s", base, target, scidA, stat), nil,
								[][2]string{{"Authorization", tok}})
							if status != want {
								t.Errorf("%d, want %d: %s", status, want, body)
							}
							sum.record(t, status)
						})
						if !restricted { // a write has no restricted kind
							t.Run("write/"+name, func(t *testing.T) {
								want := 200
								if !inSandbox || title != titleA || !server && !own {
									want = 403
								}
								status, _, body := send(t, "PATCH", fmt.Sprintf("%s/stats/users/%d/scids/%s", base, target, scidA),
									[]byte(`{"stats":{"title":{"MatrixWrites":{"value":1}}}}`),
									[][2]string{{"Authorization", tok}, {"x-xbl-contract-version", "4"}, {"Content-Type", "application/json"}})
								if status != want {
									t.Errorf("%d, want %d: %s", status, want, body)
								}
								sum.record(t, status)
							})
						}
						t.Run("session write/"+name, func(t *testing.T) {
							// Unrestricted: create and join a session of one's
							// own. Restricted: read the demo's private session,
							// as a member (own) or not.
							caller := xbl.XUID(me)
							if !own {
								caller = 7777
							}
							ctok := token(t, xbl.Caller{XUID: caller, TitleID: title, Sandbox: sandbox, Server: server})
							h := [][2]string{{"Authorization", ctok}, {"x-xbl-contract-version", "107"}, {"Content-Type", "application/json"}}
							owns := inSandbox && title == titleA
							var status int
							var body string
							want := 403
							if restricted {
								if owns && (own || server) {
									want = 200
								}
								status, _, body = send(t, "GET", base+"/serviceconfigs/"+scidA+"/sessionTemplates/coop/sessions/evening-raid", nil, h)
							} else {
								if owns {
									want = 201
								}
								// The shared table outlives a run: a name of this run.
								session := fmt.Sprintf("matrix-%d-%s-%s-%v-%v", runID, sandbox, title, server, own)
								status, _, body = send(t, "PUT", base+"/serviceconfigs/"+scidA+"/sessionTemplates/matrix/sessions/"+session,
									[]byte(`{"members":{"me":{"properties":{"system":{"active":true}}}}}`), append(h, [2]string{"If-None-Match", "*"}))
							}
							if status != want {
								t.Errorf("%d, want %d: %s", status, want, body)
							}
							sum.record(t, status)
						})
						t.Run("sessions/"+name, func(t *testing.T) {
							q := fmt.Sprintf("xuid=%d", target)
							if restricted {
								q += "&private=true"
							}
							want := 200
							if !inSandbox || restricted && !server && !own {
								want = 403
							}
							status, _, body := send(t, "GET", base+"/serviceconfigs/"+scidA+"/sessions?"+q, nil,
								[][2]string{{"Authorization", tok}, {"x-xbl-contract-version", "107"}})
							if status != want {
								t.Errorf("%d, want %d: %s", status, want, body)
							}
							sum.record(t, status)
						})
					}
				}
			}
		}
	}
	sum.report(t)
}
