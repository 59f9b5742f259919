package shcr

import (
	"context"
	"fmt"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// session is the identity every call of a journey carries: the
// requester's user, organisation and role, with the session ID and CIS2
// ID token of the session in ctx, if any. It is refused, before any call,
// when the context's session is another user's, organisation's or role's,
// or when the PDS or NRL client is fixed to another organisation or role
// than the requester's.
func (c *Client) session(ctx context.Context, r shcrkit.Requester) (shcrkit.Session, error) {
	if r.RoleProfileID == "" || (shcrkit.Session{RoleProfileID: r.RoleProfileID}).Validate() != nil {
		return shcrkit.Session{}, fmt.Errorf("%w: %w: RoleProfileID must be 1 to 20 digits, as NHSD-Session-URID carries it",
			shcrkit.ErrInvalidRequest, shcrkit.ErrInvalidRequester)
	}
	s, _ := shcrkit.SessionFrom(ctx)
	const fromCtx = "the session in the context (shcrkit.WithSession)"
	pdsID, nrlID := fhirhttp.Of(c.pds).Config().Identity, fhirhttp.Of(c.nrl).Config().Identity
	for _, f := range []struct{ field, want, got, source string }{
		{"user", r.UserID, s.UserID, fromCtx},
		{"organisation", string(r.Organisation), string(s.Organisation), fromCtx},
		{"role profile ID", r.RoleProfileID, s.RoleProfileID, fromCtx},
		{"organisation", string(r.Organisation), string(pdsID.Organisation), "the PDS client's WithEndUserOrganisation"},
		{"role profile ID", r.RoleProfileID, pdsID.URID, "the PDS client's WithSessionURID"},
		{"organisation", string(r.Organisation), string(nrlID.Organisation), "the NRL client's WithEndUserOrganisation"},
	} {
		if f.got != "" && f.got != f.want {
			return shcrkit.Session{}, &shcrkit.IdentityMismatchError{Field: f.field, Want: f.want, Got: f.got, Source: f.source}
		}
	}
	s.UserID, s.Organisation, s.RoleProfileID = r.UserID, r.Organisation, r.RoleProfileID
	if err := s.Validate(); err != nil {
		return shcrkit.Session{}, fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, err)
	}
	return s, nil
}
