package userstats

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/fixture"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func xuidOf(v uint64) xbl.XUID { return xbl.XUID(v) }

func authCaller() auth.Caller {
	return auth.Caller{XUID: 1, UserHash: "uhs", TitleID: titleA, Sandbox: "RETAIL"}
}

func loadFixtureText(t *testing.T, st *store.Store, doc string) {
	t.Helper()
	f, err := fixture.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(context.Background(), &f.Data, nil); err != nil {
		t.Fatal(err)
	}
}

func statusOf(err error) int { return httpapi.Classify(err).Status }
