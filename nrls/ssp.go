package nrls

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// SSPInteractionRead is the Ssp-InteractionID of retrieving a record an
// NRL pointer leads to.
const SSPInteractionRead = "urn:nhs:names:services:nrl:DocumentReference.content.read"

// ErrInvalidSSP is matched by the errors of the SSP helpers for a pointer
// that is not retrieved through the Spine Secure Proxy and for bad input:
// a malformed proxy base, ASID or trace ID.
var ErrInvalidSSP = errors.New("nrls: invalid SSP request")

// errNotSSP is the error for a pointer that is not retrieved through the
// Spine Secure Proxy.
var errNotSSP = fmt.Errorf("%w: the pointer is not retrieved through the Spine Secure Proxy", ErrInvalidSSP)

// SSPURL returns the address of the record through the Spine Secure Proxy
// at proxyBase: the pointer's ssp:// URL turned into https://,
// percent-encoded whole and put after the proxy's address, as in
// https://proxy.example/https%3A%2F%2Fprovider.example%2Frecord.
func (p Pointer) SSPURL(proxyBase string) (string, error) {
	if !hasScheme(p.URL, "ssp") {
		return "", errNotSSP
	}
	target := "https" + p.URL[len("ssp"):]
	if !validURL(target) {
		return "", fmt.Errorf("%w: the pointer URL is not an absolute URL", ErrInvalidSSP)
	}
	base, err := url.Parse(strings.TrimSpace(proxyBase))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.RawQuery != "" || base.ForceQuery || base.Fragment != "" {
		return "", fmt.Errorf("%w: proxy base must be an absolute http(s) URL without query", ErrInvalidSSP)
	}
	return strings.TrimRight(base.String(), "/") + "/" + percentEncodeAll(target), nil
}

// percentEncodeAll escapes every byte but the RFC 3986 unreserved ones, so
// that ':' and '/' of the embedded URL become %3A and %2F.
func percentEncodeAll(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// SSPHeaders returns the Spine Secure Proxy headers of a retrieval of the
// pointer's record: Ssp-TraceID (traceID, or a fresh UUID when empty: keep
// it for the audit trail), Ssp-From (the consumer system's ASID), Ssp-To
// (the provider's ASID from the pointer) and Ssp-InteractionID
// (interactionID, or SSPInteractionRead when empty).
func (p Pointer) SSPHeaders(consumerASID, traceID, interactionID string) (http.Header, error) {
	if !p.IsSSP() {
		return nil, errNotSSP
	}
	if !asidPattern.MatchString(consumerASID) {
		return nil, fmt.Errorf("%w: consumer ASID must be 12 digits", ErrInvalidSSP)
	}
	if !asidPattern.MatchString(p.ProviderASID) {
		return nil, fmt.Errorf("%w: the pointer carries no 12-digit provider ASID in context.related", ErrInvalidSSP)
	}
	if traceID == "" {
		traceID = uuid.NewString()
	} else if _, err := uuid.Parse(traceID); err != nil {
		return nil, fmt.Errorf("%w: trace ID must be a UUID", ErrInvalidSSP)
	}
	if interactionID == "" {
		interactionID = SSPInteractionRead
	} else if strings.ContainsAny(interactionID, "\r\n") {
		return nil, fmt.Errorf("%w: interaction ID must be one line", ErrInvalidSSP)
	}
	h := make(http.Header, 4)
	h.Set("Ssp-TraceID", traceID)
	h.Set("Ssp-From", consumerASID)
	h.Set("Ssp-To", p.ProviderASID)
	h.Set("Ssp-InteractionID", interactionID)
	return h, nil
}
