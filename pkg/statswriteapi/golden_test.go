package statswriteapi

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
)

// xsapiCase is one sequence of requests as XSAPI sends them, from
// testdata/xsapi.json.
type xsapiCase struct {
	Name     string `json:"name"`
	About    string `json:"about"`
	Requests []struct {
		Method  string   `json:"method"`
		Path    string   `json:"path"`
		Headers []string `json:"headers"`
		Body    string   `json:"body"`
	} `json:"requests"`
	Read []string `json:"read"`
}

// TestXSAPIGolden sends each case's requests, then compares with
// testdata/golden/NAME.json, as one JSON object, the status and body of
// every answer, the GET document and the batch read of the named stats
// after them (go test -update rewrites the files).
func TestXSAPIGolden(t *testing.T) {
	var cases []xsapiCase
	testkit.ReadJSON(t, filepath.Join("testdata", "xsapi.json"), &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, write, read := setup(t)
			if len(c.Requests) == 0 {
				t.Fatal("a case needs requests")
			}
			target := c.Requests[0].Path
			owner := tok(t, 2533274792693551, titleA, true, "Golden") // a server: it may write any player
			type answer struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			}
			var got struct {
				Answers  []answer        `json:"answers"`
				Document json.RawMessage `json:"document"`
				Batch    json.RawMessage `json:"batch"`
			}
			for _, r := range c.Requests {
				w := testkit.Do(write, owner, r.Method, r.Path, r.Body, r.Headers...)
				got.Answers = append(got.Answers, answer{w.Code, w.Body.Bytes()})
			}
			got.Document = testkit.Do(write, owner, "GET", target, "", "x-xbl-contract-version", "4").Body.Bytes()
			xuid := filepath.Base(filepath.Dir(filepath.Dir(filepath.Clean(target))))
			q, _ := json.Marshal(map[string]any{"requestedusers": []string{xuid},
				"requestedscids": []any{map[string]any{"scid": scidA, "requestedstats": c.Read}}})
			got.Batch = testkit.Do(read, owner, "POST", "/batch", string(q)).Body.Bytes()
			body, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("answers are not JSON: %v", err)
			}
			testkit.Golden(t, filepath.Join("testdata", "golden", c.Name+".json"), body)
		})
	}
}
