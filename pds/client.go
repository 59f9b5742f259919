package pds

import (
	"context"
	"fmt"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// Client is a PDS FHIR R4 client. It is safe for concurrent use.
//
// Every request carries a fresh X-Request-ID (or the one set with
// shcrkit.WithRequestID), kept on retries so that the service can
// de-duplicate them, and the X-Correlation-ID set with
// shcrkit.WithCorrelationID.
type Client struct {
	handle // for the SDK's own packages (shcr), through fhirhttp.Of
	http   *fhirhttp.Client
	mode   AccessMode
}

// handle names the embedded fhirhttp.Handle so that the field is
// unexported.
type handle = fhirhttp.Handle

// NewClient returns a client for the service rooted at baseURL, e.g.
// https://int.api.service.nhs.uk/personal-demographics/FHIR/R4.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	var o options
	id := fhirhttp.Identity{OrganisationHeader: fhirhttp.HeaderEndUserOrganisation, URIDHeader: fhirhttp.HeaderSessionURID, Service: "PDS"}
	hc, err := fhirhttp.Build(baseURL, id, &o, &o.cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Client{handle: fhirhttp.NewHandle(hc), http: hc, mode: o.mode}, nil
}

// patientPath is the path of a patient resource; nhs must be valid.
func patientPath(nhs shcrkit.NHSNumber) string { return "/Patient/" + nhs.String() }

// checkNHSNumber refuses a number that could only earn a 400
// INVALID_RESOURCE_ID.
func checkNHSNumber(nhs shcrkit.NHSNumber) error {
	if !nhs.Valid() {
		return nhsNumberError("NHS number")
	}
	return nil
}

// ready fails a call that cannot go ahead: on a Client not made by
// NewClient (nil, or its zero value), or on a nil or cancelled context.
func (c *Client) ready(ctx context.Context) error {
	if c == nil || c.http == nil {
		return fmt.Errorf("%w: the pds.Client was not made by NewClient", shcrkit.ErrInvalidOption)
	}
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	return ctx.Err()
}
