package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// MaxJWKSBytes bounds a fetched JWKS document; a larger one is an error.
const MaxJWKSBytes = 1 << 20

// MaxJWKSRedirects bounds the redirects followed when fetching a JWKS
// document; each must stay on the same host.
const MaxJWKSRedirects = 3

// FetchJWKS downloads a JWKS document, within DefaultFetchTimeout (or
// ctx's deadline, if sooner). The URL must be https, or plain http to a
// loopback host (localhost, 127.0.0.0/8, ::1); redirects are followed
// only to the same host, at most MaxJWKSRedirects; a document larger than
// MaxJWKSBytes is an error.
func FetchJWKS(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	return fetchJWKS(ctx, nil, url)
}

// fetchJWKS is FetchJWKS with ctx's deadline, through client's transport
// (nil: http.DefaultTransport).
func fetchJWKS(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	if err := checkFetchURL(u); err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", u.Redacted(), err)
	}
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("fetch JWKS %s: %w", u.Redacted(), err)
	}
	c := &http.Client{CheckRedirect: checkRedirect}
	if client != nil {
		c.Transport = client.Transport
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("status %d", resp.StatusCode))
	}
	if resp.ContentLength > MaxJWKSBytes {
		return fail(fmt.Errorf("document of %d bytes is larger than the limit of %d", resp.ContentLength, MaxJWKSBytes))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return fail(err)
	}
	if len(body) > MaxJWKSBytes {
		return fail(fmt.Errorf("document is larger than the limit of %d bytes", MaxJWKSBytes))
	}
	return body, nil
}

// checkFetchURL allows https URLs, and http ones to a loopback host.
func checkFetchURL(u *url.URL) error {
	if u.Hostname() == "" {
		return errors.New("URL has no host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("URL must be https (plain http only to localhost, 127.0.0.0/8 or ::1)")
	}
	return fmt.Errorf("URL scheme %q is not https", u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkRedirect follows a redirect only to the same host and port, with an
// allowed scheme, at most MaxJWKSRedirects times.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxJWKSRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxJWKSRedirects)
	}
	if err := checkFetchURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s refused: %w", req.URL.Redacted(), err)
	}
	if hostPort(req.URL) != hostPort(via[0].URL) {
		return fmt.Errorf("redirect to another host (%s) refused", req.URL.Host)
	}
	return nil
}

// hostPort is u's host and port, the port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
