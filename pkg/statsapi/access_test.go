package statsapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAccessMatrix runs every sandbox × title × stat kind against scid A
// (sandboxes XDKS.1 and RETAIL; owned by titleA), through both routes.
func TestAccessMatrix(t *testing.T) {
	h := newHandler(t, loaded(t))
	stats := map[string]string{"open": "OverallReputation", "restricted": "SecretStat", "unnamed": "NotInConfig"}
	for _, sandbox := range []string{"RETAIL", "XDKS.1", "XDKS.2", "retail"} {
		for _, title := range []string{titleA, titleB, "1"} {
			for kind, stat := range stats {
				inSandbox := sandbox == "RETAIL" || sandbox == "XDKS.1"
				want := http.StatusOK
				switch {
				case !inSandbox:
					want = http.StatusForbidden
				case kind != "open" && title != titleA:
					want = http.StatusForbidden
				}
				name := fmt.Sprintf("%s/%s/%s", sandbox, title, kind)
				t.Run(name, func(t *testing.T) {
					tok := token(t, caller{title: title, sandbox: sandbox})
					get := call(t, h, "GET", "/users/xuid(2533274792693551)/scids/"+scidA+"/stats/"+stat, "", "Authorization", tok)
					post := call(t, h, "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["`+stat+`"]}]}`, "Authorization", tok)
					for route, w := range map[string]int{"GET": get.Code, "POST": post.Code} {
						if w != want {
							t.Errorf("%s: %d, want %d", route, w, want)
						}
					}
					if want == http.StatusForbidden {
						msg := errorMessage(get)
						if !strings.Contains(msg, scidA) {
							t.Errorf("403 message %q does not name the scid", msg)
						}
						if inSandbox && !strings.Contains(msg, stat) {
							t.Errorf("403 message %q does not name the stat", msg)
						}
					}
				})
			}
		}
	}
}

func TestMixedBatchRefusedWhole(t *testing.T) {
	h := newHandler(t, loaded(t))
	tests := []struct {
		name, caller, scids string
		status              int
		names               []string
	}{
		{
			name:   "restricted stat of the second scid",
			scids:  `{"scid":"` + scidA + `","requestedstats":["SecretStat"]},{"scid":"` + scidB + `","requestedstats":["Kills","Headshots"]}`,
			status: 403, names: []string{scidB, "Headshots"},
		},
		{
			name:   "second scid not in the caller's sandbox",
			caller: "XDKS.1",
			scids:  `{"scid":"` + scidA + `","requestedstats":["KD"]},{"scid":"` + scidB + `","requestedstats":["Kills"]}`,
			status: 403, names: []string{scidB, "XDKS.1"},
		},
		{
			name:   "open stats of both",
			scids:  `{"scid":"` + scidA + `","requestedstats":["KD"]},{"scid":"` + scidB + `","requestedstats":["Kills"]}`,
			status: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := caller{}
			if tt.caller != "" {
				c.sandbox = tt.caller
			}
			w := call(t, h, "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[`+tt.scids+`]}`, "Authorization", token(t, c))
			if w.Code != tt.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.status)
			}
			for _, n := range tt.names {
				if !strings.Contains(errorMessage(w), n) {
					t.Errorf("message %q does not name %s", errorMessage(w), n)
				}
			}
		})
	}
}
