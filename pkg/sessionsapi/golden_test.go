package sessionsapi

import (
	"path/filepath"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
)

// golden compares body with testdata/golden/name.json (rewritten with -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name+".json"), body)
}

// TestGolden sends the exact requests XSAPI builds (contract 107;
// parameters in the order xuid, keyword, visibility, version, private,
// reservations, inactive, take; booleans only as true; the GET for one
// xuid, the POST with a body for several) and compares whole bodies.
func TestGolden(t *testing.T) {
	h := newHandler(t, loaded(t))
	self := token(t, who{xuid: 9876})
	server := token(t, who{xuid: 1, server: true})
	tests := []struct {
		name, method, target, body, authz string
	}{
		{"xsapi_get_one_user", "GET", "/serviceconfigs/" + scidA + "/sessions?xuid=9876&private=true&inactive=true&take=100", "", self},
		{"xsapi_get_keyword", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch/sessions?keyword=one&visibility=open&version=1&take=25", "", self},
		{"xsapi_batch", "POST", "/serviceconfigs/" + scidA + "/batch?reservations=true&inactive=true&take=100", `{"xuids":["9876","1111","4444"]}`, server},
		{"xsapi_batch_template", "POST", "/serviceconfigs/" + scidA + "/sessiontemplates/coop/batch?take=10", `{"xuids":["1111","2222","3333"]}`, self},
		{"docs_batch_numbers", "POST", "/serviceconfigs/" + scidA + "/batch", `{"xuids": [9876, 5432]}`, self},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, tt.method, tt.target, tt.body, "Authorization", tt.authz)
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			golden(t, tt.name, w.Body.Bytes())
		})
	}
}
