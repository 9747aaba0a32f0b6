package sessionstore_test

import (
	"testing"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
)

func TestZZScratch(t *testing.T) {
	doc := `{"serviceConfigs":[{"scid":"` + scidA + `","titleIds":["1"],"sandboxes":["RETAIL"]}],"sessions":[
	{"scid":"` + scidA + `","templateName":"t","name":"a","startTime":"2026-01-01T00:00:00.00000001Z","version":1,"visibility":"open","members":[{"xuid":"9876","status":"active"}]},
	{"scid":"` + scidA + `","templateName":"t","name":"b","startTime":"2026-01-01T00:00:00.00000005Z","version":1,"visibility":"open","members":[{"xuid":"9876","status":"active"}]}]}`
	tab := ddbtest.NewStore(t)
	ddbtest.LoadText(t, tab, doc)
	mem := memstore.New()
	mem.Load(testkit.DatasetText(t, doc))
	for name, r := range map[string]sessions.Reader{"db": sessionstore.New(tab), "mem": mem} {
		w := call(t, newHandler(t, r), "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "")
		t.Logf("%s: %d %s", name, w.Code, w.Body)
	}
}
