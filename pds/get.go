package pds

import (
	"context"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Get retrieves the patient with NHS number nhs.
//
// When nhs has been superseded PDS answers with the surviving record:
// NHSNumber() then differs from nhs, and Superseded() returns nhs.
// A number that was invalidated and not superseded fails with an error
// matching shcrkit.ErrInvalidated (and shcrkit.ErrNotFound); an unknown
// number with one matching shcrkit.ErrNotFound only. A restricted patient
// comes back without address, telecom, contacts and GP, and
// Confidentiality().Restricted() reports it.
func (c *Client) Get(ctx context.Context, nhs shcrkit.NHSNumber) (*Patient, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkNHSNumber(nhs); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, &fhirhttp.Request{Path: patientPath(nhs)})
	if err != nil {
		return nil, err
	}
	return decodePatient(resp, nhs)
}
