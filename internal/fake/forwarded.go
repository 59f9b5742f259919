package fake

import (
	"net/http"
	"strings"
)

// CalledOrigin returns the scheme and host the client called, e.g.
// http://127.0.0.1:8700, so that the links a fake writes lead back the way
// the client came: X-Forwarded-Proto and X-Forwarded-Host when a reverse
// proxy in front of the fake set them (the first value of each), else the
// request's own Host and TLS state.
func CalledOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Host"))); validHost(h) {
		host = h
	}
	return scheme + "://" + host
}

// ForwardedPrefix returns the path prefix a reverse proxy stripped before
// passing the request on (X-Forwarded-Prefix), "" when there is none or it
// is not a clean absolute path.
func ForwardedPrefix(r *http.Request) string {
	p := strings.TrimSuffix(firstValue(r.Header.Get("X-Forwarded-Prefix")), "/")
	if p == "" || p[0] != '/' || strings.ContainsAny(p, "?#\\ \t") || strings.Contains(p, "..") || strings.Contains(p, "//") {
		return ""
	}
	return p
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// validHost accepts host[:port] made of the characters a host name, an IP
// address or a bracketed IPv6 address can hold.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}
