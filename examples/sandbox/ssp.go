package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
	"github.com/shcrkit/shcrkit/internal/fake"
)

// serveSSP is the world's Spine Secure Proxy at <sandbox>/ssp/<target>:
// the target is a regional ShCR's URL at the sandbox's address, written
// as is or percent-encoded (an ssp:// pointer's URL with https or http in
// place of ssp). The sandbox hands the request to the fake proxy with the
// region's own address as the target; the proxy checks the Ssp-* headers
// and forwards with its client certificate, and the region checks the
// identity token in Authorization against its address at the sandbox.
func (s *sandbox) serveSSP(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), sspPrefix)
	dec, err := url.PathUnescape(raw)
	if err == nil && r.URL.RawQuery != "" {
		dec += "?" + r.URL.RawQuery // the query of a target written as is
	}
	target, perr := url.Parse(dec)
	if err != nil || perr != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" || target.User != nil {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_REQUEST",
			Diagnostics: "the path after /ssp/ must be a ShCR URL at this sandbox, e.g. /ssp/https://127.0.0.1:8700/shcr/RFC/fhir/records/RFC-000004"})
		return
	}
	rg, rest, ok := s.regionAt(r, target)
	if !ok {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusForbidden, Code: "ACCESS_DENIED",
			Diagnostics: "the target is not a registered provider endpoint: a regional ShCR at this sandbox's address"})
		return
	}
	internal := strings.TrimSuffix(rg.server.URL, shcrRoot) + rest
	if target.RawQuery != "" {
		internal += "?" + target.RawQuery
	}
	proxy, err := url.Parse(s.world.Proxy.URL)
	if err != nil {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusInternalServerError, Code: "INTERNAL_SERVER_ERROR"})
		return
	}
	origin := fake.CalledOrigin(r)
	scheme, host, _ := strings.Cut(origin, "://")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: proxy.Scheme, Host: proxy.Host})
			pr.Out.URL.Path = "/" + internal
			pr.Out.URL.RawPath = "/" + strings.ReplaceAll(url.QueryEscape(internal), "+", "%20")
			pr.Out.URL.RawQuery = ""
			pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			pr.Out.Header.Set("X-Forwarded-Host", host)
			pr.Out.Header.Set("X-Forwarded-Prefix", rg.prefix)
			pr.Out.Header.Del("Origin")
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadGateway, Code: "UNABLE_TO_CALL_SERVICE",
				Diagnostics: "the proxy did not answer"})
		},
	}
	rp.ServeHTTP(w, r)
}

// regionAt finds the region a target URL names: at a loopback host on the
// port the tester called, under /shcr/<ODS>/. rest is the path at the
// region, from its service root on.
func (s *sandbox) regionAt(r *http.Request, target *url.URL) (region, string, bool) {
	_, called, _ := strings.Cut(fake.CalledOrigin(r), "://")
	if !strings.EqualFold(target.Host, called) && !(samePort(target.Host, called) && cli.IsLoopbackHost(target.Hostname())) {
		return region{}, "", false
	}
	p, ok := strings.CutPrefix(target.Path, shcrPrefix)
	if !ok {
		return region{}, "", false
	}
	ods, rest, _ := strings.Cut(p, "/")
	rg, found := s.region(shcrkit.ODSCode(ods))
	if !found || strings.Contains(rest, "..") {
		return region{}, "", false
	}
	return rg, "/" + rest, true
}

func samePort(a, b string) bool {
	_, pa, errA := net.SplitHostPort(a)
	_, pb, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && pa == pb
}
