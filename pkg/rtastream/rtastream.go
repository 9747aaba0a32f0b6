// Package rtastream is the edge of real-time activity's notifier: the
// Lambda handler of the table's stream (DynamoDB Streams,
// NEW_AND_OLD_IMAGES, session documents only by the event source
// mapping's filter). Each record of a session document becomes one
// rta.Service.Tap of the document before and after the write. One
// session's records are handled in order, so a connection hears of a
// session's changes in change-number order; the first that fails is
// reported (with every later one left for the retry) as a batch item
// failure, so that Lambda retries from it: taps are sent at least once
// (a retried record taps again).
package rtastream

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
)

// Handler is the stream's Lambda handler.
type Handler struct {
	Svc *rta.Service
	Log *slog.Logger
}

// Handle taps the members of the sessions a batch of records changed.
// The records of one session are handled in order; different sessions'
// at once (8 at a time), so that a busy batch does not tap one session
// after another. The first record that fails (in the batch's order) is
// reported: Lambda retries from it, every later record included (those
// of other sessions that did succeed tap again: at least once).
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	bySession := map[string][]int{} // session → its records' indexes, in order
	var order []string
	skipped := 0
	for i := range e.Records {
		r := &e.Records[i]
		if !IsDocument(r) {
			skipped++
			continue
		}
		pk := r.Change.Keys[store.AttrPK].String()
		if _, ok := bySession[pk]; !ok {
			order = append(order, pk)
		}
		bySession[pk] = append(bySession[pk], i)
	}
	var (
		mu     sync.Mutex
		taps   int
		failed = -1 // the first failed record's index
	)
	// A record is not started within a second of the deadline: it and
	// its session's later ones are left for the retry, rather than the
	// whole batch timing out and coming back unchanged.
	rctx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, d.Add(-time.Second))
		defer cancel()
	}
	var g errgroup.Group
	g.SetLimit(sessionConcurrency)
	for _, pk := range order {
		g.Go(func() error {
			for _, i := range bySession[pk] {
				n, err := 0, rctx.Err()
				if err == nil {
					n, err = h.one(rctx, &e.Records[i])
				}
				mu.Lock()
				taps += n
				if err != nil && (failed < 0 || i < failed) {
					failed = i
				}
				mu.Unlock()
				if err != nil {
					return nil // this session's later records wait for the retry
				}
			}
			return nil
		})
	}
	g.Wait()
	if failed >= 0 {
		r := &e.Records[failed]
		h.Log.ErrorContext(ctx, "taps failed; the batch is retried from this record", "sequenceNumber", r.Change.SequenceNumber, "left", len(e.Records)-failed)
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
	}
	h.Log.InfoContext(ctx, "rta taps", "records", len(e.Records), "skipped", skipped, "taps", taps, "failed", len(resp.BatchItemFailures))
	return resp, nil
}

// sessionConcurrency bounds the sessions of one batch handled at once.
const sessionConcurrency = 8

// one taps for record r: an error to retry it (a record that does not
// decode is logged and passed over: no write of ours makes one, and
// retrying would stop the shard for good).
func (h *Handler) one(ctx context.Context, r *events.DynamoDBEventRecord) (int, error) {
	before, err := image(r.Change.OldImage)
	var after *sessions.Doc
	if err == nil {
		after, err = image(r.Change.NewImage)
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "a session record does not decode; skipped", "sequenceNumber", r.Change.SequenceNumber, "error", err.Error())
		return 0, nil
	}
	n, err := h.Svc.Tap(ctx, before, after)
	if err != nil {
		h.Log.ErrorContext(ctx, "taps failed", "sequenceNumber", r.Change.SequenceNumber, "error", err.Error())
	}
	return n, err
}

// IsDocument reports whether r is a record of a session's document item:
// the event source mapping's filter, as the template writes it.
func IsDocument(r *events.DynamoDBEventRecord) bool {
	sk := r.Change.Keys[store.AttrSK]
	return sk.DataType() == events.DataTypeString && sk.String() == store.SKDoc
}

// image decodes a document item's image: nil when there is none.
func image(img map[string]events.DynamoDBAttributeValue) (*sessions.Doc, error) {
	if len(img) == 0 {
		return nil, nil
	}
	doc, etag := img["doc"], img["etag"]
	if doc.DataType() != events.DataTypeString || etag.DataType() != events.DataTypeString {
		return nil, fmt.Errorf("a session document image without doc and etag strings")
	}
	return sessions.Decode([]byte(doc.String()), etag.String())
}
