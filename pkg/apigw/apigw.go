// Package apigw is the adapter of rta.Poster over API Gateway's WebSocket
// management API: POST and DELETE of /@connections/{id} on the API's
// endpoint (https://{api-id}.execute-api.{region}.amazonaws.com/{stage}),
// signed with SigV4 for the execute-api service.
//
// It is written by hand over aws-sdk-go-v2's signer because the SDK's
// apigatewaymanagementapi client is not among the modules this project
// can fetch; the two calls it needs are one signed request each.
package apigw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/rta"
)

var _ rta.Poster = (*Poster)(nil)

// Poster posts to and closes the connections of one WebSocket API.
type Poster struct {
	Endpoint    string // the API stage's URL, without a trailing slash
	Region      string
	Credentials aws.CredentialsProvider // nil sends unsigned requests (the local stand-in)
	HTTP        *http.Client            // http.DefaultClient when nil
}

// Post implements rta.Poster: one POST /@connections/{id}; 410 is
// rta.ErrGone.
func (p *Poster) Post(ctx context.Context, id string, msg []byte) error {
	return p.call(ctx, http.MethodPost, id, msg)
}

// Close ends connection id: one DELETE /@connections/{id} (a gone one is
// not an error).
func (p *Poster) Close(ctx context.Context, id string) error {
	if err := p.call(ctx, http.MethodDelete, id, nil); err != nil && err != rta.ErrGone {
		return err
	}
	return nil
}

func (p *Poster) call(ctx context.Context, method, id string, body []byte) error {
	u := strings.TrimSuffix(p.Endpoint, "/") + "/@connections/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if p.Credentials != nil {
		creds, err := p.Credentials.Retrieve(ctx)
		if err != nil {
			return derrors.Wrap(derrors.Unavailable, "the connection could not be reached", err)
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", p.Region, time.Now()); err != nil {
			return err
		}
	}
	hc := p.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return derrors.Wrap(derrors.Unavailable, "the connection could not be reached", err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode == http.StatusGone:
		return rta.ErrGone
	case resp.StatusCode >= 300:
		return derrors.Wrap(derrors.Unavailable, "the connection could not be reached", fmt.Errorf("%s /@connections/%s: %d %s", method, id, resp.StatusCode, text))
	}
	return nil
}
