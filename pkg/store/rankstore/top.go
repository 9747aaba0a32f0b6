package rankstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// top is a board's top item: its first TopRows entries in board order,
// and whether the rows are all of them. The folds keep it (refreshTop); a
// page from rank 1 of at most leaderboards.MaxItems rows is read from it
// and the coarse counters (for its total), instead of every lane. The
// total is not kept in it: it changes with nearly every fold, and the
// item is some 7 KB a write.
type top struct {
	store.Key
	Rows []topRow `dynamodbav:"r"`
	All  bool     `dynamodbav:"a,omitempty"`
}

// topRow is an entry of a top item: its sort key (the place), value,
// type and gamertag, as an entry item holds them.
type topRow struct {
	SK       string `dynamodbav:"k"`
	Value    string `dynamodbav:"v"`
	Type     string `dynamodbav:"t"`
	Gamertag string `dynamodbav:"g,omitempty"`
}

// entryOf decodes a row.
func (r *topRow) entry() (leaderboards.Entry, error) {
	return decode(map[string]types.AttributeValue{
		"pk": strVal("-"), "sk": strVal(r.SK), "v": strVal(r.Value), "t": strVal(r.Type), "g": strVal(r.Gamertag),
	})
}

// readTop reads b's top item; nil when there is none.
func (s *Store) readTop(ctx context.Context, b *leaderboards.Board, consistent bool, u *xbl.Usage) (*top, error) {
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(s.table.Name),
		Key:                    TopKey(b).AV(),
		ConsistentRead:         aws.Bool(consistent),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, store.CallError(ctx, "get "+s.table.Name, err)
	}
	u.Calls++
	if out.ConsumedCapacity != nil {
		u.ConsumedRCU += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
	}
	if out.Item == nil {
		return nil, nil
	}
	u.Items++
	var t top
	if err := store.Unmarshal(out.Item, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// refreshTop brings b's top item up to date for a fold whose moves
// touched values no worse than best (a value key in hex; anyway when
// unknown): its rows are read again, strongly consistent, when the fold
// touched a value within them or they are the whole board. It reports
// whether it wrote the item.
func (s *Store) refreshTop(ctx context.Context, b *leaderboards.Board, best string, anyway bool) (bool, error) {
	if best == "" && !anyway {
		return false, nil
	}
	if faults.top != nil {
		return false, faults.top
	}
	var u xbl.Usage
	t, err := s.readTop(ctx, b, true, &u)
	if err != nil {
		return false, err
	}
	if !anyway && t != nil && !t.All && len(t.Rows) > 0 && best > t.Rows[len(t.Rows)-1].SK[:16] {
		return false, nil
	}
	es, err := s.lanes(ctx, b, "#sk >= :at", "0", TopRows, true, true, &u)
	if err != nil {
		return false, err
	}
	av, err := store.Marshal(topOf(b, es))
	if err != nil {
		return false, err
	}
	if _, err = s.table.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table.Name), Item: av}); err != nil {
		return false, store.CallError(ctx, "put "+s.table.Name, err)
	}
	return true, nil
}

// topOf returns b's top item holding the first TopRows of es, which are
// in board order and all of the board's first entries.
func topOf(b *leaderboards.Board, es []leaderboards.Entry) *top {
	t := &top{Key: TopKey(b), All: len(es) < TopRows}
	for _, e := range es[:min(len(es), TopRows)] {
		t.Rows = append(t.Rows, topRow{SK: entrySK(b, leaderboards.CursorOf(&e)), Value: e.Value.Value, Type: typeCode(e.Value.Type), Gamertag: e.Gamertag})
	}
	return t
}

// fromTop answers At(r, n) from b's top item when it holds the slice
// (all but its total, which At adds from the counters): ok is false when
// there is no top item or the slice reaches past it.
func (s *Store) fromTop(ctx context.Context, b *leaderboards.Board, r uint32, n int) (*leaderboards.Slice, bool, error) {
	var u xbl.Usage
	t, err := s.readTop(ctx, b, false, &u)
	if err != nil || t == nil {
		return &leaderboards.Slice{Usage: u}, false, err
	}
	all := make([]leaderboards.Entry, len(t.Rows))
	for i := range t.Rows {
		if all[i], err = t.Rows[i].entry(); err != nil {
			return &leaderboards.Slice{Usage: u}, false, err
		}
	}
	i := int(max(r, 1) - 1)
	if i >= len(all) {
		if t.All {
			return &leaderboards.Slice{Usage: u}, true, nil
		}
		return &leaderboards.Slice{Usage: u}, false, nil
	}
	// The slice starts at the first player of the tie at position r.
	i, last := leaderboards.Tie(all, i)
	end := i + n
	if end >= len(all) && !t.All {
		return &leaderboards.Slice{Usage: u}, false, nil // whether more follow is past the rows
	}
	end = min(end, len(all))
	if last == len(all)-1 && !t.All {
		return &leaderboards.Slice{Usage: u}, false, nil // the tie may go on past the rows
	}
	return &leaderboards.Slice{
		Entries: all[i:end], Rank: uint32(i + 1), Ties: uint32(last - i + 1),
		More: end < len(all), Usage: u,
	}, true, nil
}
