// Package rankstream is the edge of the leaderboards' index: the Lambda
// handler of the table's stream (DynamoDB Streams, NEW_AND_OLD_IMAGES).
// Each record of a statistics item becomes one leaderboards.Write with
// the values before and after the write; other items are skipped. A
// batch's writes go to leaderboards.Index.Update together, in order, so
// that the ranking's store can write them in few transactions and count
// them once per board (rankstore's journals and folds); the first write
// not done is reported (with every later one left for the retry) as a
// batch item failure, so that Lambda retries from it and nothing is lost
// or applied out of order (the moves are idempotent: a record applied
// twice changes nothing the second time).
package rankstream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Handler is the stream's Lambda handler.
type Handler struct {
	Index *leaderboards.Index
	Log   *slog.Logger
}

// Handle applies a batch of stream records.
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	var writes []leaderboards.Write
	var of []int // of[i]: the record of writes[i]
	for i, r := range e.Records {
		w, ok, err := write(&r)
		if err != nil {
			// A statistics item that does not decode: no write of ours
			// makes one, and retrying would stop the shard for good.
			h.Log.ErrorContext(ctx, "a statistics record does not decode; skipped", "sequenceNumber", r.Change.SequenceNumber, "error", err.Error())
		}
		if ok {
			writes = append(writes, leaderboards.Write{XUID: w.xuid, SCID: w.scid, Before: w.before, After: w.after, Gamertag: w.gamertag})
			of = append(of, i)
		}
	}
	moved, done, err := h.Index.Update(ctx, writes)
	if done < len(writes) {
		r := &e.Records[of[done]]
		h.Log.ErrorContext(ctx, "index update failed; the batch is retried from this record",
			"sequenceNumber", r.Change.SequenceNumber, "xuid", writes[done].XUID.String(), "scid", writes[done].SCID, "left", len(e.Records)-of[done], "error", fmt.Sprint(err))
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
	}
	h.Log.InfoContext(ctx, "index", "records", len(e.Records), "skipped", len(e.Records)-len(writes), "moves", moved, "failed", len(resp.BatchItemFailures))
	return resp, nil
}

// statsWrite is what one record says of a statistics write.
type statsWrite struct {
	xuid          xbl.XUID
	scid          string
	before, after map[string]xbl.StatValue
	gamertag      string
}

// write reads a record of a statistics item; ok is false for any other
// item, and for one that does not decode (with the error).
func write(r *events.DynamoDBEventRecord) (statsWrite, bool, error) {
	var w statsWrite
	pk, sk := r.Change.Keys["pk"], r.Change.Keys["sk"]
	if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString || sk.String() != store.SKStats {
		return w, false, nil
	}
	x, scid, ok := store.ParseUserSCID(pk.String())
	if !ok {
		return w, false, nil
	}
	w.xuid, w.scid = x, scid
	var err error
	var oldTag string
	if w.before, oldTag, err = values(r.Change.OldImage); err != nil {
		return w, false, err
	}
	if w.after, w.gamertag, err = values(r.Change.NewImage); err != nil {
		return w, false, err
	}
	if w.gamertag == "" {
		w.gamertag = oldTag
	}
	return w, true, nil
}

// values decodes a statistics item's image: its values by stat key and
// its gamertag; an empty image (no item) has none.
func values(image map[string]events.DynamoDBAttributeValue) (map[string]xbl.StatValue, string, error) {
	if len(image) == 0 {
		return nil, "", nil
	}
	var it statstore.StatsItem
	if err := it.UnmarshalDynamoDBAttributeValue(&types.AttributeValueMemberM{Value: convertMap(image)}); err != nil {
		return nil, "", err
	}
	return it.Values(), it.Gamertag, nil
}

func convertMap(m map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = convert(v)
	}
	return out
}

// convert is one attribute value of the stream's event as the SDK's.
func convert(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			out[i] = convert(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: convertMap(v.Map())}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
