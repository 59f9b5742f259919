package shcr

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr/internal/lrverify"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
)

// RegisteredGP is the verifier of registered relationships that
// StandardVerifiers chains, for tests of it on its own.
func RegisteredGP(sites SiteLister) RelationshipVerifier {
	return fromInternal(lrverify.RegisteredGP(sites))
}

// ClaimedRelationships is the verifier of self-claimed and emergency
// relationships that StandardVerifiers chains.
func ClaimedRelationships() RelationshipVerifier {
	return fromInternal(lrverify.ClaimedRelationships())
}

// EvidenceVerifier is the verifier of referral, encounter and care-team
// relationships that StandardVerifiers chains.
func EvidenceVerifier(lookup EvidenceLookup, sites SiteLister) RelationshipVerifier {
	var l lrverify.Lookup
	if lookup != nil {
		l = evidenceAdapter{lookup}
	}
	return fromInternal(lrverify.EvidenceVerifier(l, sites))
}

// The names of the verifiers in a Verification.
const (
	VerifierRegistered = "registered"
	VerifierClaimed    = "claimed"
)

// RelationshipVerifierFunc adapts a function to RelationshipVerifier.
type RelationshipVerifierFunc = verifierFunc

// BareFetches returns, for each of ps, its retrieval as a bare net/http
// client makes it, for the scale benchmark's floor: the request c's
// Remote sends for the pointer (identity token, headers, access token),
// with the journey's tokens made once, sent by a client of the
// endpoint's own (its own connections) within a bound of the endpoint's
// size, the answer read whole. Nothing is decided, audited, parsed or
// checked beyond the status.
func BareFetches(c *Client, req Request, ps []nrls.Pointer) ([]func(context.Context) error, error) {
	r := c.remote
	var tokens tokenCache
	clients := make(map[*endpoint]*http.Client)
	slots := make(map[*endpoint]remotehttp.Slots)
	var out []func(context.Context) error
	for _, p := range ps {
		rt, mt, err := r.check(locationOf(p))
		if err != nil {
			return nil, err
		}
		hc := clients[rt.ep]
		if hc == nil {
			bound := r.bound(rt.ep)
			if hc, err = remotehttp.GuardedClient(nil, rt.ep.Certificate, rt.ep.RootCAs, bound, sameOriginRedirect); err != nil {
				return nil, err
			}
			clients[rt.ep], slots[rt.ep] = hc, make(remotehttp.Slots, bound)
		}
		_, fr, err := r.request(rt, fetchParams{requester: req.Requester, purpose: req.Purpose, tokens: &tokens}, mt)
		if err != nil {
			return nil, err
		}
		hr, err := http.NewRequest(http.MethodGet, fr.URL.String(), nil)
		if err != nil {
			return nil, err
		}
		hr.Header = fr.Header
		hr.Header.Set("Accept", mt)
		if ts := rt.ep.TokenSource; ts != nil {
			tok, err := ts.Token()
			if err != nil {
				return nil, err
			}
			hr.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
		}
		slot := slots[rt.ep]
		out = append(out, func(ctx context.Context) error {
			if err := slot.Acquire(ctx); err != nil {
				return err
			}
			defer slot.Release()
			resp, err := hc.Do(hr.Clone(ctx))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %s", rt.ep.Name, resp.Status)
			}
			return nil
		})
	}
	return out, nil
}
