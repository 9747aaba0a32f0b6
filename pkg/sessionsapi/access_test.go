package sessionsapi

import (
	"strings"
	"testing"
)

// TestPrivilege: private=true or reservations=true need server access or
// the caller's own xuid for every queried xuid, else 403 whether or not
// such sessions exist: the refusal comes before any read.
func TestPrivilege(t *testing.T) {
	st := loaded(t)
	h := newHandler(t, st)
	get := "/serviceconfigs/" + scidA + "/sessions"
	post := "/serviceconfigs/" + scidA + "/batch"
	self := token(t, who{xuid: 9876})
	server := token(t, who{xuid: 1, server: true})
	tests := []struct {
		name, method, target, body, authz string
		status                            int
	}{
		{"private, other user with data", "GET", get + "?xuid=1111&private=true", "", self, 403},
		{"private, other user without data", "GET", get + "?xuid=5555&private=true", "", self, 403},
		{"reservations, other user with data", "GET", get + "?xuid=1111&reservations=true", "", self, 403},
		{"reservations, other user without data", "GET", get + "?xuid=5555&reservations=true", "", self, 403},
		{"private, other scid without sessions", "GET", "/serviceconfigs/" + scidB + "/sessions?xuid=1111&private=true", "", self, 403},
		{"private, own xuid", "GET", get + "?xuid=9876&private=true", "", self, 200},
		{"reservations, own xuid", "GET", get + "?xuid=9876&reservations=true", "", self, 200},
		{"private, server", "GET", get + "?xuid=1111&private=true", "", server, 200},
		{"batch, private, one other xuid", "POST", post + "?private=true", `{"xuids":["9876","1111"]}`, self, 403},
		{"batch, reservations, only others", "POST", post + "?reservations=true", `{"xuids":["5555"]}`, self, 403},
		{"batch, private, own xuid twice", "POST", post + "?private=true", `{"xuids":["9876",9876]}`, self, 200},
		{"batch, server", "POST", post + "?private=true&reservations=true", `{"xuids":["9876","1111"]}`, server, 200},
		{"keyword, private", "GET", get + "?keyword=raid&private=true", "", self, 403},
		{"keyword, private, server", "GET", get + "?keyword=raid&private=true", "", server, 200},
		{"no privilege needed", "GET", get + "?xuid=1111&inactive=true", "", self, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads := st.Reads()
			w := call(t, h, tt.method, tt.target, tt.body, "Authorization", tt.authz)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if n := st.Reads() - reads; tt.status == 403 && n != 0 {
				t.Errorf("%d reads before the refusal, want none", n)
			}
			if tt.status == 403 && !strings.Contains(w.Body.String(), "server access") {
				t.Errorf("403 message %q does not say what is needed", w.Body)
			}
		})
	}
}

func TestSandboxAndConfiguration(t *testing.T) {
	h := newHandler(t, loaded(t))
	tests := []struct {
		name, target, sandbox string
		status                int
		message               string
	}{
		{"sandbox of the scid", "/serviceconfigs/" + scidA + "/sessions?xuid=9876", "XDKS.1", 200, ""},
		{"sandbox not of the scid", "/serviceconfigs/" + scidA + "/sessions?xuid=9876", "XDKS.2", 403, `sandbox "XDKS.2" is not authorized for scid ` + scidA},
		{"sandbox of another scid", "/serviceconfigs/" + scidB + "/sessions?xuid=9876", "XDKS.1", 403, scidB},
		{"no configuration", "/serviceconfigs/" + scidC + "/sessions?xuid=9876", "RETAIL", 404, "scid " + scidC + " has no service configuration"},
		{"no configuration, keyword", "/serviceconfigs/" + scidC + "/sessions?keyword=one", "RETAIL", 404, scidC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, "GET", tt.target, "", "Authorization", token(t, who{sandbox: tt.sandbox}))
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.message) {
				t.Errorf("%d %q, want %d containing %q", w.Code, w.Body, tt.status, tt.message)
			}
		})
	}
	w := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "", "Authorization", "")
	if w.Code != 401 {
		t.Errorf("without a token: %d, want 401", w.Code)
	}
}
