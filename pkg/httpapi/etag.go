package httpapi

import (
	"strings"

	"github.com/xblread/xblread/pkg/derrors"
)

// ETags reads the values of the If-Match or If-None-Match header called
// name (a list may come as one comma-separated value or, from the payload
// 2.0 adapter, as several; nil when the header is absent): whether it is
// "*", and its entity tags without the weak prefix and quotes. Empty list
// elements are skipped, as RFC 9110 asks, but a header sent with no element
// at all ("If-Match:" or "If-Match: ,") says nothing a write can be
// conditioned on, and "*" stands alone (RFC 9110: If-Match = "*" /
// #entity-tag): a list mixing "*" with entity tags, or repeating it, is
// malformed. Both are a derrors.Invalid error naming the header, so that a
// conditional write is never taken for an unconditional one.
func ETags(name string, values []string) (any bool, tags []string, err error) {
	elems := 0
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			switch tag = strings.TrimSpace(tag); tag {
			case "":
				continue
			case "*":
				any = true
			default:
				tags = append(tags, unquote(tag))
			}
			elems++
		}
	}
	switch {
	case len(values) > 0 && elems == 0:
		return false, nil, derrors.New(derrors.Invalid, "the %s header is empty: send * or a list of ETags, or leave it out", name)
	case any && elems > 1:
		return false, nil, derrors.New(derrors.Invalid, "the %s header mixes * with other values: * stands alone", name)
	}
	return any, tags, nil
}

// ETagMatches reports whether the header values name etag (quoted or
// bare, weak or strong: a weak comparison) or "*"; a malformed list (see
// ETags) matches nothing.
func ETagMatches(values []string, etag string) bool {
	any, tags, err := ETags("", values)
	if err != nil {
		return false
	}
	etag = unquote(etag)
	for _, t := range tags {
		any = any || t == etag
	}
	return any
}

func unquote(tag string) string {
	return strings.Trim(strings.TrimPrefix(tag, "W/"), `"`)
}
