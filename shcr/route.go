package shcr

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
)

// route is where one retrieval goes: the provider URL the pointer names
// and the URL actually requested (the same, or the SSP proxy's).
type route struct {
	ep *endpoint
	// target is the provider's URL.
	target *url.URL
	// request is the URL connected to.
	request *url.URL
	// ssp is set when the request goes through the proxy.
	ssp *sspRoute
	// providerASID is the Ssp-To value.
	providerASID string
}

// route checks rawURL against the directory entry of custodian and works
// out where to send the request. Nothing is connected to here: a URL that
// fails the checks never leaves the process.
func (d *Directory) route(custodian shcrkit.ODSCode, rawURL, pointerASID string) (*route, error) {
	ep, ok := d.byODS[custodian]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownCustodian, shcrkit.Redact(string(custodian)))
	}
	if strings.TrimSpace(rawURL) == "" {
		return nil, fmt.Errorf("%w: no content URL", ErrInvalidPointer)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: content URL does not parse", ErrInvalidPointer)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: content URL carries user information", ErrHostNotAllowed)
	}
	u.Fragment, u.RawFragment = "", ""
	switch strings.ToLower(u.Scheme) {
	case "ssp":
		if d.ssp == nil {
			return nil, fmt.Errorf("%w: pointer is retrieved through SSP and no SSP proxy is configured", ErrInvalidPointer)
		}
		target, err := sspTarget(u)
		if err != nil {
			return nil, err
		}
		return d.viaSSP(ep, custodian, target, pointerASID)
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("%w: content URL has no host", ErrInvalidPointer)
		}
		if slices.Contains(ep.origins, originOf(u)) {
			return &route{ep: ep, target: u, request: u}, nil
		}
		// A pointer may already name the proxy with the target encoded in
		// its path; the proxy is as trusted as a directory host.
		if d.ssp != nil && originOf(u) == d.ssp.origin {
			if target, ok := remotehttp.EmbeddedTarget(strings.TrimPrefix(u.EscapedPath(), d.ssp.proxy.EscapedPath())); ok {
				return d.viaSSP(ep, custodian, target, pointerASID)
			}
		}
		return nil, fmt.Errorf("%w: %s is not registered for custodian %s", ErrHostNotAllowed, remotehttp.HostOf(u), custodian)
	default:
		return nil, fmt.Errorf("%w: unsupported URL scheme %q", ErrInvalidPointer, u.Scheme)
	}
}

func (d *Directory) viaSSP(ep *endpoint, custodian shcrkit.ODSCode, target *url.URL, pointerASID string) (*route, error) {
	if !slices.Contains(ep.origins, originOf(target)) {
		return nil, fmt.Errorf("%w: SSP target %s is not registered for custodian %s", ErrHostNotAllowed, remotehttp.HostOf(target), custodian)
	}
	asid := pointerASID
	switch {
	case asid == "":
		asid = ep.ASID
	case ep.ASID != "" && ep.ASID != asid:
		return nil, fmt.Errorf("%w: the pointer's provider ASID differs from the directory's for custodian %s", ErrInvalidPointer, custodian)
	}
	if !remotehttp.IsASID(asid) {
		return nil, fmt.Errorf("%w: SSP retrieval needs the provider's 12-digit ASID", ErrInvalidPointer)
	}
	req, err := url.Parse(d.ssp.proxy.String() + "/" + remotehttp.SSPEscape(target.String()))
	if err != nil {
		return nil, fmt.Errorf("%w: building the SSP URL: %v", ErrInvalidPointer, err)
	}
	return &route{ep: ep, target: target, request: req, ssp: d.ssp, providerASID: asid}, nil
}

// sspTarget turns an ssp:// URL into the provider's https URL. The NRL
// writes it either as the provider's own URL with the ssp scheme
// (ssp://provider/path) or as a proxy URL with the target percent-encoded in
// the path (ssp://proxy/https%3A%2F%2Fprovider%2Fpath).
func sspTarget(u *url.URL) (*url.URL, error) {
	if t, ok := remotehttp.EmbeddedTarget(u.EscapedPath()); ok {
		return t, nil
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: ssp URL has no host", ErrInvalidPointer)
	}
	t := *u
	t.Scheme = "https"
	return &t, nil
}
