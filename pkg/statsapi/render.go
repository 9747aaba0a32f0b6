package statsapi

import (
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// The answer as XSAPI reads it: xuids and values are strings, and every
// SCID's stats is an array.
type (
	batchJSON struct {
		Users []userJSON `json:"users"`
	}
	userJSON struct {
		XUID     xbl.XUID   `json:"xuid,string"`
		Gamertag string     `json:"gamertag,omitempty"`
		SCIDs    []scidJSON `json:"scids"`
	}
	scidJSON struct {
		SCID  string     `json:"scid"`
		Stats []statJSON `json:"stats"`
	}
	statJSON struct {
		Name  string       `json:"statname"`
		Type  xbl.StatType `json:"type"`
		Value string       `json:"value"`
	}
)

// userOf is one user's entry of the answer.
func userOf(u *stats.UserResult) userJSON {
	out := userJSON{XUID: u.XUID, Gamertag: u.Gamertag, SCIDs: make([]scidJSON, len(u.SCIDs))}
	for i, sr := range u.SCIDs {
		list := make([]statJSON, len(sr.Stats))
		for j, st := range sr.Stats {
			list[j] = statJSON{Name: st.Name, Type: st.Value.Type, Value: st.Value.Value}
		}
		out.SCIDs[i] = scidJSON{SCID: sr.SCID, Stats: list}
	}
	return out
}

// render writes the answer to res (the batch form {"users":[...]} when
// batch, else the single user's entry) with httpapi.Marshal, or refuses it
// when it would not fit in Lambda's response. A bound computed from string
// lengths alone settles most answers; past it, the users' entries are
// written one at a time and measured, so that an answer too large is
// refused without being written whole.
func render(res *stats.Result, batch bool) ([]byte, error) {
	if !batch {
		return fit(httpapi.Marshal(userOf(&res.Users[0])))
	}
	out := batchJSON{Users: make([]userJSON, len(res.Users))}
	for i := range res.Users {
		out.Users[i] = userOf(&res.Users[i])
	}
	if boundSize(res) > httpapi.MaxResponseBytes {
		// {"users":[...]} with its quotes, the two of "users" escaped,
		// and the commas between entries.
		total := len(`{"users":[]}`) + 4 + len(res.Users) - 1
		for i := range out.Users {
			body, err := fit(httpapi.Marshal(out.Users[i]))
			if err != nil {
				return nil, err
			}
			if total += httpapi.EnvelopeSize(body) - 2; total > httpapi.MaxResponseBytes {
				return nil, tooLarge(total)
			}
		}
	}
	return fit(httpapi.Marshal(out))
}

// fit passes body on when it fits in Lambda's response.
func fit(body []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	if n := httpapi.EnvelopeSize(body); n > httpapi.MaxResponseBytes {
		return nil, tooLarge(n)
	}
	return body, nil
}

func tooLarge(n int) error {
	return derrors.New(derrors.Invalid, "the answer would take %d bytes, over the limit of %d: ask for fewer users, SCIDs or stats", n, httpapi.MaxResponseBytes)
}

// boundSize bounds the answer's size in the response from above without
// reading its strings: no byte of a string takes more than 7 bytes there
// (\u0001 escaped again), and no structure around a value more than 64.
func boundSize(res *stats.Result) int {
	strs, values := 0, 1
	for i := range res.Users {
		u := &res.Users[i]
		strs += len(u.Gamertag) + 20
		values += 2
		for _, sr := range u.SCIDs {
			strs += len(sr.SCID)
			values++
			for _, st := range sr.Stats {
				strs += len(st.Name) + len(st.Value.Value) + len(st.Value.Type)
				values++
			}
		}
	}
	return 7*strs + 64*values
}
