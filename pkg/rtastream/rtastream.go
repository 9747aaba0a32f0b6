// Package rtastream is the edge of real-time activity's notifier: the
// Lambda handler of the table's stream (DynamoDB Streams,
// NEW_AND_OLD_IMAGES, session documents only by the event source
// mapping's filter). Each record of a session document becomes one
// rta.Service.Tap of the document before and after the write. Records are
// handled in order, so a connection hears of one session's changes in
// change-number order; the first that fails is reported (with every later
// one left for the retry) as a batch item failure, so that Lambda retries
// from it: taps are sent at least once (a retried record taps again).
package rtastream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

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
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	taps, skipped := 0, 0
	for i, r := range e.Records {
		if !IsDocument(&r) {
			skipped++
			continue
		}
		before, err := image(r.Change.OldImage)
		if err == nil {
			var after *sessions.Doc
			if after, err = image(r.Change.NewImage); err == nil {
				var n int
				n, err = h.Svc.Tap(ctx, before, after)
				taps += n
				if err != nil {
					h.Log.ErrorContext(ctx, "taps failed; the batch is retried from this record",
						"sequenceNumber", r.Change.SequenceNumber, "left", len(e.Records)-i, "error", err.Error())
					resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
					break
				}
				continue
			}
		}
		// A document that does not decode: no write of ours makes one,
		// and retrying would stop the shard for good.
		h.Log.ErrorContext(ctx, "a session record does not decode; skipped", "sequenceNumber", r.Change.SequenceNumber, "error", err.Error())
	}
	h.Log.InfoContext(ctx, "rta taps", "records", len(e.Records), "skipped", skipped, "taps", taps, "failed", len(resp.BatchItemFailures))
	return resp, nil
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
