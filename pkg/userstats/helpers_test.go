package userstats

import (
	"io"
	"log/slog"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/xbl"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func xuidOf(v uint64) xbl.XUID { return xbl.XUID(v) }

func authCaller() auth.Caller {
	return auth.Caller{XUID: 1, UserHash: "uhs", TitleID: titleA, Sandbox: "RETAIL"}
}

func statusOf(err error) int { return httpapi.Classify(err).Status }
