package sessionsapi

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRejectsBadRequests(t *testing.T) {
	h := newHandler(t, loaded(t))
	get := "/serviceconfigs/" + scidA + "/sessions"
	post := "/serviceconfigs/" + scidA + "/batch"
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf(`"%d"`, i+1))
	}
	tests := []struct {
		name, method, target, body string
		headers                    []string
		message                    string
	}{
		{"contract missing", "GET", get + "?xuid=9876", "", []string{"X-Xbl-Contract-Version", ""}, "x-xbl-contract-version header is required (104 or later)"},
		{"contract too low", "GET", get + "?xuid=9876", "", []string{"X-Xbl-Contract-Version", "103"}, "x-xbl-contract-version 103 is not supported"},
		{"contract not a number", "GET", get + "?xuid=9876", "", []string{"X-Xbl-Contract-Version", "1.07"}, "is not a version number"},
		{"scid not a GUID", "GET", "/serviceconfigs/abc/sessions?xuid=9876", "", nil, `scid "abc" is not a GUID`},
		{"template with #", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/a%23b/sessions?xuid=9876", "", nil, "session template name"},
		{"no xuid or keyword", "GET", get, "", nil, "needs an xuid or a keyword"},
		{"only take", "GET", get + "?take=5", "", nil, "needs an xuid or a keyword"},
		{"keyword empty", "GET", get + "?keyword=", "", nil, "keyword is empty"},
		{"keyword with C1", "GET", get + "?keyword=a%C2%85b", "", nil, "contains a control character"},
		{"reservations without xuid", "GET", get + "?keyword=one&reservations=true", "", nil, "reservations and inactive need an xuid"},
		{"inactive without xuid", "GET", get + "?keyword=one&inactive=true", "", nil, "reservations and inactive need an xuid"},
		{"visibility unknown", "GET", get + "?xuid=9876&visibility=secret", "", nil, `visibility "secret" is not one of`},
		{"visibility private alone", "GET", get + "?xuid=9876&visibility=private", "", nil, "visibility=private requires private=true"},
		{"visibility private, private false", "GET", get + "?xuid=9876&visibility=private&private=false", "", nil, "visibility=private requires private=true"},
		{"version negative", "GET", get + "?xuid=9876&version=-1", "", nil, "is not a non-negative integer"},
		{"version not a number", "GET", get + "?xuid=9876&version=one", "", nil, "is not a non-negative integer"},
		{"version above contract", "GET", get + "?xuid=9876&version=8", "", nil, "version 8 is greater than 7, the contract version 107 mod 100"},
		{"version above contract 104", "GET", get + "?xuid=9876&version=5", "", []string{"X-Xbl-Contract-Version", "104"}, "greater than 4"},
		{"private not a bool", "GET", get + "?xuid=9876&private=yes", "", nil, `private must be true or false, not "yes"`},
		{"inactive not a bool", "GET", get + "?xuid=9876&inactive=1", "", nil, "inactive must be true or false"},
		{"take too big", "GET", get + "?xuid=9876&take=101", "", nil, "take \"101\" must be an integer from 0 to 100"},
		{"take negative", "GET", get + "?xuid=9876&take=-1", "", nil, "from 0 to 100"},
		{"take not a number", "GET", get + "?xuid=9876&take=all", "", nil, "from 0 to 100"},
		{"xuid bad", "GET", get + "?xuid=abc", "", nil, `xuid "abc" is not an unsigned decimal integer`},
		{"xuid overflow", "GET", get + "?xuid=18446744073709551616", "", nil, "out of range"},
		{"xuid twice", "GET", get + "?xuid=9876&xuid=1111", "", nil, "xuid is given more than once"},
		{"bad escape", "GET", get + "?keyword=%zz", "", nil, "not valid %-encoding"},
		{"xuid on batch", "POST", post + "?xuid=9876", `{"xuids":["9876"]}`, nil, "xuid is not a query parameter of the batch route"},
		{"body empty", "POST", post, "", nil, "the request body is empty; it must be a JSON object"},
		{"body not JSON", "POST", post, `{"xuids":`, nil, "not valid JSON"},
		{"body array", "POST", post, `["9876"]`, nil, "the request body must be a JSON object"},
		{"body trailing", "POST", post, `{"xuids":["9876"]} x`, nil, "has data after its JSON value (at byte 19)"},
		{"body null", "POST", post, `null`, nil, "the request body must be a JSON object, not null"},
		{"body xuids twice", "POST", post, `{"xuids":["9876"],"xuids":["1111"]}`, nil, `$.xuids: the member "xuids" comes twice in one object`},
		{"body not UTF-8", "POST", post, "{\"xuids\":[\"9876\"],\"a\":\"\xff\"}", nil, "$.a: a string is not valid UTF-8"},
		{"xuids missing", "POST", post, `{"users":["9876"]}`, nil, "$.xuids is required (an array of xuids, not null)"},
		{"xuids not array", "POST", post, `{"xuids":"9876"}`, nil, "$.xuids must be an array"},
		{"xuids null", "POST", post, `{"xuids":null}`, nil, "$.xuids is required (an array of xuids, not null)"},
		{"xuids in another case", "POST", post, `{"XUIDs":["9876"]}`, nil, "$.xuids is required"},
		{"xuids empty", "POST", post, `{"xuids":[]}`, nil, "$.xuids is empty"},
		{"xuids over limit", "POST", post, `{"xuids":[` + strings.Join(many, ",") + `]}`, nil, "$.xuids has 101 entries; the limit is 100"},
		{"xuid element bad", "POST", post, `{"xuids":["9876",-4]}`, nil, `$.xuids[1]: xuid "-4" is not an unsigned decimal integer`},
		{"xuid element bool", "POST", post, `{"xuids":[true]}`, nil, "$.xuids[0]: xuid must be a string or a number"},
		{"xuid element null", "POST", post, `{"xuids":["1",null]}`, nil, "$.xuids[1]: xuid must be a string or a number"},
		{"xuid element fraction", "POST", post, `{"xuids":[1,2.5]}`, nil, "$.xuids[1]"},
		{"xuid element escaped", "POST", post, `{"xuids":["\u0031x"]}`, nil, `$.xuids[0]: xuid "1x"`},
		{"body over cap", "POST", post, `{"xuids":["9876"]}` + strings.Repeat(" ", MaxBodyBytes), nil, "exceeds the limit of 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, tt.method, tt.target, tt.body, tt.headers...)
			if w.Code != 400 {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.message) {
				t.Errorf("message %q does not contain %q", w.Body, tt.message)
			}
		})
	}
}

// TestKeywordParameterCanonical: the keyword parameter is read in its
// canonical form (xbl.FoldKeyword), the one the index is kept under:
// "ſ" and "S" are "s", "Σ" is "ς", and "İ" (U+0130) stays itself.
func TestKeywordParameterCanonical(t *testing.T) {
	for raw, want := range map[string]string{"%C5%BF": "s", "S": "s", "%CE%A3": "ς", "%C4%B0": "İ", "Ranked": "ranked", "a+b": "a+b"} {
		r := httptest.NewRequest("GET", "/x?keyword="+raw, nil)
		r.Header.Set("X-Xbl-Contract-Version", "107")
		r.SetPathValue("scid", scidA)
		q, err := parseQuery(r, false)
		if err != nil || q.Keyword != want {
			t.Errorf("keyword=%s: %+v %v, want keyword %q", raw, q, err, want)
		}
	}
}

func TestAcceptedVersions(t *testing.T) {
	h := newHandler(t, loaded(t))
	for _, tt := range []struct{ contract, target string }{
		{"104", "?xuid=9876&version=4"},
		{"107", "?xuid=9876&version=7"},
		{"207", "?xuid=9876&version=7"},
		{"107", "?xuid=9876&version=0&private=false&reservations=false&inactive=false&take=0"},
		{"107", "?xuid=9876&PRIVATE=junk&unknown=1"}, // unknown names are ignored
	} {
		w := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions"+tt.target, "", "X-Xbl-Contract-Version", tt.contract)
		if w.Code != 200 {
			t.Errorf("contract %s %s: %d %s", tt.contract, tt.target, w.Code, w.Body)
		}
	}
}
