package leaderboards

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/xblread/xblread/pkg/xbl"
)

// randomValue is an Integer or a Double across their whole ranges, with
// the edges (0, -0, the extremes, equal values of both types) often.
func randomValue(r *rand.Rand) xbl.StatValue {
	edges := []xbl.StatValue{
		{Type: xbl.Integer, Value: "0"}, {Type: xbl.Double, Value: "-0"}, {Type: xbl.Double, Value: "0"},
		{Type: xbl.Integer, Value: "7"}, {Type: xbl.Double, Value: "7"}, {Type: xbl.Double, Value: "6.999999999999999"},
		{Type: xbl.Integer, Value: strconv.FormatInt(math.MaxInt64, 10)}, {Type: xbl.Integer, Value: strconv.FormatInt(math.MinInt64, 10)},
		{Type: xbl.Double, Value: "1.7976931348623157e+308"}, {Type: xbl.Double, Value: "-1.7976931348623157e+308"},
		{Type: xbl.Double, Value: "5e-324"}, {Type: xbl.Double, Value: "-5e-324"},
	}
	switch r.IntN(4) {
	case 0:
		return edges[r.IntN(len(edges))]
	case 1:
		return xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(r.Int64()-r.Int64(), 10)}
	case 2:
		return xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(r.IntN(50) - 10)}
	}
	f := math.Float64frombits(r.Uint64())
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = r.NormFloat64() * 1000
	}
	return xbl.StatValue{Type: xbl.Double, Value: strconv.FormatFloat(f, 'g', -1, 64)}
}

// TestKeySortsAsCompare: for places on both kinds of boards, the bytes of
// Key sort exactly as Compare orders the places.
func TestKeySortsAsCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, asc := range []bool{false, true} {
		b := &Board{SCID: "s", Leaderboard: xbl.Leaderboard{Stat: "S", Ascending: asc}}
		for range 200000 {
			a := Cursor{Value: randomValue(r), XUID: xbl.XUID(r.Uint64N(4))}
			c := Cursor{Value: randomValue(r), XUID: xbl.XUID(r.Uint64N(4))}
			ka, kc := b.Key(a), b.Key(c)
			if got, want := bytes.Compare(ka[:], kc[:]), b.Compare(a, c); got != want {
				t.Fatalf("ascending %v: %+v vs %+v: keys compare %d, places %d", asc, a, c, got, want)
			}
		}
	}
}

// FuzzKey: the same for any two numbers.
func FuzzKey(f *testing.F) {
	f.Add(int64(0), 0.0, false, uint64(1), uint64(2))
	f.Add(int64(-1), math.Copysign(0, -1), true, uint64(2), uint64(1))
	f.Fuzz(func(t *testing.T, n int64, d float64, asc bool, x, y uint64) {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return
		}
		b := &Board{Leaderboard: xbl.Leaderboard{Ascending: asc}}
		a := Cursor{Value: xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(n, 10)}, XUID: xbl.XUID(x)}
		c := Cursor{Value: xbl.StatValue{Type: xbl.Double, Value: strconv.FormatFloat(d, 'g', -1, 64)}, XUID: xbl.XUID(y)}
		ka, kc := b.Key(a), b.Key(c)
		if got, want := bytes.Compare(ka[:], kc[:]), b.Compare(a, c); got != want {
			t.Fatalf("%+v vs %+v: keys %d, places %d", a, c, got, want)
		}
	})
}
