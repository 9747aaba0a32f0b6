package statstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store"
)

// TestProjectionFitsDynamoDB: at the request limits (every stat name of
// every SCID distinct, each of the longest length) the projection stays
// within DynamoDB's 4 KB expression limit, which DynamoDB Local does not
// enforce.
func TestProjectionFitsDynamoDB(t *testing.T) {
	var names []string
	for i := range stats.MaxSCIDs * stats.MaxStatsPerSCID {
		names = append(names, fmt.Sprintf("%0*d", stats.MaxStatNameBytes, i))
	}
	p := projection(names)
	if len(p.Expression) > 4096 {
		t.Errorf("projection of %d names is %d bytes, over DynamoDB's 4,096", len(names), len(p.Expression))
	}
	if len(p.Names) != len(names)+3 || !strings.HasPrefix(p.Expression, "#pk, #gamertag,#s.#n0") {
		t.Errorf("projection %.60s… with %d names", p.Expression, len(p.Names))
	}
}

// TestReadItemIsStatsItem: every attribute the read projects is one of
// StatsItem's, under the same name.
func TestReadItemIsStatsItem(t *testing.T) {
	all := store.ProjectionOf[StatsItem]().Names
	for ph, name := range store.ProjectionOf[readItem]().Names {
		if all[ph] != name {
			t.Errorf("readItem's %s (%s) is not an attribute of StatsItem", name, ph)
		}
	}
}
