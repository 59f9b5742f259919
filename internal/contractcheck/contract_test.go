package contractcheck

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/audit/postgres"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"golang.org/x/oauth2"
)

func TestContract(t *testing.T) {
	var _ func(string) (shcrkit.NHSNumber, error) = shcrkit.ParseNHSNumber
	var _ func(string) (shcrkit.ODSCode, error) = shcrkit.ParseODSCode
	var _ slog.LogValuer = shcrkit.NHSNumber("")
	r := shcrkit.Requester{UserID: "", Name: "", RoleProfileID: "", RoleCode: "", Activities: []string{}, Organisation: "", OrganisationName: ""}
	r.System.Name, r.System.Version, r.System.ASID = "", "", ""
	_ = []shcrkit.Purpose{shcrkit.PurposeDirectCare, shcrkit.PurposeEmergency, shcrkit.PurposeBreakGlass}
	e := &shcrkit.APIError{StatusCode: 1, Code: "", Diagnostics: "", RequestID: "", Outcome: &fhir.OperationOutcome{}}
	_ = e
	_ = []error{shcrkit.ErrNotFound, shcrkit.ErrUnauthorized, shcrkit.ErrForbidden, shcrkit.ErrRateLimited, shcrkit.ErrInvalidRequest, shcrkit.ErrUnavailable, shcrkit.ErrInvalidNHSNumber}
	_ = []shcrkit.Confidentiality{shcrkit.ConfidentialityUnrestricted, shcrkit.ConfidentialityRestricted, shcrkit.ConfidentialityVeryRestricted}
	var _ shcrkit.RelationshipKind

	var ts oauth2.TokenSource
	_ = []pds.Option{pds.WithTokenSource(ts), pds.WithHTTPClient(&http.Client{}), pds.WithEndUserOrganisation(""), pds.WithLogger(nil), pds.WithMaxAttempts(1), pds.WithMaxResponseBytes(1), pds.WithUserAgent("")}
	_ = []nrls.Option{nrls.WithTokenSource(ts), nrls.WithHTTPClient(&http.Client{}), nrls.WithEndUserOrganisation(""), nrls.WithLogger(nil), nrls.WithMaxAttempts(1), nrls.WithMaxResponseBytes(1), nrls.WithUserAgent("")}
	var pc *pds.Client
	var _ func(string, ...pds.Option) (*pds.Client, error) = pds.NewClient
	ctx := context.Background()
	if pc != nil {
		var _ *pds.Patient
		_, _ = pc.Get(ctx, "")
		var _ []pds.Match
		_, _ = pc.Search(ctx, pds.SearchQuery{})
		_, _ = pc.Update(ctx, "", "", pds.PatchOp{})
		_, _ = pc.RelatedPersons(ctx, "")
	}
	s := pdstest.NewServer()
	_, _ = s.URL, s.Client
	s.Close()
	var _ func(string, ...nrls.Option) (*nrls.Client, error) = nrls.NewClient
	var nc *nrls.Client
	if nc != nil {
		var _ []nrls.Pointer
		_, _ = nc.Search(ctx, "")
		_, _ = nc.Count(ctx, "")
		_, _ = nc.Get(ctx, "")
		_ = nc.Create
		_ = nc.Update
		_ = nc.Supersede
		_ = nc.Delete
	}
	_ = nrlstest.NewServer
	var _ func(io.Reader) (*rbac.Policy, error) = rbac.LoadPolicy
	_ = rbac.LoadPolicyFile
	var pol *rbac.Policy
	if pol != nil {
		var d rbac.Decision = pol.Decide(rbac.Request{})
		_, _, _, _ = d.Allowed, d.Reasons, d.Obligations, d.Rule
	}
	var _ func([]byte, string) (shcrkit.Requester, error) = rbac.RequesterFromCIS2
	ev := audit.Event{Seq: 1, Requester: r, Patient: "", Action: audit.ActionRead, Service: audit.ServicePDS, Resource: "", Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeSuccess, Reason: "", RequestID: "", CorrelationID: "", Custodian: ""}
	_ = []audit.Action{audit.ActionRead, audit.ActionSearch, audit.ActionCreate, audit.ActionUpdate, audit.ActionDelete, audit.ActionDisclose}
	_ = []audit.Service{audit.ServicePDS, audit.ServiceNRL, audit.ServiceShCR, audit.ServiceAudit}
	_ = []audit.Outcome{audit.OutcomeSuccess, audit.OutcomeRefused, audit.OutcomeFailed}
	var _ audit.Sink = (*audit.Log)(nil)
	var _ audit.Reader = (*audit.Log)(nil)
	var _ audit.Sink = (*postgres.Store)(nil)
	var _ audit.Reader = (*postgres.Store)(nil)
	var _ func(string, ...audit.LogOption) (*audit.Log, error) = audit.OpenLog
	var l *audit.Log
	if l != nil {
		_ = l.Close()
		_ = l.Verify(ctx)
		var _ iter.Seq2[audit.Event, error] = l.Query(ctx, r, audit.Filter{Patient: "", UserID: "", From: ev.Time, To: ev.Time})
	}
	var _ fhir.AuditEvent = audit.ToFHIR(ev)
	var _ audit.Sink = (*audittest.Recorder)(nil)
	var _ func(context.Context, string, ...postgres.Option) (*postgres.Store, error) = postgres.Open
	var st *postgres.Store
	if st != nil {
		_ = st.Verify(ctx)
		_ = st.Close()
	}
	var _ func(shcr.Config) (*shcr.Client, error) = shcr.New
	_ = []shcr.Option{shcr.WithHTTPClient(&http.Client{}), shcr.WithLogger(nil), shcr.WithMaxAttempts(1), shcr.WithMaxResponseBytes(1), shcr.WithUserAgent("")}
	var c *shcr.Client
	if c != nil {
		var _ *shcr.Discovery
		_, _ = c.Discover(ctx, shcr.Request{})
		var _ *shcr.Record
		_, _ = c.Retrieve(ctx, shcr.Request{}, nrls.Pointer{})
		var _ *shcr.Result
		_, _ = c.Records(ctx, shcr.Request{})
	}
	var cfg shcr.Config
	var _ shcr.RelationshipVerifier = cfg.Relationships
	_ = shcrtest.NewServer
	var _ func(provider.Config) (*provider.Guard, error) = provider.New
	var g *provider.Guard
	if g != nil {
		var _ http.Handler = g.Wrap(http.NotFoundHandler())
	}
	_ = provider.AccessFrom
}
