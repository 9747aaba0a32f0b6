package localapi

import (
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Fixed request context values of the local API.
const (
	accountID  = "000000000000"
	apiID      = "local"
	stage      = "$default"
	timeLayout = "02/Jan/2006:15:04:05 -0700"
)

// NewEvent builds the payload 2.0 event API Gateway's HTTP API sends for r,
// matched to route with the given path parameters: header names lower-cased
// and repeated headers comma-joined, cookies apart, the path percent-decoded
// (as the HTTP API sends rawPath), the raw query string as sent, query
// parameters decoded, and the body base64-encoded
// unless it is text.
func NewEvent(r *http.Request, body []byte, routeKey string, params map[string]string, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for name, vals := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(vals, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	if r.ContentLength > 0 || len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	headers["x-forwarded-proto"] = "http"

	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers["x-forwarded-for"] = sourceIP

	// The HTTP API hands rawPath (and requestContext.http.path) percent-
	// decoded, whatever the client sent: so does the stand-in, so that
	// tests see what Lambda sees.
	rawPath := r.URL.Path
	e := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParams(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    accountID,
			Stage:        stage,
			RequestID:    requestID,
			APIID:        apiID,
			DomainName:   hostOnly(r.Host),
			DomainPrefix: strings.SplitN(hostOnly(r.Host), ".", 2)[0],
			Time:         now.UTC().Format(timeLayout),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			e.Body = string(body)
		} else {
			e.Body = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
	}
	return e
}

// queryParams decodes a raw query string as API Gateway does: repeated
// names comma-joined, values %-decoded ('+' stays a plus).
func queryParams(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		if old, ok := out[k]; ok {
			out[k] = old + "," + v
		} else {
			out[k] = v
		}
	}
	return out
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	if host == "" {
		return "localhost"
	}
	return host
}

// isText reports whether a body of this content type is passed as text.
func isText(contentType string, body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}
