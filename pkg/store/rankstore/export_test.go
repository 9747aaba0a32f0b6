package rankstore

import (
	"context"

	"github.com/xblread/xblread/pkg/leaderboards"
)

// SetFaults makes every Apply stop before folding (skipFold) and every
// fold that writes parts stop after writing them with afterParts (nil
// for none), until restore is called.
func SetFaults(skipFold bool, afterParts error) (restore func()) {
	old := faults
	faults.skipFold, faults.afterParts = skipFold, afterParts
	return func() { faults = old }
}

// SetTopFault makes every refresh of a top item fail with err until
// restore is called.
func SetTopFault(err error) (restore func()) {
	old := faults.top
	faults.top = err
	return func() { faults.top = old }
}

// Acquire takes b's lease for me (acquire).
func (s *Store) Acquire(ctx context.Context, b *leaderboards.Board, me string) (bool, error) {
	return s.acquire(ctx, b, me)
}

// LeaseHolder returns the holder of b's lease, "" for none.
func (s *Store) LeaseHolder(ctx context.Context, b *leaderboards.Board) (string, error) {
	l, err := s.readLease(ctx, b)
	if l.Until < s.now().UnixMilli() {
		return "", err
	}
	return l.Owner, err
}
