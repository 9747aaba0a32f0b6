package statsapi

import (
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/stats"
)

// MaxResponseBytes bounds what an answer may take inside Lambda's response,
// whose limit is 6 MB: the body as the payload 2.0 response carries it, a
// JSON string (its quotes escaped again), with room left for the headers.
const MaxResponseBytes = 6_000_000

// size is the length of an answer's body and of the same body as a JSON
// string inside the Lambda response.
type size struct{ body, envelope int }

func (s *size) add(o size) { s.body += o.body; s.envelope += o.envelope }

// literal is the size of JSON text that needs no escaping but its quotes.
func literal(text string) size {
	s := size{body: len(text), envelope: len(text)}
	for i := 0; i < len(text); i++ {
		if text[i] == '"' {
			s.envelope++
		}
	}
	return s
}

// quoted is the size of s written as a JSON string, as writeJSON writes it,
// and of that text inside the response, which aws-lambda-go encodes as
// encoding/json does with HTML escaping off (its default): quotes and
// backslashes escaped, U+2028 and U+2029 too.
func quoted(s string) size {
	z := size{body: 2, envelope: 4} // the quotes: "" then \"\"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				z.body, z.envelope = z.body+2, z.envelope+4
			case c == '\n' || c == '\r' || c == '\t':
				z.body, z.envelope = z.body+2, z.envelope+3
			case c < 0x20:
				z.body, z.envelope = z.body+6, z.envelope+7
			default:
				z.body, z.envelope = z.body+1, z.envelope+1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, r == '\u2028', r == '\u2029':
			z.body, z.envelope = z.body+6, z.envelope+7
		default:
			z.body, z.envelope = z.body+n, z.envelope+n
		}
		i += n
	}
	return z
}

// Structure of the answer, as userJSON and friends write it.
var (
	userOpen    = literal(`{"xuid":`)
	gamertagKey = literal(`,"gamertag":`)
	scidsOpen   = literal(`,"scids":[`)
	closeArrObj = literal(`]}`)
	scidOpen    = literal(`{"scid":`)
	statsOpen   = literal(`,"stats":[`)
	statOpen    = literal(`{"statname":`)
	typeKey     = literal(`,"type":`)
	valueKey    = literal(`,"value":`)
	closeObj    = literal(`}`)
	comma       = literal(`,`)
	batchOpen   = literal(`{"users":[`)
	batchClose  = literal(`]}`)
)

// userSize is the size of one user's entry.
func userSize(u *stats.UserResult) size {
	var z size
	z.add(userOpen)
	z.add(quoted(u.XUID.String()))
	if u.Gamertag != "" {
		z.add(gamertagKey)
		z.add(quoted(u.Gamertag))
	}
	z.add(scidsOpen)
	for i, sr := range u.SCIDs {
		if i > 0 {
			z.add(comma)
		}
		z.add(scidOpen)
		z.add(quoted(sr.SCID))
		z.add(statsOpen)
		for j, st := range sr.Stats {
			if j > 0 {
				z.add(comma)
			}
			z.add(statOpen)
			z.add(quoted(st.Name))
			z.add(typeKey)
			z.add(quoted(string(st.Value.Type)))
			z.add(valueKey)
			z.add(quoted(st.Value.Value))
			z.add(closeObj)
		}
		z.add(closeArrObj)
	}
	z.add(closeArrObj)
	return z
}

// answerSize is the size of the answer to res: the batch form when batch,
// else the single user's.
func answerSize(res *stats.Result, batch bool) size {
	z := size{envelope: 2} // the quotes of the body as a JSON string
	if !batch {
		z.add(userSize(&res.Users[0]))
		return z
	}
	z.add(batchOpen)
	for i := range res.Users {
		if i > 0 {
			z.add(comma)
		}
		z.add(userSize(&res.Users[i]))
	}
	z.add(batchClose)
	return z
}
