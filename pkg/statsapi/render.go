package statsapi

import (
	"strconv"
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/derrors"
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
			case c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
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

// render writes the answer to res (the batch form when batch), or refuses
// it when it would not fit in Lambda's response, decided before any of it
// is written: from a bound computed from string lengths alone, and when
// that is not conclusive, from the answer's exact size.
func render(res *stats.Result, batch bool) ([]byte, error) {
	bound, n := boundSize(res)
	if bound > MaxResponseBytes {
		z := answerSize(res, batch)
		if z.envelope > MaxResponseBytes {
			return nil, derrors.New(derrors.Invalid, "the answer would take %d bytes, over the limit of %d: ask for fewer users, SCIDs or stats", z.envelope, MaxResponseBytes)
		}
		n = z.body
	}
	return appendAnswer(make([]byte, 0, n), res, batch), nil
}

// boundSize bounds the answer's size in the response from above without
// reading its strings (no byte of a string takes more than 7 bytes there,
// and no structure around a value more than 64), and estimates the body's
// size as if no string needed escaping.
func boundSize(res *stats.Result) (bound, estimate int) {
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
	return 7*strs + 64*values, strs + 48*values
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

// appendString appends s as a JSON string, exactly as encoding/json writes
// it with HTML escaping off.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			switch {
			case r == '\u2028':
				dst = append(dst, `\u2028`...)
			case r == '\u2029':
				dst = append(dst, `\u2029`...)
			default:
				dst = append(dst, `\ufffd`...)
			}
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendUser appends one user's entry: {"xuid":...,"gamertag":...,"scids":[...]}.
func appendUser(dst []byte, u *stats.UserResult) []byte {
	dst = append(dst, `{"xuid":"`...)
	dst = strconv.AppendUint(dst, uint64(u.XUID), 10)
	dst = append(dst, '"')
	if u.Gamertag != "" {
		dst = append(dst, `,"gamertag":`...)
		dst = appendString(dst, u.Gamertag)
	}
	dst = append(dst, `,"scids":[`...)
	for i, sr := range u.SCIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"scid":`...)
		dst = appendString(dst, sr.SCID)
		dst = append(dst, `,"stats":[`...)
		for j, st := range sr.Stats {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"statname":`...)
			dst = appendString(dst, st.Name)
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, string(st.Value.Type))
			dst = append(dst, `,"value":`...)
			dst = appendString(dst, st.Value.Value)
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, "]}"...)
}

// appendAnswer appends the answer to res as XSAPI reads it: the batch form
// {"users":[...]} when batch, else the single user's entry. xuids and
// values are strings, and every SCID's stats is an array.
func appendAnswer(dst []byte, res *stats.Result, batch bool) []byte {
	if !batch {
		return appendUser(dst, &res.Users[0])
	}
	dst = append(dst, `{"users":[`...)
	for i := range res.Users {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendUser(dst, &res.Users[i])
	}
	return append(dst, "]}"...)
}
