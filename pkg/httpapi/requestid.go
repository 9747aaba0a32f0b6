package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// RequestID starts the exchange: it gives the request its id (Lambda's
// request id, or a new one outside Lambda, stored the way Lambda stores it
// so that logs find it either way), sets X-Request-Id and the default
// headers, and records the response's status and size for the middleware
// after it.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := withRequestID(r.Context())
		e := &exchange{ResponseWriter: w, id: id, route: "unmatched", start: time.Now()}
		h := w.Header()
		h.Set(RequestIDHeader, id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(e, r.WithContext(context.WithValue(ctx, exchangeKey{}, e)))
	})
}

// withRequestID returns the request's id: Lambda's request id when running
// in Lambda (or behind xblctl serve), else a new one, which it stores in a
// Lambda context so that logging finds it the same way in both cases.
func withRequestID(ctx context.Context) (context.Context, string) {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return ctx, lc.AwsRequestID
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id}), id
}
