// Package shcrprovider is the small shared care record of the examples:
// Brackenfield Care Record (ODS RBF), serving a few synthetic records per
// patient behind a shcr/provider Guard, publishing its pointers to the
// NRL, and wired into a shcrtest.World so that the world's journey can
// reach it.
package shcrprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// Custodian is Brackenfield's ODS code: a shared care record that holds
// its own records.
const Custodian shcrkit.ODSCode = "RBF"

// Name is Brackenfield's display name.
const Name = "Brackenfield Care Record"

// categories put the FHIR resource types Brackenfield answers searches
// for into the policy's data categories.
var categories = map[string]string{
	"AllergyIntolerance": "clinical-summary", "MedicationStatement": "clinical-summary", "Condition": "clinical-summary",
}

// record is one record Brackenfield serves.
type record struct {
	pointer nrls.Pointer
	body    []byte
}

// Config is what a Server is built from.
type Config struct {
	// Policy is Brackenfield's own policy (ProviderPolicy). Required.
	Policy *rbac.Policy
	// Audit receives Brackenfield's audit trail. Required.
	Audit audit.Sink
	// Consumers may call it. Required.
	Consumers []provider.Consumer
	// AccessTokens verifies access tokens; nil means none are sent.
	AccessTokens provider.TokenVerifier
	// Patients are whose records it holds: two each.
	Patients []shcrkit.NHSNumber
	// NRL is a producer client for Custodian, to publish the pointers.
	NRL *nrls.Client
}

// Server is Brackenfield, listening on a loopback port.
type Server struct {
	// URL is the service root, http://127.0.0.1:port/fhir.
	URL string
	// Guard is the guard in front of its API.
	Guard *provider.Guard

	ts      *httptest.Server
	records map[string]record
	order   []string
}

// Start starts Brackenfield, makes its records and publishes their
// pointers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{records: make(map[string]record)}
	mux := http.NewServeMux()
	s.ts = httptest.NewServer(mux)
	s.URL = s.ts.URL + "/fhir"
	g, err := provider.New(provider.Config{
		Policy: cfg.Policy, Audit: cfg.Audit, Resolver: provider.ResolverFunc(s.resolve), Audience: s.URL,
		Consumers: cfg.Consumers, AccessTokens: cfg.AccessTokens, Custodian: Custodian,
		RateLimit: provider.RateLimit{Rate: 50, Burst: 100},
	})
	if err != nil {
		s.ts.Close()
		return nil, err
	}
	s.Guard = g
	mux.Handle("/fhir/", g.Wrap(http.HandlerFunc(s.serve)))
	if err := s.publish(ctx, cfg); err != nil {
		s.ts.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// Pointers returns the pointers published, in order.
func (s *Server) Pointers() []nrls.Pointer {
	out := make([]nrls.Pointer, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.records[id].pointer)
	}
	return out
}

// publish makes each patient's records and syncs their pointers to the
// NRL.
func (s *Server) publish(ctx context.Context, cfg Config) error {
	pub, err := provider.NewPublisher(provider.PublisherConfig{NRL: cfg.NRL, Custodian: Custodian})
	if err != nil {
		return err
	}
	for i, nhs := range cfg.Patients {
		var want []nrls.Pointer
		for j, spec := range []struct {
			typ, contentType, title string
			format                  nrls.Format
		}{
			{nrls.TypeContingencyPlan, "application/pdf", "Contingency plan", nrls.FormatUnstructured},
			{nrls.TypeEmergencyHealthCarePlan, "application/fhir+json", "Emergency health care plan", nrls.FormatStructured},
		} {
			local := fmt.Sprintf("bf%03d%d", i+1, j+1)
			p, err := nrls.NewPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: Custodian, Type: spec.typ,
				URL: s.URL + "/records/" + local, ContentType: spec.contentType, Format: spec.format, LocalID: local, Title: spec.title,
				PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"}})
			if err != nil {
				return err
			}
			var body []byte
			if spec.contentType == "application/pdf" {
				body = synthetic.PDF(Name+": "+spec.title, "Synthetic record for the shcrkit examples.")
			} else {
				body, _ = json.Marshal(map[string]any{"resourceType": "CarePlan", "id": local, "status": "active", "intent": "plan",
					"title": spec.title, "subject": map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}})
			}
			s.records[local] = record{pointer: p, body: body}
			s.order = append(s.order, local)
			want = append(want, p)
		}
		if _, err := pub.Sync(ctx, nhs, want); err != nil {
			return fmt.Errorf("publishing the pointers: %w", err)
		}
		// The NRL names the pointers: the IDs consumers will use.
		published, err := pub.Published(ctx, nhs)
		if err != nil {
			return err
		}
		for _, q := range published {
			local := strings.TrimPrefix(q.URL, s.URL+"/records/")
			if rec, ok := s.records[local]; ok {
				rec.pointer = q
				s.records[local] = rec
			}
		}
	}
	return nil
}

// resolve tells the guard what a request asks for.
func (s *Server) resolve(r *http.Request) (provider.Target, error) {
	rest := strings.TrimPrefix(r.URL.Path, "/fhir/")
	if id, ok := strings.CutPrefix(rest, "records/"); ok {
		rec, found := s.records[id]
		if !found {
			return provider.Target{Resource: "DocumentReference/" + id}, fmt.Errorf("%w: no record %s", provider.ErrNotServed, id)
		}
		return provider.Target{Resource: "DocumentReference/" + rec.pointer.ID, Patient: rec.pointer.NHSNumber,
			RecordType: rec.pointer.Type.Code, Confidentiality: rec.pointer.Confidentiality}, nil
	}
	cat, ok := categories[rest]
	if !ok {
		return provider.Target{Resource: rest}, fmt.Errorf("%w: no search of %q", provider.ErrNotServed, rest)
	}
	system, value, _ := strings.Cut(r.URL.Query().Get("patient.identifier"), "|")
	nhs, err := shcrkit.ParseNHSNumber(value)
	if system != codesystem.NHSNumber || err != nil {
		return provider.Target{Action: audit.ActionSearch, Resource: rest},
			fmt.Errorf("%w: the search must name the patient by patient.identifier", provider.ErrBadRequest)
	}
	return provider.Target{Action: audit.ActionSearch, Resource: rest, Patient: nhs, Category: cat,
		Query: "patient.identifier=" + codesystem.NHSNumber + "|" + audit.QueryPatientPlaceholder}, nil
}

// serve answers what the guard let through, honouring the decision's
// redactions.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	a, ok := provider.AccessFrom(r.Context())
	if !ok {
		provider.WriteOutcome(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "no verified access")
		return
	}
	var body []byte
	contentType := "application/fhir+json"
	if id, isRecord := strings.CutPrefix(r.URL.Path, "/fhir/records/"); isRecord {
		rec := s.records[id]
		body, contentType = rec.body, rec.pointer.ContentType
	} else {
		var entries []any
		for _, res := range synthetic.Resources(a.Target.Resource, a.Target.Patient) {
			entries = append(entries, map[string]any{"resource": res, "search": map[string]any{"mode": "match"}})
		}
		body, _ = json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})
	}
	if len(a.Redactions()) > 0 && !isFHIRJSON(contentType) {
		// A document cannot have fields removed from it: it is withheld.
		provider.WriteOutcome(w, http.StatusForbidden, provider.CodeAccessDenied,
			"the record is a document and the decision obliges fields to be redacted, so it is withheld")
		return
	}
	if isFHIRJSON(contentType) {
		red, err := a.Redact(body)
		if err != nil {
			provider.WriteOutcome(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "the record could not be redacted")
			return
		}
		body = red
	}
	if !a.ValidUntil.IsZero() {
		w.Header().Set("Expires", a.ValidUntil.UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// isFHIRJSON reports whether a media type (parameters and case aside) is
// FHIR JSON.
func isFHIRJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/fhir+json" || mt == "application/json")
}

// Attached is Brackenfield wired into a world: what a consumer journey
// needs to reach it.
type Attached struct {
	// Server is Brackenfield.
	Server *Server
	// Directory is the world's directory with Brackenfield added.
	Directory *shcr.Directory
	// Policy is the world's policy with Brackenfield and its agreement
	// added.
	Policy *rbac.Policy
}

// Attach starts Brackenfield beside the world w: its pointers published
// to the world's NRL for patients, its access tokens checked against the
// world's token endpoint, the identity tokens of the world's consumer
// (signed RS256 with the key the world's regions trust) verified, and
// sink receiving its audit trail. The world's consumer side gets a
// directory and a policy that include it.
func Attach(ctx context.Context, w *shcrtest.World, sink audit.Sink, patients ...shcrkit.NHSNumber) (*Attached, error) {
	ident, err := rs256Identity(w)
	if err != nil {
		return nil, err
	}
	consumerPolicy, providerPolicy, err := attachPolicies()
	if err != nil {
		return nil, err
	}
	nrl, err := ownNRLClient(w)
	if err != nil {
		return nil, err
	}
	app, err := consumerClientID(w)
	if err != nil {
		return nil, err
	}
	srv, err := Start(ctx, Config{
		Policy: providerPolicy, Audit: sink, AccessTokens: introspecting(w), Patients: patients, NRL: nrl,
		Consumers: []provider.Consumer{{Name: "Riverside Urgent Care Record", ShCR: w.Policy.Local(), ClientIDs: []string{app},
			Signing: auth.RS256, Key: ident.Key.Public()}},
	})
	if err != nil {
		return nil, err
	}
	dir, err := directoryWith(w, srv, ident)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Attached{Server: srv, Directory: dir, Policy: consumerPolicy}, nil
}

// rs256Identity is the identity of the first of the world's regions that
// verifies RS256 identity tokens: Brackenfield trusts the same key.
func rs256Identity(w *shcrtest.World) (shcr.Identity, error) {
	var ident shcr.Identity
	for _, ep := range w.Directory.Endpoints() {
		if ep.Identity.Signing == auth.RS256 && ep.TokenSource != nil {
			ident = ep.Identity
			break
		}
	}
	if ident.Key == nil {
		return ident, errors.New("the world has no RS256 region to copy the identity key from")
	}
	return ident, nil
}

// attachPolicies are the world's sample policy with Brackenfield added:
// on the consumer side, and on Brackenfield's own, as a provider.
func attachPolicies() (consumerPolicy, providerPolicy *rbac.Policy, err error) {
	consumerYAML, err := ConsumerPolicy(samplepolicy.WorldYAML())
	if err != nil {
		return nil, nil, err
	}
	providerYAML, err := ProviderPolicy(samplepolicy.WorldYAML())
	if err != nil {
		return nil, nil, err
	}
	consumerPolicy, err = rbac.LoadPolicy(strings.NewReader(string(consumerYAML)))
	if err != nil {
		return nil, nil, fmt.Errorf("the consumer policy: %w", err)
	}
	providerPolicy, err = rbac.LoadPolicy(strings.NewReader(string(providerYAML)))
	if err != nil {
		return nil, nil, fmt.Errorf("the provider policy: %w", err)
	}
	return consumerPolicy, providerPolicy, nil
}

// ownNRLClient is Brackenfield's client of the world's NRL: Brackenfield
// is an application of its own at the token endpoint, with its own access
// tokens for the NRL.
func ownNRLClient(w *shcrtest.World) (*nrls.Client, error) {
	appCfg, err := w.Tokens.RegisterClient()
	if err != nil {
		return nil, err
	}
	own, err := auth.NewSignedJWT(appCfg)
	if err != nil {
		return nil, err
	}
	return nrls.NewClient(w.NRL.URL+nrls.ProducerPath, nrls.WithHTTPClient(w.NRL.HTTPClient()), nrls.WithEndUserOrganisation(Custodian), nrls.WithTokenSource(own))
}

// introspecting checks access tokens at the world's token endpoint.
func introspecting(w *shcrtest.World) provider.TokenVerifier {
	return provider.TokenVerifierFunc(func(_ context.Context, tok string) (provider.AccessToken, error) {
		info, err := w.Tokens.Introspect(tok)
		if err != nil {
			return provider.AccessToken{}, fmt.Errorf("%w: %v", provider.ErrAccessToken, err)
		}
		return provider.AccessToken{ClientID: info.APIKey, Subject: info.Subject, Expiry: info.Expiry}, nil
	})
}

// consumerClientID is the client ID the world's consumer application's
// tokens carry.
func consumerClientID(w *shcrtest.World) (string, error) {
	tok, err := w.TokenSource.Token()
	if err != nil {
		return "", err
	}
	app, err := w.Tokens.Introspect(tok.AccessToken)
	if err != nil {
		return "", err
	}
	return app.APIKey, nil
}

// directoryWith is the world's directory with Brackenfield added.
func directoryWith(w *shcrtest.World, srv *Server, ident shcr.Identity) (*shcr.Directory, error) {
	eps := w.Directory.Endpoints()
	eps = append(eps, shcr.Endpoint{Name: Name, Custodians: []shcrkit.ODSCode{Custodian}, BaseURL: srv.URL,
		TokenSource: w.TokenSource, Identity: ident})
	var dc shcr.DirectoryConfig
	dc.Endpoints = eps
	if ssp, ok := w.Directory.SSP(); ok {
		dc.SSP = &ssp
	}
	return shcr.NewDirectory(dc)
}
