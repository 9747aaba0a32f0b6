package rtastream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// sockets records the taps posted, per connection, and fails the posts
// of the connections in fail.
type sockets struct {
	mu   sync.Mutex
	got  map[string][]int64 // change numbers heard
	fail map[string]bool
}

func (s *sockets) Post(_ context.Context, id string, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[id] {
		return errors.New("post failed")
	}
	var ev []json.RawMessage
	var taps rta.Taps
	json.Unmarshal(msg, &ev)
	json.Unmarshal(ev[2], &taps)
	s.got[id] = append(s.got[id], taps.ShoulderTaps[0].ChangeNumber)
	return nil
}

// record is the stream record of session name's document going from
// change n-1 to n, its one member listening on connection conn.
func record(t *testing.T, name string, n int64, conn string, seq int) events.DynamoDBEventRecord {
	t.Helper()
	img := func(cn int64) map[string]events.DynamoDBAttributeValue {
		m := sessions.Member{XUID: 1, Active: true, PropertiesSystem: map[string]json.RawMessage{
			"connection": json.RawMessage(`"` + conn + `"`), "subscription": json.RawMessage(`{"id":"s","changeTypes":["everything"]}`)}}
		d := &sessions.Doc{SCID: "scid", Template: "lobby", Name: name, CorrelationID: "b", ChangeNumber: cn, Members: []sessions.Member{m}}
		d.PropertiesCustom = map[string]json.RawMessage{"n": json.RawMessage(fmt.Sprint(cn))}
		b, _ := d.Encode()
		return map[string]events.DynamoDBAttributeValue{"doc": events.NewStringAttribute(string(b)), "etag": events.NewStringAttribute("e")}
	}
	r := events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{
		Keys:           map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("session#scid#lobby#" + name), "sk": events.NewStringAttribute("doc")},
		SequenceNumber: fmt.Sprintf("%03d", seq),
		NewImage:       img(n),
	}}
	if n > 1 {
		r.Change.OldImage = img(n - 1)
	}
	return r
}

// TestHandle: one session's records tap in order, sessions apart; records
// of other items are passed over; a failed record is reported, the first
// in the batch's order, and its session's later records wait for the
// retry.
func TestHandle(t *testing.T) {
	st := memstore.New()
	ws := &sockets{got: map[string][]int64{}, fail: map[string]bool{"cb": true}}
	svc := &rta.Service{Store: st, Poster: ws}
	ctx := context.Background()
	for _, c := range []string{"ca", "cb", "cc"} {
		svc.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, c)
		svc.Receive(ctx, c, []byte(`[1,1,"`+rta.ConnectionsResource+`"]`))
	}
	h := &Handler{Svc: svc, Log: testkit.Discard()}
	var e events.DynamoDBEvent
	seq := 0
	add := func(r events.DynamoDBEventRecord) { e.Records = append(e.Records, r); seq++ }
	for n := int64(1); n <= 5; n++ {
		add(record(t, "a", n, "ca", seq))
		add(events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprintf("%03d", seq),
			Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("1#scid"), "sk": events.NewStringAttribute("stats")}}})
		add(record(t, "b", n, "cb", seq))
		add(record(t, "c", n, "cc", seq))
	}
	resp, err := h.Handle(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ws.got["ca"], ws.got["cc"]); got != "[1 2 3 4 5] [1 2 3 4 5]" {
		t.Errorf("heard %s, want every change in order on each connection", got)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != e.Records[2].Change.SequenceNumber {
		t.Errorf("failures %+v, want the first of session b's (%s)", resp.BatchItemFailures, e.Records[2].Change.SequenceNumber)
	}
	if !strings.HasPrefix(e.Records[2].Change.Keys["pk"].String(), "session#scid#lobby#b") {
		t.Fatal("the test's records are not where it thinks")
	}
}

// TestNearTheDeadline: a record is not started within a second of the
// invocation's deadline: the batch reports its first such record for the
// retry instead of running out of time.
func TestNearTheDeadline(t *testing.T) {
	st := memstore.New()
	ws := &sockets{got: map[string][]int64{}}
	svc := &rta.Service{Store: st, Poster: ws}
	ctx := context.Background()
	svc.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "ca")
	svc.Receive(ctx, "ca", []byte(`[1,1,"`+rta.ConnectionsResource+`"]`))
	h := &Handler{Svc: svc, Log: testkit.Discard()}
	e := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record(t, "a", 1, "ca", 0), record(t, "a", 2, "ca", 1)}}
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	resp, _ := h.Handle(dctx, e)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "000" || len(ws.got["ca"]) != 0 {
		t.Errorf("failures %+v, heard %v: want the first record left for the retry, nothing sent", resp.BatchItemFailures, ws.got)
	}
}
