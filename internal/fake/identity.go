package fake

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/shcrkit/shcrkit"
)

// Identities binds bearer tokens to the sessions they were issued for (a
// shcrkit.Session: its Organisation must come with the token as the
// organisation header, its RoleProfileID, when set, as the URID header;
// its ID and IDToken are not used),
// so that a fake refuses a request whose token belongs to another user or
// organisation than its headers say: a client that crosses one user's
// token with another's organisation or role fails its tests. Once a token
// is bound or a resolver set (BindToken, SetTokenIdentities), every request must carry a token the fake
// can place. It is safe for concurrent use; the zero value checks nothing.
type Identities struct {
	// OrganisationHeader and URIDHeader name the headers checked.
	OrganisationHeader, URIDHeader string

	mu      sync.RWMutex
	bound   map[string]shcrkit.Session
	resolve func(token string) (shcrkit.Session, bool)
}

// BindToken records that the access token was issued for id, and turns on
// the identity check: from then on every request must carry a token the
// fake can place, with the organisation (and role, where id names one) of
// the token's user in its headers.
func (i *Identities) BindToken(token string, id shcrkit.Session) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.bound == nil {
		i.bound = make(map[string]shcrkit.Session)
	}
	i.bound[token] = id
}

// SetTokenIdentities sets, on a running server too, a function that
// places the tokens not bound with BindToken (from a token server's
// records, say), and turns on the identity check as BindToken does.
func (i *Identities) SetTokenIdentities(resolve func(token string) (shcrkit.Session, bool)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.resolve = resolve
}

// lookup returns the identity token was issued for, and whether it is
// known.
func (i *Identities) lookup(token string) (shcrkit.Session, bool) {
	i.mu.RLock()
	id, ok := i.bound[token]
	resolve := i.resolve
	i.mu.RUnlock()
	if ok || resolve == nil {
		return id, ok
	}
	return resolve(token)
}

// enabled reports whether anything is to be checked.
func (i *Identities) enabled() bool {
	if i == nil {
		return false
	}
	i.mu.RLock()
	defer i.mu.RUnlock()
	return len(i.bound) > 0 || i.resolve != nil
}

// IdentityError is a request whose headers do not match its token's
// identity. Its text names no token.
type IdentityError struct {
	// Header is the header at fault, or "Authorization" for a token the
	// fake cannot place.
	Header string
	// Problem says what is wrong.
	Problem string
}

func (e *IdentityError) Error() string { return e.Header + ": " + e.Problem }

// check compares the request's identity headers with its bearer token's
// identity.
func (i *Identities) check(r *http.Request) error {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return &IdentityError{Header: "Authorization", Problem: "no bearer token to tie the request to a user"}
	}
	id, ok := i.lookup(tok)
	if !ok {
		return &IdentityError{Header: "Authorization", Problem: "the access token was issued to no known user"}
	}
	if h := i.OrganisationHeader; h != "" {
		if got := r.Header.Get(h); got != string(id.Organisation) {
			return &IdentityError{Header: h, Problem: fmt.Sprintf("%q is not the organisation the access token was issued for", got)}
		}
	}
	if h := i.URIDHeader; h != "" && id.RoleProfileID != "" {
		if got := r.Header.Get(h); got != id.RoleProfileID {
			return &IdentityError{Header: h, Problem: fmt.Sprintf("%q is not the role the access token was issued for", got)}
		}
	}
	return nil
}

func denyIdentity(w http.ResponseWriter, _ *http.Request, err error) {
	WriteOutcome(w, Outcome{Status: http.StatusForbidden, Code: "ACCESS_DENIED",
		Display: "Access Denied", Diagnostics: err.Error()})
}
