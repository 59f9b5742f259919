package shcr_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
)

// multiOrgs are the organisations of the local shared care record in the
// many-users test: the world's two and eight more.
var multiOrgs = []shcrkit.ODSCode{"Y90001", "RX1", "RX2", "RX3", "RX4", "RX5", "RX6", "RX7", "RX8", "RX9"}

// multiOrgPolicy is the world's policy with every organisation of
// multiOrgs a member of the local shared care record.
func multiOrgPolicy(t testing.TB) *rbac.Policy {
	t.Helper()
	src := string(samplepolicy.WorldYAML())
	const anchor = "    - ods: RX1\n      name: Riverside Hospitals NHS Foundation Trust\n"
	require.Contains(t, src, anchor)
	var more strings.Builder
	for _, org := range multiOrgs[2:] {
		fmt.Fprintf(&more, "    - ods: %s\n      name: Riverside site %s\n", org, org)
	}
	src = strings.Replace(src, anchor, anchor+more.String(), 1)
	p, err := rbac.LoadPolicy(strings.NewReader(src))
	require.NoError(t, err)
	return p
}

// user is one professional of the many-users test.
type user struct {
	req     shcrkit.Requester
	session shcrkit.Session
	records bool // runs the whole journey rather than discovery
}

// TestManyUsersOneApplication runs 1,000 professionals of 10 organisations
// at once through one application's PDS and NRL clients and one journey
// client, each with a user-restricted token of their own obtained by CIS2
// token exchange, and checks from what the fakes recorded that every
// request carried its own user's token, organisation and role, and no
// other's. The fakes refuse a crossed request (403), and every identity
// token a regional ShCR received names the user and organisation of the
// journey it belongs to.
func TestManyUsersOneApplication(t *testing.T) {
	const (
		inFlight = 64 // users' calls in flight at once
		every    = 25 // every 25th user runs the whole journey, retrieval included
	)
	// A thousand users; under the race detector, which slows every call
	// ten-fold, 250: still four times as many as are in flight at once.
	users := 1000
	if raceEnabled {
		users = 250
	}
	w := newWorld(t)
	policy := multiOrgPolicy(t)

	key, err := w.Tokens.RegisterClient()
	require.NoError(t, err)
	sessions, err := auth.NewSessionTokenExchange(auth.SessionExchangeConfig{SignedJWTConfig: key})
	require.NoError(t, err)

	cis2Key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	all := make([]user, users)
	bySubject := make(map[string]*user, users)
	for i := range all {
		r := w.Requester
		r.UserID = fmt.Sprintf("5551%08d", i)
		r.Name = fmt.Sprintf("Dr Test User %d", i)
		r.RoleProfileID = fmt.Sprintf("6661%08d", i)
		r.Organisation = multiOrgs[i%len(multiOrgs)]
		r.OrganisationName = "Riverside site " + string(r.Organisation)
		idToken := cis2IDToken(t, cis2Key, r.UserID, time.Now())
		all[i] = user{req: r, session: shcrkit.Session{ID: fmt.Sprintf("session-%04d", i), UserID: r.UserID, Organisation: r.Organisation, RoleProfileID: r.RoleProfileID, IDToken: idToken}, records: i%every == 0}
		bySubject[r.UserID] = &all[i]
	}
	// The fakes know whose each token is, and refuse it with another
	// user's organisation or role.
	resolve := func(tok string) (shcrkit.Session, bool) {
		info, err := w.Tokens.Introspect(tok)
		if err != nil {
			return shcrkit.Session{}, false
		}
		u, ok := bySubject[info.Subject]
		if !ok {
			return shcrkit.Session{}, false
		}
		return shcrkit.Session{UserID: u.req.UserID, Organisation: u.req.Organisation, RoleProfileID: u.req.RoleProfileID}, true
	}
	w.PDS.SetTokenIdentities(resolve)
	w.NRL.SetTokenIdentities(resolve)

	// One application: one PDS client, one NRL client, one journey client.
	trace, err := w.PDS.NewClient(pds.WithTokenSource(sessions))
	require.NoError(t, err)
	locate, err := nrls.NewClient(w.NRL.URL+nrls.ConsumerPath, nrls.WithHTTPClient(w.NRL.HTTPClient()), nrls.WithTokenSource(sessions))
	require.NoError(t, err)
	journey := newJourney(t, w, audittest.NewRecorder(), func(c *shcr.Config) {
		c.PDS, c.NRL, c.Policy = trace, locate, policy
	})
	w.PDS.ResetRequests()
	w.NRL.ResetRequests()
	for _, r := range w.Regions {
		r.ResetRequests()
	}

	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	errs := make([]error, users)
	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u := &all[i]
			ctx := shcrkit.WithSession(context.Background(), u.session)
			if _, err := trace.Get(ctx, pdstest.Patients.Normal); err != nil {
				errs[i] = fmt.Errorf("user %d: PDS: %w", i, err)
				return
			}
			if _, err := locate.Count(ctx, pdstest.Patients.Normal); err != nil {
				errs[i] = fmt.Errorf("user %d: NRL: %w", i, err)
				return
			}
			req := shcr.Request{Requester: u.req, NHSNumber: pdstest.Patients.Normal, Purpose: shcrkit.PurposeDirectCare,
				Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: fmt.Sprintf("ENC-%04d", i)}}
			if u.records {
				res, err := journey.Records(ctx, req)
				if err == nil {
					if len(res.Records) == 0 {
						err = fmt.Errorf("no records")
					}
					res.Close()
				}
				errs[i] = err
				return
			}
			d, err := journey.Discover(ctx, req)
			if err == nil && len(d.Pointers) == 0 {
				err = fmt.Errorf("no pointers")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "user %d", i)
	}

	// One exchange per session, however many of its calls ran at once.
	exchanges := 0
	for _, r := range w.Tokens.Requests() {
		if r.GrantType == "urn:ietf:params:oauth:grant-type:token-exchange" {
			exchanges++
		}
	}
	assert.Equal(t, users, exchanges)

	// Every PDS and NRL request carried its own user's token, organisation
	// and role, and each user's requests came with one token only.
	tokenOf := map[string]string{} // user -> token
	calls := map[string]int{}
	check := func(service, token, org, urid string, status int, checkURID bool) {
		t.Helper()
		info, err := w.Tokens.Introspect(token)
		require.NoError(t, err, "%s: a token the token endpoint issued", service)
		u, ok := bySubject[info.Subject]
		require.True(t, ok, "%s: a token of one of the users", service)
		assert.Equal(t, 200, status, service)
		assert.Equal(t, string(u.req.Organisation), org, "%s: the token's user's organisation", service)
		if checkURID {
			assert.Equal(t, u.req.RoleProfileID, urid, "%s: the token's user's role", service)
		}
		if prev, ok := tokenOf[u.req.UserID]; ok {
			assert.Equal(t, prev, token, "%s: one token per user", service)
		}
		tokenOf[u.req.UserID] = token
		calls[service+" "+u.req.UserID]++
	}
	bearer := func(h string) string { return strings.TrimPrefix(h, "Bearer ") }
	for _, r := range w.PDS.Requests() {
		check("PDS", bearer(r.Header.Get("Authorization")), r.Header.Get("NHSD-End-User-Organisation-ODS"),
			r.Header.Get("NHSD-Session-URID"), r.Status, true)
	}
	for _, r := range w.NRL.Requests() {
		check("NRL", bearer(r.Header.Get("Authorization")), r.Header.Get("NHSD-End-User-Organisation-ODS"), "", r.Status, false)
	}
	for i := range all {
		uid := all[i].req.UserID
		assert.Equal(t, 2, calls["PDS "+uid], "user %d: the direct read and the journey's trace", i)
		assert.Equal(t, 2, calls["NRL "+uid], "user %d: the direct count and the journey's search", i)
	}
	assert.Len(t, tokenOf, users, "a distinct token per user")
	distinct := map[string]bool{}
	for _, tok := range tokenOf {
		distinct[tok] = true
	}
	assert.Len(t, distinct, users)

	// Every identity token a region received is a journey's own user's.
	retrievals := 0
	for _, region := range w.Regions {
		for _, r := range region.Requests() {
			claims, ok := identityClaims(r.Header)
			require.True(t, ok, "every retrieval carries an identity token")
			u, ok := bySubject[claims.Subject]
			require.True(t, ok, "identity token of a user")
			assert.True(t, u.records, "only whole journeys retrieve")
			require.NotEmpty(t, claims.Organisation.Identifier)
			assert.Equal(t, string(u.req.Organisation), claims.Organisation.Identifier[0].Value)
			retrievals++
		}
	}
	assert.Positive(t, retrievals)
}

// cis2IDToken is an ID token shaped like CIS2 Authentication's for the
// user, signed with key (ES256, much cheaper than RS256 for a thousand
// users; the token endpoint checks the shape, issuer, audience and
// expiry).
func cis2IDToken(t testing.TB, key *ecdsa.PrivateKey, sub string, now time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "https://cis2.test.invalid/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare",
		"sub": sub, "aud": "multi-user-test", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"authentication_assurance_level": "3",
	}).SignedString(key)
	require.NoError(t, err)
	return tok
}

// tokenClaims are the claims of an identity token the test reads.
type tokenClaims struct {
	Subject      string `json:"sub"`
	Organisation struct {
		Identifier []struct {
			Value string `json:"value"`
		} `json:"identifier"`
	} `json:"requesting_organization"`
}

// identityClaims finds the identity token among a request's headers
// (Authorization when unsigned GP Connect style, or a header of its own)
// and reads its claims without checking the signature: the region has.
func identityClaims(h map[string][]string) (tokenClaims, bool) {
	for _, vs := range h {
		for _, v := range vs {
			v = strings.TrimPrefix(v, "Bearer ")
			parts := strings.Split(v, ".")
			if len(parts) != 3 {
				continue
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil || !bytes.Contains(payload, []byte("requesting_organization")) {
				continue
			}
			var c tokenClaims
			if json.Unmarshal(payload, &c) == nil {
				return c, true
			}
		}
	}
	return tokenClaims{}, false
}
