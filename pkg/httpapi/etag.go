package httpapi

import "strings"

// ETags reads the values of an If-Match or If-None-Match header (a list
// may come as one comma-separated value or, from the payload 2.0 adapter,
// as several): whether it holds "*", and its entity tags without the weak
// prefix and quotes.
func ETags(values []string) (any bool, tags []string) {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			switch tag = strings.TrimSpace(tag); tag {
			case "":
			case "*":
				any = true
			default:
				tags = append(tags, unquote(tag))
			}
		}
	}
	return any, tags
}

// ETagMatches reports whether the header values name etag (quoted or
// bare, weak or strong: a weak comparison) or "*".
func ETagMatches(values []string, etag string) bool {
	any, tags := ETags(values)
	etag = unquote(etag)
	for _, t := range tags {
		any = any || t == etag
	}
	return any
}

func unquote(tag string) string {
	return strings.Trim(strings.TrimPrefix(tag, "W/"), `"`)
}
