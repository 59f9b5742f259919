package shcrkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Errors of per-call identity.
var (
	// ErrNoSession: the call needs a user's session (a user-restricted
	// token source, or a service that needs the end-user organisation)
	// and neither the context nor the client's defaults supply it.
	ErrNoSession = errors.New("shcrkit: no session for the call")
)

// Session is one signed-in professional's session in the calling
// application: the identity an SDK call carries on their behalf. One
// application serves many sessions at once, from many organisations, over
// the same clients: the session travels with each call in its context
// (WithSession), never in the client.
//
// The fields a call carries are the end-user organisation
// (NHSD-End-User-Organisation-ODS), the user role ID (NHSD-Session-URID)
// and, in user-restricted mode, the user's access token, which a
// SessionTokenSource (auth.SessionTokens) finds or obtains for the
// session's key. A client's own options (WithEndUserOrganisation,
// WithSessionURID) are application-level defaults: they fill in what a
// session leaves empty, and a session that contradicts them is refused
// with an *IdentityMismatchError.
type Session struct {
	// ID is the application's identifier of the session (an opaque value,
	// not the session cookie itself). With the user, organisation and
	// role it keys per-session state such as the user's tokens, so that
	// a new sign-in under the same user gets state of its own.
	ID string
	// UserID is the SDS user ID of the professional.
	UserID string
	// Organisation is the ODS code of the organisation the user acts for:
	// the end-user organisation.
	Organisation ODSCode
	// RoleProfileID is the SDS user role ID (URID) of the role selected
	// for the session, sent as NHSD-Session-URID. Digits only.
	RoleProfileID string
	// IDToken is the CIS2 ID token of the session, which a user-restricted
	// token source exchanges for the user's access token. It is a secret:
	// it is never logged or put in an error.
	IDToken string
}

// Validate checks that the fields that are set are well formed: an ODS
// code, a role profile ID of at most 20 digits, single-line IDs. It
// returns an error matching ErrInvalidRequester: a session is the
// requester's, and a malformed one is refused like a malformed requester.
func (s Session) Validate() error {
	var problems []string
	if s.Organisation != "" && !s.Organisation.Valid() {
		problems = append(problems, "Organisation is not a valid ODS code")
	}
	if s.RoleProfileID != "" && !validURID(s.RoleProfileID) {
		problems = append(problems, "RoleProfileID must be 1 to 20 digits")
	}
	if strings.ContainsAny(s.ID+s.UserID+s.IDToken, "\r\n\x00") {
		problems = append(problems, "ID, UserID and IDToken must be single-line")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: session: %s", ErrInvalidRequester, strings.Join(problems, "; "))
	}
	return nil
}

// LogValue implements slog.LogValuer: the user, role and organisation,
// never the ID token.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", s.UserID),
		slog.String("role", s.RoleProfileID),
		slog.String("org", string(s.Organisation)),
	)
}

// String describes the session without its ID token.
func (s Session) String() string {
	return fmt.Sprintf("session(user %q, role %q, org %q)", s.UserID, s.RoleProfileID, string(s.Organisation))
}

// GoString is String, so that %#v does not print the ID token either.
func (s Session) GoString() string { return s.String() }

// sessionKey is the context key of the session.
type sessionKey struct{}

// WithSession returns a context whose SDK calls are made for session s:
// pds, nrls and shcr take the end-user organisation, the session's role
// and (through a SessionTokenSource) the user's access token from it.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session set by WithSession, and whether there is
// one.
func SessionFrom(ctx context.Context) (Session, bool) {
	if ctx == nil {
		return Session{}, false
	}
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// SessionTokenSource supplies the access token of each session: the
// user-restricted token source of an application that serves many users
// (auth.SessionTokens is one). Clients given one as their token source
// ask it for the token of each call's session.
type SessionTokenSource interface {
	// SessionToken returns the access token of session s.
	SessionToken(ctx context.Context, s Session) (string, error)
	// InvalidateSessionToken drops s's cached access token if it is
	// accessToken, after a service refused it (401).
	InvalidateSessionToken(s Session, accessToken string)
}

// IdentityMismatchError is a call refused before anything was sent
// because two sources of its identity disagree (a client fixed to one
// organisation used for another's user, say). It matches
// ErrInvalidRequest.
type IdentityMismatchError struct {
	// Field is what disagrees: "organisation", "role profile ID" or
	// "user".
	Field string
	// Want is the value the call's identity carries (the requester's or
	// the session's); Got is the one that contradicts it (the client's
	// fixed value, or a session's).
	Want, Got string
	// Source names where Got comes from ("the PDS client's
	// WithEndUserOrganisation", say).
	Source string
}

func (e *IdentityMismatchError) Error() string {
	return fmt.Sprintf("shcrkit: identity mismatch: the call is for %s %q but %s says %q; refused before any request",
		e.Field, Redact(e.Want), e.Source, Redact(e.Got))
}

// Unwrap matches ErrInvalidRequest.
func (e *IdentityMismatchError) Unwrap() error { return ErrInvalidRequest }

// validURID reports whether s is a user role ID as NHSD-Session-URID
// carries it: 1 to 20 digits.
func validURID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
