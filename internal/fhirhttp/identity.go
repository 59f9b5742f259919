package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// Headers of the NHS API platform that carry a call's end-user identity.
const (
	// HeaderEndUserOrganisation carries the ODS code of the end user's
	// organisation.
	HeaderEndUserOrganisation = "NHSD-End-User-Organisation-ODS"
	// HeaderSessionURID carries the user role ID (URID) of the session.
	HeaderSessionURID = "NHSD-Session-URID"
)

// Identity says which headers carry a call's end-user identity and what the
// client's defaults are. The identity of each call comes from the session
// in its context (shcrkit.WithSession); the defaults fill in what the
// session leaves empty, and a session that contradicts a default is
// refused before anything is sent.
type Identity struct {
	// OrganisationHeader carries the end-user organisation; "" sends none.
	OrganisationHeader string
	// URIDHeader carries the session's user role ID; "" sends none.
	URIDHeader string
	// Organisation is the client's fixed organisation, or "".
	Organisation shcrkit.ODSCode
	// URID is the client's fixed user role ID, or "".
	URID string
	// RequireOrganisation refuses a call that ends up with no
	// organisation, as a service that requires the header would.
	RequireOrganisation bool
	// Service names the client in errors ("PDS", "NRL").
	Service string
}

// SetOrganisation sets the client's default end-user organisation.
func (c *Config) SetOrganisation(ods shcrkit.ODSCode) error {
	if !ods.Valid() {
		return fmt.Errorf("%w: end-user organisation is not a valid ODS code", ErrInvalidOption)
	}
	c.Identity.Organisation = ods
	return nil
}

// SetURID sets the client's default session user role ID: 1 to 20 digits.
func (c *Config) SetURID(urid string) error {
	if urid == "" || (shcrkit.Session{RoleProfileID: urid}).Validate() != nil {
		return fmt.Errorf("%w: session URID must be 1 to 20 digits", ErrInvalidOption)
	}
	c.Identity.URID = urid
	return nil
}

// callIdentity is the identity one call carries.
type callIdentity struct {
	session    shcrkit.Session
	hasSession bool
}

// identity works out the identity of a call from its context and the
// client's defaults.
func (c *Client) identity(ctx context.Context) (callIdentity, error) {
	id := c.cfg.Identity
	s, ok := shcrkit.SessionFrom(ctx)
	if ok {
		if err := s.Validate(); err != nil {
			return callIdentity{}, fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, err)
		}
		if id.Organisation != "" && s.Organisation != "" && s.Organisation != id.Organisation {
			return callIdentity{}, &shcrkit.IdentityMismatchError{Field: "organisation",
				Want: string(s.Organisation), Got: string(id.Organisation), Source: c.source("WithEndUserOrganisation")}
		}
		if id.URID != "" && s.RoleProfileID != "" && s.RoleProfileID != id.URID {
			return callIdentity{}, &shcrkit.IdentityMismatchError{Field: "role profile ID",
				Want: s.RoleProfileID, Got: id.URID, Source: c.source("WithSessionURID")}
		}
	}
	if s.Organisation == "" {
		s.Organisation = id.Organisation
	}
	if s.RoleProfileID == "" {
		s.RoleProfileID = id.URID
	}
	if id.RequireOrganisation && s.Organisation == "" {
		return callIdentity{}, fmt.Errorf("%w: %w: the %s needs the end-user organisation: set it on the call's session (shcrkit.WithSession) or as the client's default (WithEndUserOrganisation)",
			shcrkit.ErrInvalidRequest, shcrkit.ErrNoSession, c.serviceName())
	}
	return callIdentity{session: s, hasSession: ok}, nil
}

// setIdentityHeaders puts the identity headers on h, replacing any the
// request carried under whatever spelling.
func (c *Client) setIdentityHeaders(h http.Header, ci callIdentity) {
	id := c.cfg.Identity
	put := func(name, value string) {
		if name == "" {
			return
		}
		for k := range h {
			if strings.EqualFold(k, name) {
				delete(h, k)
			}
		}
		if value != "" {
			h.Set(name, value)
		}
	}
	put(id.OrganisationHeader, string(ci.session.Organisation))
	put(id.URIDHeader, ci.session.RoleProfileID)
}

// accessToken returns the Authorization header of a call and its access
// token: the session's from a shcrkit.SessionTokenSource, or the
// application's.
func (c *Client) accessToken(ctx context.Context, ci callIdentity) (header, token string, err error) {
	if sts, ok := c.cfg.TokenSource.(shcrkit.SessionTokenSource); ok {
		if !ci.hasSession {
			return "", "", fmt.Errorf("%w: a user-restricted token source needs the call's session (shcrkit.WithSession)", shcrkit.ErrNoSession)
		}
		tok, err := sts.SessionToken(ctx, ci.session)
		if err != nil {
			return "", "", err
		}
		if tok == "" {
			return "", "", errors.New("the session's token source returned no access token")
		}
		return "Bearer " + tok, tok, nil
	}
	tok, err := c.cfg.TokenSource.Token()
	if err != nil {
		return "", "", err
	}
	if tok == nil || tok.AccessToken == "" {
		return "", "", errors.New("the token source returned no access token")
	}
	return tok.Type() + " " + tok.AccessToken, tok.AccessToken, nil
}

// invalidate drops a token the service refused, from the session's cache
// or the application's.
func (c *Client) invalidate(ci callIdentity, accessToken string) {
	if sts, ok := c.cfg.TokenSource.(shcrkit.SessionTokenSource); ok {
		if ci.hasSession {
			sts.InvalidateSessionToken(ci.session, accessToken)
		}
		return
	}
	if inv, ok := c.cfg.TokenSource.(TokenInvalidator); ok {
		inv.Invalidate(accessToken)
	}
}

func (c *Client) serviceName() string {
	if c.cfg.Identity.Service != "" {
		return c.cfg.Identity.Service
	}
	return "service"
}

func (c *Client) source(option string) string {
	return "the " + c.serviceName() + " client's " + option
}

// CallSession returns the identity a call made with ctx would carry: the
// context's session with the client's defaults filled in, or the error
// that would refuse the call.
func (c *Client) CallSession(ctx context.Context) (shcrkit.Session, error) {
	ci, err := c.identity(ctx)
	return ci.session, err
}
