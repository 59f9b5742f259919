package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

// corsPolicy says which browser origins may call the sandbox.
type corsPolicy struct {
	loopback bool            // any http(s) origin on a loopback host
	origins  map[string]bool // exact origins
}

// parseCORS reads the -cors flag: "loopback" (the default: any page
// served from a loopback address), "none", or a comma-separated list of
// origins such as http://localhost:3000, to which "loopback" may be added.
func parseCORS(s string) (corsPolicy, error) {
	p := corsPolicy{origins: map[string]bool{}}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "", "none":
		case "loopback":
			p.loopback = true
		default:
			u, err := url.Parse(part)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return p, errors.New("-cors: " + part + " is not an origin (scheme://host[:port])")
			}
			p.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
		}
	}
	return p, nil
}

func (p corsPolicy) allows(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	if p.origins[strings.ToLower(origin)] {
		return true
	}
	if !p.loopback {
		return false
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && cli.IsLoopbackHost(u.Hostname())
}

// exposed are the answer headers a browser app may read.
const exposed = "ETag, Location, Content-Location, X-Request-ID, X-Correlation-ID, Retry-After, WWW-Authenticate"

// cors answers preflights for allowed origins itself (never with 401: a
// preflight carries no credentials) and marks allowed origins' answers
// readable. Requests from other origins are served without CORS headers,
// so the browser keeps their answers from the page.
func cors(p corsPolicy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := p.allows(origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h.Set("Access-Control-Allow-Headers", req)
				}
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", exposed)
		}
		next.ServeHTTP(w, r)
	})
}
