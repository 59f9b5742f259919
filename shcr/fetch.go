package shcr

import (
	"context"
	"fmt"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
)

// FetchRequest is one retrieval by a Remote.
type FetchRequest struct {
	// Requester is who the content is retrieved for: the identity token
	// is built from it. Required.
	Requester shcrkit.Requester
	// Purpose is why; it travels in the identity token.
	Purpose shcrkit.Purpose
	// Pointer says where the content is and what it should be.
	Pointer nrls.Pointer
	// Restricted asks the provider for restricted data too (scope
	// conf/R); only set it when the access decision allowed that.
	Restricted bool
	// Timeout bounds the retrieval (see Remote.Fetch); 0 means none
	// beyond ctx's, unless the endpoint sets its own.
	Timeout time.Duration
}

// Fetch retrieves what req.Pointer points at. Before any connection it
// checks that the pointer's custodian is in the directory, that the URL's
// host is registered for that custodian (or is the SSP proxy) and that the
// content type is one this Remote accepts; a failed check matches
// ErrUnknownCustodian, ErrHostNotAllowed, ErrInvalidPointer or
// ErrUnsupportedContent.
//
// FHIR JSON comes back whole in Content.Resource, a Bundle's pages merged;
// one that names a patient other than the pointer's (a resource's
// subject or patient, a Patient's NHS number, in a Bundle's entries too)
// fails with shcrkit.ErrMalformedResponse and is not handed back.
// Anything else comes back as a stream in Content.Body, which the caller
// must close: until then the request holds one of the endpoint's places
// (Endpoint.Parallelism), and a further Fetch to that endpoint waits for
// one. The timeout covers a FHIR answer entirely and an attachment
// up to its stream being handed back; reading the stream then runs under
// ctx and stops at the size cap.
//
// Fetch neither decides nor audits: use Client.Retrieve for an access that
// must be authorised and recorded.
func (r *Remote) Fetch(ctx context.Context, req FetchRequest) (*Content, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	if err := req.Requester.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, err)
	}
	return r.fetch(ctx, locationOf(req.Pointer), fetchParams{
		requester: req.Requester, purpose: req.Purpose, restricted: req.Restricted, timeout: req.Timeout,
	})
}

// ready fails a call on a Remote not made by NewRemote (nil, or its
// zero value), or with a nil context.
func (r *Remote) ready(ctx context.Context) error {
	return callable(ctx, r != nil && r.dir != nil, "shcr.Remote was not made by NewRemote")
}

// Check makes Fetch's checks for p without connecting anywhere: nil means
// p may be retrieved.
func (r *Remote) Check(p nrls.Pointer) error {
	if err := r.ready(context.Background()); err != nil {
		return err
	}
	_, _, err := r.check(locationOf(p))
	return err
}

func locationOf(p nrls.Pointer) location {
	loc := location{id: p.ID, custodian: p.Custodian, url: p.URL, contentType: p.ContentType, asid: p.ProviderASID}
	if p.NHSNumber.Valid() {
		loc.patient = p.NHSNumber
	}
	return loc
}
