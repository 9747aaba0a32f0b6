package leaderboardsapi

// A port, for tests, of how XSAPI (the 2025 GDK release of Microsoft's
// client library) reads a leaderboard answer: its leaderboard result, row
// and column parsers over RapidJSON, and the copy of each row into the C
// structure a game reads. Written from the rules, not from its code.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// jkind is the type of a JSON value.
type jkind int

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jv is a JSON value as RapidJSON holds it: numbers keep their literal
// (RapidJSON types a number by how it is written), objects keep every
// member in order, duplicates included.
type jv struct {
	kind jkind
	str  string // a string's text, or a number's literal
	arr  []*jv
	keys []string
	vals []*jv
}

// member is RapidJSON's FindMember: the first member of that name.
func (v *jv) member(name string) (*jv, bool) {
	if v.kind != jObject {
		return nil, false
	}
	for i, k := range v.keys {
		if k == name {
			return v.vals[i], true
		}
	}
	return nil, false
}

// rjNumber is how RapidJSON's reader types a number literal: with a
// fraction or an exponent it is a double; an integer is a double only
// when it does not fit 64 bits (above 2^64-1, below -2^63); IsInt is an
// integer within int32, IsUint one within uint32. A literal whose double
// overflows is a parse error.
type rjNumber struct {
	isDouble, isInt, isUint bool
	f                       float64
	i                       int64 // when isInt
	u                       uint32
}

func parseNumber(lit string) (rjNumber, error) {
	var n rjNumber
	f, err := strconv.ParseFloat(lit, 64)
	if math.IsInf(f, 0) {
		return n, fmt.Errorf("number %s is too big (RapidJSON kParseErrorNumberTooBig)", lit)
	}
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return n, fmt.Errorf("number %q: %v", lit, err)
	}
	n.f = f
	if strings.ContainsAny(lit, ".eE") {
		n.isDouble = true
		return n, nil
	}
	b, ok := new(big.Int).SetString(lit, 10)
	if !ok {
		return n, fmt.Errorf("number %q is not an integer", lit)
	}
	maxU64 := new(big.Int).SetUint64(math.MaxUint64)
	minI64 := big.NewInt(math.MinInt64)
	if b.Cmp(maxU64) > 0 || b.Cmp(minI64) < 0 {
		n.isDouble = true
		return n, nil
	}
	if b.IsInt64() && b.Int64() >= math.MinInt32 && b.Int64() <= math.MaxInt32 {
		n.isInt, n.i = true, b.Int64()
	}
	if b.Sign() >= 0 && b.IsUint64() && b.Uint64() <= math.MaxUint32 {
		n.isUint, n.u = true, uint32(b.Uint64())
	}
	return n, nil
}

// decodeRapid reads body as HttpCall::GetResponseBodyJson does: the body
// is a C string (it ends at the first NUL byte), one JSON value with only
// whitespace after it; any parse error makes the document null.
func decodeRapid(body []byte) (*jv, error) {
	if i := bytes.IndexByte(body, 0); i >= 0 {
		body = body[:i]
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeValue(dec)
	switch {
	case err == io.EOF && len(bytes.TrimSpace(body)) == 0:
		return nil, errors.New("empty body")
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the root value (RapidJSON: root not singular)")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (*jv, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jv{kind: jNull}, nil
	case bool:
		return &jv{kind: jBool}, nil
	case json.Number:
		if _, err := parseNumber(string(t)); err != nil {
			return nil, err
		}
		return &jv{kind: jNumber, str: string(t)}, nil
	case string:
		return &jv{kind: jString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jv{kind: jArray}
			for dec.More() {
				e, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token()
			return v, err
		case '{':
			v := &jv{kind: jObject}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				e, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k.(string))
				v.vals = append(v.vals, e)
			}
			_, err := dec.Token()
			return v, err
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// cstr is a string as the client's std::string holds it when built from
// RapidJSON's GetString(): up to the first NUL.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// strtoull is C's strtoull(s, nullptr, 0), which XSAPI reads xuids with:
// leading space, a sign (a minus negates modulo 2^64), base 16 after 0x,
// 8 after a leading 0, else 10; the longest prefix of digits; ULLONG_MAX
// on overflow.
func strtoull(s string) uint64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && strings.ContainsRune("0123456789abcdefABCDEF", rune(s[2])):
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var n uint64
	over := false
digits:
	for _, c := range []byte(s) {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'z':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'Z':
			d = uint64(c-'A') + 10
		default:
			d = 99
		}
		if d >= base {
			break digits
		}
		if n > (math.MaxUint64-d)/base {
			over = true
		}
		n = n*base + d
	}
	if over {
		return math.MaxUint64
	}
	if neg {
		n = -n
	}
	return n
}

// The sizes of XblLeaderboardRow's gamertag buffers (Include/xsapi-c/
// types_c.h), the terminator included: a longer string does not fit.
var gamertagBuffers = []struct {
	key  string
	size int
}{
	{"gamertag", 48},              // XBL_GAMERTAG_CHAR_SIZE, 16*3
	{"moderngamertag", 97},        // XBL_MODERN_GAMERTAG_CHAR_SIZE, (12+12)*4+1
	{"moderngamertagsuffix", 15},  // XBL_MODERN_GAMERTAG_SUFFIX_CHAR_SIZE, 14+1
	{"uniquemoderngamertag", 101}, // XBL_UNIQUE_MODERN_GAMERTAG_CHAR_SIZE, 97+1+3
}

// parsed is what the client reads from an answer.
type parsed struct {
	ContinuationToken string // "" when there is no next page
	PagingNull        bool   // pagingInfo was null
	TotalCount        uint32
	Columns           []parsedColumn
	Rows              []parsedRow
	// Misreads are where the client reads something other than what the
	// answer wrote, without failing: a xuid that is not canonical decimal
	// (strtoull reads 0123 as octal, "" and null as 0), a value that is
	// not a string (read as ""), a string with a NUL (cut there).
	Misreads []string
}

type parsedColumn struct {
	StatName string
	Type     string // Integer, Double, String or Other
}

type parsedRow struct {
	Gamertag, ModernGamertag, ModernGamertagSuffix, UniqueModernGamertag string

	XUID           uint64
	Percentile     float64
	PercentileText string // the literal
	Rank           uint32 // int32 cast, as the client does
	GlobalRank     uint32
	Values         []string
	Metadata       string
}

// xsapiParse reads body as XSAPI's LeaderboardResult::Deserialize and the
// copy into XblLeaderboardRow do, and fails exactly where the client's
// call fails (WEB_E_INVALID_JSON_STRING), or where copying a gamertag
// overflows its buffer (strcpy_s: the GDK's invalid-parameter handler
// ends the game; strlcpy elsewhere cuts it).
func xsapiParse(body []byte) (*parsed, error) {
	root, err := decodeRapid(body)
	if err != nil {
		return nil, fmt.Errorf("$: not JSON RapidJSON parses: %v", err)
	}
	if root.kind != jObject {
		return nil, fmt.Errorf("$: not an object")
	}
	p := &parsed{}

	paging, ok := root.member("pagingInfo")
	if !ok {
		return nil, fmt.Errorf("$.pagingInfo: missing")
	}
	if paging.kind == jNull {
		p.PagingNull = true
	} else {
		if paging.kind != jObject {
			return nil, fmt.Errorf("$.pagingInfo: %s is not an object or null", show(paging))
		}
		tok, err := optString(paging, "continuationToken", "$.pagingInfo")
		if err != nil {
			return nil, err
		}
		p.ContinuationToken = p.cut("$.pagingInfo.continuationToken", tok)
	}

	info, ok := root.member("leaderboardInfo")
	if !ok {
		return nil, fmt.Errorf("$.leaderboardInfo: missing")
	}
	if info.kind != jObject {
		return nil, fmt.Errorf("$.leaderboardInfo: not an object")
	}
	if tc, ok := info.member("totalCount"); ok {
		n, _ := parseNumber(tc.str)
		if tc.kind != jNumber || !n.isUint {
			return nil, fmt.Errorf("$.leaderboardInfo.totalCount: %s is not an unsigned 32-bit integer (IsUint)", show(tc))
		}
		p.TotalCount = n.u
	}
	if def, ok := info.member("columnDefinition"); ok {
		c, err := p.column(def, "$.leaderboardInfo.columnDefinition")
		if err != nil {
			return nil, err
		}
		p.Columns = append(p.Columns, c)
	} else if cols, ok := info.member("columns"); ok && cols.kind == jArray {
		for i, cj := range cols.arr {
			c, err := p.column(cj, fmt.Sprintf("$.leaderboardInfo.columns[%d]", i))
			if err != nil {
				return nil, err
			}
			p.Columns = append(p.Columns, c)
		}
	} else {
		return nil, fmt.Errorf("$.leaderboardInfo.columns: %s, not an array (and no columnDefinition)", showMember(info, "columns"))
	}

	users, ok := root.member("userList")
	switch {
	case ok && users.kind == jArray:
		for i, rj := range users.arr {
			r, err := p.row(rj, fmt.Sprintf("$.userList[%d]", i))
			if err != nil {
				return nil, err
			}
			p.Rows = append(p.Rows, r)
		}
	case hasMember(root, "leaderboard"):
		// The client accepts an answer with a "leaderboard" member in
		// place of userList, as one without rows.
	default:
		return nil, fmt.Errorf("$.userList: %s, not an array", showMember(root, "userList"))
	}
	return p, nil
}

func hasMember(v *jv, name string) bool { _, ok := v.member(name); return ok }

// optString is JsonUtils::ExtractJsonString with required false: obj must
// be an object; the member may be absent, a string or null.
func optString(obj *jv, key, path string) (string, error) {
	if obj.kind != jObject {
		return "", fmt.Errorf("%s: not an object (reading %s)", path, key)
	}
	v, ok := obj.member(key)
	if !ok || v.kind == jNull {
		return "", nil
	}
	if v.kind != jString {
		return "", fmt.Errorf("%s.%s: not a string or null", path, key)
	}
	return v.str, nil
}

// reqString is ExtractJsonString with required true: the member must be
// there, a string or null.
func reqString(obj *jv, key, path string) (string, error) {
	if obj.kind != jObject {
		return "", fmt.Errorf("%s: not an object (reading %s)", path, key)
	}
	if !hasMember(obj, key) {
		return "", fmt.Errorf("%s.%s: missing", path, key)
	}
	return optString(obj, key, path)
}

// cut records a misread when s holds a NUL and returns what the client
// keeps.
func (p *parsed) cut(path, s string) string {
	c := cstr(s)
	if c != s {
		p.Misreads = append(p.Misreads, path+": holds a NUL; the client cuts the string there")
	}
	return c
}

func (p *parsed) column(v *jv, path string) (parsedColumn, error) {
	name, err := reqString(v, "statName", path)
	if err != nil {
		return parsedColumn{}, err
	}
	typ, err := reqString(v, "type", path)
	if err != nil {
		return parsedColumn{}, err
	}
	c := parsedColumn{StatName: p.cut(path+".statName", name), Type: "Other"}
	for _, t := range []string{"Integer", "Double", "String"} {
		if strings.EqualFold(cstr(typ), t) {
			c.Type = t
		}
	}
	return c, nil
}

func (p *parsed) row(v *jv, path string) (parsedRow, error) {
	var r parsedRow
	dst := []*string{&r.Gamertag, &r.ModernGamertag, &r.ModernGamertagSuffix, &r.UniqueModernGamertag}
	for i, b := range gamertagBuffers {
		s, err := reqString(v, b.key, path)
		if err != nil {
			return r, err
		}
		*dst[i] = p.cut(path+"."+b.key, s)
	}

	xs, err := reqString(v, "xuid", path)
	if err != nil {
		return r, err
	}
	xs = p.cut(path+".xuid", xs)
	r.XUID = strtoull(xs)
	if r.XUID == 0 || strconv.FormatUint(r.XUID, 10) != xs {
		p.Misreads = append(p.Misreads, fmt.Sprintf("%s.xuid: %q is read as %d (strtoull, base 0)", path, xs, r.XUID))
	}

	pv, ok := v.member("percentile")
	if !ok {
		return r, fmt.Errorf("%s.percentile: missing", path)
	}
	pn, _ := parseNumber(pv.str)
	if pv.kind != jNumber || !pn.isDouble {
		return r, fmt.Errorf("%s.percentile: %s is not a number written as a double (IsDouble)", path, show(pv))
	}
	r.Percentile, r.PercentileText = pn.f, pv.str

	rv, ok := v.member("rank")
	if !ok {
		return r, fmt.Errorf("%s.rank: missing", path)
	}
	rn, _ := parseNumber(rv.str)
	if rv.kind != jNumber || !rn.isInt {
		return r, fmt.Errorf("%s.rank: %s is not a 32-bit integer (IsInt)", path, show(rv))
	}
	r.Rank = uint32(int32(rn.i))

	if gv, ok := v.member("globalrank"); ok && gv.kind != jNull {
		gn, _ := parseNumber(gv.str)
		if gv.kind != jNumber || !gn.isInt {
			return r, fmt.Errorf("%s.globalrank: %s is not a 32-bit integer (IsInt)", path, show(gv))
		}
		r.GlobalRank = uint32(int32(gn.i))
	}

	if vv, ok := v.member("value"); ok && vv.kind != jNull {
		s := ""
		if vv.kind == jString {
			s = p.cut(path+".value", vv.str)
		} else {
			p.Misreads = append(p.Misreads, fmt.Sprintf("%s.value: %s is not a string; the client reads \"\"", path, show(vv)))
		}
		r.Values = []string{s}
	} else {
		vs, ok := v.member("values")
		if !ok || vs.kind != jArray {
			return r, fmt.Errorf("%s.value: %s, and values: %s, not an array", path, showMember(v, "value"), showMember(v, "values"))
		}
		for i, e := range vs.arr {
			if e.kind != jString {
				return r, fmt.Errorf("%s.values[%d]: not a string", path, i)
			}
			r.Values = append(r.Values, p.cut(fmt.Sprintf("%s.values[%d]", path, i), e.str))
		}
	}

	md, err := optString(v, "valuemetadata", path)
	if err != nil {
		return r, err
	}
	r.Metadata = p.cut(path+".valuemetadata", md)

	// LeaderboardRow::Serialize copies the gamertags into fixed buffers.
	for i, b := range gamertagBuffers {
		if len(*dst[i])+1 > b.size {
			return r, fmt.Errorf("%s.%s: %d bytes do not fit the client's %d-byte buffer", path, b.key, len(*dst[i]), b.size)
		}
	}
	return r, nil
}

// showMember is obj's member key in an error message.
func showMember(obj *jv, key string) string {
	if v, ok := obj.member(key); ok {
		return show(v)
	}
	return "missing"
}

// show is a value in an error message.
func show(v *jv) string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return v.str
	case jString:
		return strconv.Quote(v.str)
	case jArray:
		return "an array"
	}
	return "an object"
}

// goodRow is a row the client reads, with one member replaced by each
// pair of repl (a value of "-" removes the member).
func goodRow(repl ...string) string {
	members := [][2]string{
		{"gamertag", `"WarriorSaint"`}, {"moderngamertag", `"WarriorSaint"`},
		{"moderngamertagsuffix", `""`}, {"uniquemoderngamertag", `"WarriorSaint"`},
		{"xuid", `"2533274792693551"`}, {"percentile", `0.5`}, {"rank", `1`},
		{"globalrank", `1`}, {"value", `"9001"`},
	}
	for i := 0; i+1 < len(repl); i += 2 {
		found := false
		for j := range members {
			if members[j][0] == repl[i] {
				members[j][1] = repl[i+1]
				found = true
			}
		}
		if !found {
			members = append(members, [2]string{repl[i], repl[i+1]})
		}
	}
	var b strings.Builder
	b.WriteString("{")
	first := true
	for _, m := range members {
		if m[1] == "-" {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", m[0], m[1])
	}
	b.WriteString("}")
	return b.String()
}

// answer is a whole answer with the given parts.
func answer(paging, info, users string) string {
	var parts []string
	if paging != "-" {
		parts = append(parts, `"pagingInfo":`+paging)
	}
	if info != "-" {
		parts = append(parts, `"leaderboardInfo":`+info)
	}
	if users != "-" {
		parts = append(parts, `"userList":`+users)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

const (
	goodPaging = `{"continuationToken":"6","totalItems":1843}`
	goodInfo   = `{"totalCount":1843,"columns":[{"statName":"Jumps","type":"Integer"}]}`
)

func goodUsers(rows ...string) string {
	if len(rows) == 0 {
		rows = []string{goodRow()}
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// TestXSAPIParseGood: answers the client reads, and what it reads.
func TestXSAPIParseGood(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(*parsed) string // "" when right
	}{
		{"the documented sample", answer(goodPaging, goodInfo, goodUsers()), func(p *parsed) string {
			r := p.Rows[0]
			if p.ContinuationToken != "6" || p.TotalCount != 1843 || p.Columns[0] != (parsedColumn{"Jumps", "Integer"}) ||
				r.XUID != 2533274792693551 || r.Rank != 1 || r.GlobalRank != 1 || r.Percentile != 0.5 || r.Values[0] != "9001" || r.Gamertag != "WarriorSaint" {
				return fmt.Sprintf("%+v", p)
			}
			return ""
		}},
		{"pagingInfo null", answer(`null`, goodInfo, goodUsers()), func(p *parsed) string {
			if !p.PagingNull || p.ContinuationToken != "" {
				return "want no next page"
			}
			return ""
		}},
		{"pagingInfo without a token", answer(`{}`, goodInfo, goodUsers()), nil},
		{"continuationToken null", answer(`{"continuationToken":null}`, goodInfo, goodUsers()), nil},
		{"no totalCount", answer(`null`, `{"columns":[]}`, `[]`), nil},
		{"totalCount at 2^32-1", answer(`null`, `{"totalCount":4294967295,"columns":[]}`, `[]`), nil},
		{"column names null, type unknown", answer(`null`, `{"columns":[{"statName":null,"type":"float"},{"statName":"T","type":"double"}]}`, `[]`), func(p *parsed) string {
			if p.Columns[0].Type != "Other" || p.Columns[1].Type != "Double" {
				return fmt.Sprint(p.Columns)
			}
			return ""
		}},
		{"columnDefinition wins over columns", answer(`null`, `{"columnDefinition":{"statName":"E","type":"String"},"columns":7}`, `[]`), nil},
		{"leaderboard in place of userList", `{"pagingInfo":null,"leaderboardInfo":` + goodInfo + `,"leaderboard":1}`, nil},
		{"gamertags null", answer(`null`, goodInfo, goodUsers(goodRow("gamertag", "null", "moderngamertag", "null", "moderngamertagsuffix", "null", "uniquemoderngamertag", "null"))), nil},
		{"gamertags filling their buffers", answer(`null`, goodInfo, goodUsers(goodRow(
			"gamertag", strconv.Quote(strings.Repeat("g", 47)), "moderngamertag", strconv.Quote(strings.Repeat("m", 96)),
			"moderngamertagsuffix", strconv.Quote(strings.Repeat("s", 14)), "uniquemoderngamertag", strconv.Quote(strings.Repeat("u", 100))))), nil},
		{"percentile forms", answer(`null`, goodInfo, goodUsers(goodRow("percentile", "1.0"), goodRow("percentile", "0.0"), goodRow("percentile", "1e0"), goodRow("percentile", "-2E-3"),
			goodRow("percentile", "18446744073709551616"), goodRow("percentile", "-9223372036854775809"))), nil},
		{"rank extremes and globalrank null or absent", answer(`null`, goodInfo, goodUsers(goodRow("rank", "2147483647", "globalrank", "null"), goodRow("rank", "-1", "globalrank", "-"))), func(p *parsed) string {
			if p.Rows[1].Rank != math.MaxUint32 {
				return "rank -1 is read as 2^32-1"
			}
			return ""
		}},
		{"values in place of value", answer(`null`, goodInfo, goodUsers(goodRow("value", "-", "values", `["1","x"]`), goodRow("value", "null", "values", `[]`))), nil},
		{"valuemetadata string or null", answer(`null`, goodInfo, goodUsers(goodRow("valuemetadata", `"{\"Kills\": 11}"`), goodRow("valuemetadata", "null"))), nil},
		{"duplicate member: the first counts", `{"pagingInfo":null,"pagingInfo":5,"leaderboardInfo":` + goodInfo + `,"userList":[` + strings.Replace(goodRow(), `"rank":1`, `"rank":2,"rank":"x"`, 1) + `]}`, func(p *parsed) string {
			if !p.PagingNull || p.Rows[0].Rank != 2 {
				return fmt.Sprintf("%+v", p)
			}
			return ""
		}},
		{"NUL ends the body", answer(`null`, goodInfo, goodUsers()) + "\x00garbage", nil},
		{"whitespace around", " \n" + answer(`null`, goodInfo, goodUsers()) + "\t\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := xsapiParse([]byte(tt.body))
			if err != nil {
				t.Fatalf("%v\n%s", err, tt.body)
			}
			if len(p.Misreads) != 0 {
				t.Errorf("misreads %v", p.Misreads)
			}
			if tt.check != nil {
				if msg := tt.check(p); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestXSAPIParseMisreads: answers the client reads without failing, but
// not as written.
func TestXSAPIParseMisreads(t *testing.T) {
	for _, tt := range []struct {
		name, row, want string
		xuid            uint64
	}{
		{"octal xuid", goodRow("xuid", `"0123"`), "read as 83", 83},
		{"hex xuid", goodRow("xuid", `"0x1F"`), "read as 31", 31},
		{"xuid with letters", goodRow("xuid", `"12ab"`), "read as 12", 12},
		{"xuid null", goodRow("xuid", `null`), "read as 0", 0},
		{"xuid past 2^64", goodRow("xuid", `"18446744073709551616"`), "read as 18446744073709551615", math.MaxUint64},
		{"negative xuid", goodRow("xuid", `"-1"`), "read as 18446744073709551615", math.MaxUint64},
		{"number value", goodRow("value", `9001`), `value: 9001 is not a string`, 2533274792693551},
		{"NUL in a gamertag", goodRow("gamertag", `"a\u0000b"`), "holds a NUL", 2533274792693551},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := xsapiParse([]byte(answer(`null`, goodInfo, goodUsers(tt.row))))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Misreads) != 1 || !strings.Contains(p.Misreads[0], tt.want) || p.Rows[0].XUID != tt.xuid {
				t.Errorf("misreads %q, xuid %d; want %q, %d", p.Misreads, p.Rows[0].XUID, tt.want, tt.xuid)
			}
		})
	}
}

// TestXSAPIParseBad: answers that fail the client's call, each for its
// own reason.
func TestXSAPIParseBad(t *testing.T) {
	row := func(repl ...string) string { return answer(`null`, goodInfo, goodUsers(goodRow(), goodRow(repl...))) }
	tests := []struct {
		name, body, want string
	}{
		{"empty", ``, "not JSON RapidJSON parses: empty body"},
		{"not JSON", `{"pagingInfo":`, "not JSON RapidJSON parses: unexpected EOF"},
		{"trailing data", answer(`null`, goodInfo, `[]`) + `{}`, "root not singular"},
		{"number past a double", answer(`null`, `{"columns":[],"x":1e400}`, `[]`), "too big"},
		{"root array", `[` + answer(`null`, goodInfo, `[]`) + `]`, "$: not an object"},
		{"pagingInfo missing", answer(`-`, goodInfo, goodUsers()), "$.pagingInfo: missing"},
		{"pagingInfo a string", answer(`"6"`, goodInfo, goodUsers()), `$.pagingInfo: "6" is not an object or null`},
		{"pagingInfo an array", answer(`[]`, goodInfo, goodUsers()), "$.pagingInfo: an array is not an object or null"},
		{"continuationToken a number", answer(`{"continuationToken":6}`, goodInfo, goodUsers()), "continuationToken: not a string"},
		{"leaderboardInfo missing", answer(`null`, `-`, goodUsers()), "$.leaderboardInfo: missing"},
		{"leaderboardInfo null", answer(`null`, `null`, goodUsers()), "$.leaderboardInfo: not an object"},
		{"totalCount a string", answer(`null`, `{"totalCount":"1843","columns":[]}`, `[]`), "totalCount"},
		{"totalCount negative", answer(`null`, `{"totalCount":-1,"columns":[]}`, `[]`), "totalCount"},
		{"totalCount past 32 bits", answer(`null`, `{"totalCount":4294967296,"columns":[]}`, `[]`), "totalCount"},
		{"totalCount a double", answer(`null`, `{"totalCount":1.0,"columns":[]}`, `[]`), "totalCount"},
		{"totalCount null", answer(`null`, `{"totalCount":null,"columns":[]}`, `[]`), "totalCount"},
		{"columns missing", answer(`null`, `{"totalCount":1}`, `[]`), "columns: missing, not an array"},
		{"columns an object", answer(`null`, `{"columns":{"statName":"J","type":"Integer"}}`, `[]`), "columns: an object, not an array"},
		{"column not an object", answer(`null`, `{"columns":["Jumps"]}`, `[]`), "columns[0]: not an object"},
		{"column statName a number", answer(`null`, `{"columns":[{"statName":1,"type":"Integer"}]}`, `[]`), "columns[0].statName: not a string"},
		{"column type missing", answer(`null`, `{"columns":[{"statName":"J"}]}`, `[]`), "columns[0].type: missing"},
		{"columnDefinition not an object", answer(`null`, `{"columnDefinition":[],"columns":[]}`, `[]`), "columnDefinition: not an object"},
		{"userList missing", answer(`null`, goodInfo, `-`), "$.userList: missing, not an array"},
		{"userList null", answer(`null`, goodInfo, `null`), "$.userList: null, not an array"},
		{"row not an object", answer(`null`, goodInfo, `[1]`), "$.userList[0]: not an object"},
		{"gamertag missing", row("gamertag", "-"), "userList[1].gamertag: missing"},
		{"moderngamertag missing", row("moderngamertag", "-"), "userList[1].moderngamertag: missing"},
		{"moderngamertagsuffix missing", row("moderngamertagsuffix", "-"), "userList[1].moderngamertagsuffix: missing"},
		{"uniquemoderngamertag missing", row("uniquemoderngamertag", "-"), "userList[1].uniquemoderngamertag: missing"},
		{"gamertag a number", row("gamertag", "5"), "userList[1].gamertag: not a string"},
		{"xuid a number", row("xuid", "2533274792693551"), "userList[1].xuid: not a string"},
		{"xuid missing", row("xuid", "-"), "userList[1].xuid: missing"},
		{"percentile written 1", row("percentile", "1"), "percentile: 1 is not a number written as a double"},
		{"percentile written 0", row("percentile", "0"), "percentile: 0 is not"},
		{"percentile a string", row("percentile", `"0.5"`), `percentile: "0.5" is not`},
		{"percentile null", row("percentile", "null"), "percentile: null is not"},
		{"percentile missing", row("percentile", "-"), "percentile: missing"},
		{"rank null", row("rank", "null"), "rank: null is not a 32-bit integer"},
		{"rank a double", row("rank", "1.0"), "rank: 1.0 is not"},
		{"rank past int32", row("rank", "2147483648"), "rank: 2147483648 is not"},
		{"rank a string", row("rank", `"1"`), `rank: "1" is not`},
		{"rank missing", row("rank", "-"), "rank: missing"},
		{"globalrank a double", row("globalrank", "1.5"), "globalrank: 1.5 is not"},
		{"value null, no values", row("value", "null"), "value: null, and values: missing"},
		{"no value, values not an array", row("value", "-", "values", `"9001"`), `value: missing, and values: "9001", not an array`},
		{"values holding a number", row("value", "-", "values", `["1",2]`), "values[1]: not a string"},
		{"valuemetadata an object", row("valuemetadata", `{"Kills":11}`), "valuemetadata: not a string"},
		{"gamertag 48 bytes", row("gamertag", strconv.Quote(strings.Repeat("g", 48))), "gamertag: 48 bytes do not fit the client's 48-byte"},
		{"moderngamertag 97 bytes", row("moderngamertag", strconv.Quote(strings.Repeat("m", 97))), "moderngamertag: 97 bytes do not fit"},
		{"moderngamertagsuffix 15 bytes", row("moderngamertagsuffix", strconv.Quote(strings.Repeat("s", 15))), "moderngamertagsuffix: 15 bytes do not fit"},
		{"uniquemoderngamertag 101 bytes", row("uniquemoderngamertag", strconv.Quote(strings.Repeat("u", 101))), "uniquemoderngamertag: 101 bytes do not fit"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := xsapiParse([]byte(tt.body))
			if err == nil {
				t.Fatalf("accepted: %+v\n%s", p, tt.body)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
			if other, ok := seen[err.Error()]; ok {
				t.Errorf("fails as %q does: %v", other, err)
			}
			seen[err.Error()] = tt.name
		})
	}
}
