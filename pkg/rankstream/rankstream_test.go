package rankstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/xbl"
)

type recorder struct {
	moves  []leaderboards.Move
	tags   []string
	failOn string // the To value whose move fails
}

func (r *recorder) Apply(_ context.Context, moves []leaderboards.Move) (applied, done int, err error) {
	for i, m := range moves {
		if m.To != nil && m.To.Value == r.failOn {
			return applied, i, errors.New("down")
		}
		r.moves = append(r.moves, m)
		r.tags = append(r.tags, m.Gamertag)
		applied++
	}
	return applied, len(moves), nil
}

type configs map[string]*xbl.ServiceConfig

func (c configs) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return c[scid], xbl.Usage{}, nil
}

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// image is a statistics item's image as the stream's event carries it.
func image(score string) string {
	switch score {
	case "":
		return ""
	case "null":
		// No statistics left: attributevalue writes the empty map as NULL.
		return fmt.Sprintf(`{"pk":{"S":"5#%s"},"sk":{"S":"stats"},"xuid":{"S":"5"},"scid":{"S":"%s"},"gamertag":{"S":"Five"},"s":{"NULL":true}}`, scid, scid)
	}
	return fmt.Sprintf(`{"pk":{"S":"5#%s"},"sk":{"S":"stats"},"xuid":{"S":"5"},"scid":{"S":"%s"},"gamertag":{"S":"Five"},
		"s":{"M":{"score":{"M":{"t":{"S":"Integer"},"v":{"N":"%s"},"n":{"S":"Score"}}}}}}`, scid, scid, score)
}

func record(seq, sk, before, after string) string {
	old, new := image(before), image(after)
	parts := fmt.Sprintf(`"Keys":{"pk":{"S":"5#%s"},"sk":{"S":"%s"}},"SequenceNumber":"%s"`, scid, sk, seq)
	if old != "" {
		parts += `,"OldImage":` + old
	}
	if new != "" {
		parts += `,"NewImage":` + new
	}
	return `{"eventName":"MODIFY","eventSource":"aws:dynamodb","dynamodb":{` + parts + `}}`
}

func TestHandle(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: scid, Leaderboards: map[string]xbl.Leaderboard{"score": {Stat: "Score"}}}
	for _, tt := range []struct {
		name    string
		records []string
		failOn  string
		moves   []string // from→to
		failed  string
	}{
		{"insert, change, delete", []string{record("1", "stats", "", "5"), record("2", "stats", "5", "9"), record("3", "stats", "9", "")}, "", []string{"→5", "5→9", "9→"}, ""},
		{"every statistic removed", []string{record("1", "stats", "", "5"), record("2", "stats", "5", "null"), record("3", "stats", "null", "4")}, "", []string{"→5", "5→", "→4"}, ""},
		{"other items skipped", []string{record("1", "doc", "", "5"), record("2", "profile", "", "5")}, "", nil, ""},
		{"unchanged value moves nothing", []string{record("1", "stats", "5", "5")}, "", nil, ""},
		{"a failure stops the batch there", []string{record("1", "stats", "", "5"), record("2", "stats", "5", "7"), record("3", "stats", "7", "8")}, "7", []string{"→5"}, "2"},
		{"a failure after skipped records", []string{record("1", "doc", "", "5"), record("2", "stats", "", "7"), record("3", "stats", "7", "8")}, "7", nil, "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e events.DynamoDBEvent
			body := `{"Records":[`
			for i, r := range tt.records {
				if i > 0 {
					body += ","
				}
				body += r
			}
			if err := json.Unmarshal([]byte(body+`]}`), &e); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{failOn: tt.failOn}
			h := &Handler{Index: &leaderboards.Index{Configs: configs{scid: cfg}, Store: rec}, Log: slog.New(slog.DiscardHandler)}
			resp, err := h.Handle(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range rec.moves {
				s := ""
				if m.From != nil {
					s = m.From.Value
				}
				s += "→"
				if m.To != nil {
					s += m.To.Value
				}
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.moves) {
				t.Errorf("moves %v, want %v", got, tt.moves)
			}
			for _, g := range rec.tags {
				if g != "Five" {
					t.Errorf("gamertag %q", g)
				}
			}
			switch {
			case tt.failed == "" && len(resp.BatchItemFailures) != 0:
				t.Errorf("failures %+v", resp.BatchItemFailures)
			case tt.failed != "" && (len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != tt.failed):
				t.Errorf("failures %+v, want sequence %s", resp.BatchItemFailures, tt.failed)
			}
		})
	}
}
