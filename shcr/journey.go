package shcr

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/nilctx"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"github.com/shcrkit/shcrkit/shcr/internal/journeytel"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config is what a journey Client is built from.
type Config struct {
	// PDS traces patients. Required.
	PDS *pds.Client
	// NRL locates records. Required.
	NRL *nrls.Client
	// Policy decides every access. Required unless Policies is set.
	Policy *rbac.Policy
	// Policies, when set, holds the policy in force and lets it be
	// replaced while the Client runs: each journey takes the policy in
	// force when it starts and makes all its decisions on it. It takes
	// precedence over Policy.
	Policies *rbac.Holder
	// Relationships checks the legitimate relationship the requester
	// claims, before the boundary decision (see StandardVerifiers). Its
	// outcome goes into every decision of the journey and their audit
	// events; the policy says per kind whether it must be verified. Nil
	// means no verification: kinds the policy requires verified are
	// refused.
	Relationships RelationshipVerifier
	// RelationshipTimeout bounds the verification; a verifier that has
	// not answered by then fails closed. 0 means 3 seconds.
	RelationshipTimeout time.Duration
	// Audit records every step. Required: auditing cannot be switched off.
	Audit audit.Sink
	// Directory names the remote ShCRs and how to reach them. Required.
	Directory *Directory
	// Remote configures the Remote built over Directory (HTTP client,
	// size caps, issuer of identity tokens...). Its Logger, Now,
	// Parallelism, TracerProvider and MeterProvider default to this
	// Config's.
	Remote RemoteConfig
	// TracerProvider and MeterProvider receive the journey's spans (the
	// journey, each step, each pointer's decision, each retrieval, each
	// audit write, with the HTTP calls to remote ShCRs as children) and
	// its metrics (journey and retrieval latency, retrievals by custodian
	// and outcome, decisions by rule and outcome, audit write latency).
	// nil means the global providers, which do nothing until the
	// application installs an OpenTelemetry SDK. The PDS and NRL clients
	// take theirs as their own options (pds.WithTelemetry).
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Timeout bounds one retrieval from a custodian (an endpoint's own
	// Timeout takes precedence); 0 means 10 seconds.
	Timeout time.Duration
	// Parallelism bounds the retrievals in flight at once to each remote
	// ShCR endpoint (an endpoint's own Parallelism takes precedence); 0
	// means 8. The bound is per endpoint, not global, so a
	// journey with many records at one custodian does not hold up the
	// others.
	Parallelism int
	// Alert receives the alerts that decisions oblige the caller to send
	// to the requesting organisation's Privacy Officers (self-claimed
	// relationships, emergency access). Without it, an access that needs
	// an alert is withheld: an obligation that cannot be honoured blocks
	// the data, as it is when Alert returns an error (the alert was not
	// delivered).
	Alert func(ctx context.Context, a Alert) error
	// ResourceCategories put the FHIR resource types that Search may
	// look for into the policy's data categories; each category must be
	// the policy's. Nil means these, where the policy has the category: AllergyIntolerance,
	// MedicationStatement and Condition in clinical-summary, Observation
	// in observations, CarePlan in care-plans, Appointment in
	// appointments. A resource type in none is refused.
	ResourceCategories map[string]string
	// Now is the clock of decisions, audit events and identity tokens;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives debug lines; nil discards. No line carries an NHS
	// number or a token.
	Logger *slog.Logger
	// ClientAddress is this host's name or IP address as the audit trail
	// records it (BALP's agent[client].network), for example the address
	// the deployment gives the service; "" means the operating system's
	// host name.
	ClientAddress string
}

// Client runs the cross-boundary journey: trace, decide, locate, decide
// per record, retrieve in parallel, honour obligations, and audit every
// step before handing anything back. It is safe for concurrent use.
type Client struct {
	pds         *pds.Client
	nrl         *nrls.Client
	policy      *rbac.Policy
	policies    *rbac.Holder
	verifier    RelationshipVerifier
	relTimeout  time.Duration
	sink        audit.Sink
	remote      *Remote
	timeout     time.Duration
	parallelism int
	alert       func(ctx context.Context, a Alert) error
	now         func() time.Time
	logger      *slog.Logger
	pdsEndpoint string
	nrlEndpoint string
	clientAddr  string

	resourceCategories map[string]string
	tel                *journeytel.Telemetry
}

// ready fails a call on a Client not made by New (nil, or its zero
// value), or with a nil context.
func (c *Client) ready(ctx context.Context) error {
	return callable(ctx, c != nil && c.remote != nil, "shcr.Client was not made by New")
}

// callable fails a call on a value its constructor did not make (the
// error says so with notMade), or with a nil context.
func callable(ctx context.Context, made bool, notMade string) error {
	if !made {
		return fmt.Errorf("%w: the %s", shcrkit.ErrInvalidOption, notMade)
	}
	return nilctx.Check(ctx)
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Policies != nil {
		cfg.Policy = cfg.Policies.Policy()
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c := &Client{
		pds: cfg.PDS, nrl: cfg.NRL, policy: cfg.Policy, policies: cfg.Policies, sink: cfg.Audit,
		verifier: cfg.Relationships, relTimeout: cmp.Or(cfg.RelationshipTimeout, defaultRelationshipTimeout),
		timeout: cmp.Or(cfg.Timeout, defaultTimeout), parallelism: cmp.Or(cfg.Parallelism, defaultParallelism),
		alert: cfg.Alert, now: cfg.Now, logger: cfg.Logger,
		pdsEndpoint: fhirhttp.Of(cfg.PDS).BaseURL().String(), nrlEndpoint: fhirhttp.Of(cfg.NRL).BaseURL().String(),
		clientAddr: cmp.Or(cfg.ClientAddress, auditfield.LocalHost()),
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if c.resourceCategories, err = resourceCategories(cfg); err != nil {
		return nil, err
	}
	if c.tel, err = journeytel.New(cfg.TracerProvider, cfg.MeterProvider, ErrRefused, ErrAudit); err != nil {
		return nil, fmt.Errorf("%w: telemetry: %w", shcrkit.ErrInvalidOption, err)
	}
	if c.remote, err = NewRemote(cfg.Directory, cfg.remoteConfig(c.now, c.parallelism)); err != nil {
		return nil, err
	}
	return c, nil
}

// remoteConfig is cfg.Remote with the settings it leaves out taken from
// cfg.
func (cfg Config) remoteConfig(now func() time.Time, parallelism int) RemoteConfig {
	rc := cfg.Remote
	if rc.Now == nil {
		rc.Now = now
	}
	if rc.Parallelism == 0 {
		rc.Parallelism = parallelism
	}
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	if rc.TracerProvider == nil {
		rc.TracerProvider = cfg.TracerProvider
	}
	if rc.MeterProvider == nil {
		rc.MeterProvider = cfg.MeterProvider
	}
	return rc
}

// check reports what cfg lacks or gets wrong, as an error matching
// shcrkit.ErrInvalidOption.
func (cfg Config) check() error {
	var missing []string
	for _, f := range []struct {
		name   string
		absent bool
	}{
		{"PDS", cfg.PDS == nil}, {"NRL", cfg.NRL == nil}, {"Policy", cfg.Policy == nil},
		{"Audit", cfg.Audit == nil}, {"Directory", cfg.Directory == nil},
	} {
		if f.absent {
			missing = append(missing, f.name)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("%w: Config needs %v", shcrkit.ErrInvalidOption, missing)
	case fhirhttp.Of(cfg.PDS) == nil:
		return fmt.Errorf("%w: Config.PDS was not made by pds.NewClient", shcrkit.ErrInvalidOption)
	case fhirhttp.Of(cfg.NRL) == nil:
		return fmt.Errorf("%w: Config.NRL was not made by nrls.NewClient", shcrkit.ErrInvalidOption)
	case strings.ContainsAny(cfg.ClientAddress, "/?#@ "):
		return fmt.Errorf("%w: ClientAddress %q is not a host name or IP address", shcrkit.ErrInvalidOption, cfg.ClientAddress)
	case cfg.Timeout < 0:
		return fmt.Errorf("%w: negative timeout", shcrkit.ErrInvalidOption)
	case cfg.RelationshipTimeout < 0:
		return fmt.Errorf("%w: negative relationship timeout", shcrkit.ErrInvalidOption)
	}
	if err := sinkguard.Check(cfg.Audit); err != nil {
		return fmt.Errorf("%w: Audit: %w", shcrkit.ErrInvalidOption, err)
	}
	if cfg.Parallelism != 0 {
		return remotehttp.Within("parallelism", cfg.Parallelism, 1, maxParallelism)
	}
	return nil
}

// Request is one professional's request to see a patient's records held
// across the boundary.
type Request struct {
	// Requester is who asks, in the role selected for the session.
	// Required.
	Requester shcrkit.Requester
	// NHSNumber is the patient, when the caller already holds it. Then
	// the NRL search starts at once, in parallel with the PDS trace.
	NHSNumber shcrkit.NHSNumber
	// Demographics trace the patient in PDS when NHSNumber is zero;
	// exactly one patient must match.
	Demographics *pds.SearchQuery
	// Purpose is why. Required.
	Purpose shcrkit.Purpose
	// Relationship is the legitimate relationship claimed with the
	// patient, with its reason (self-claimed, emergency) and evidence
	// (referral, encounter or care-team identifier).
	Relationship rbac.Relationship
	// Dissent is true when the local consent record holds the patient's
	// dissent from sharing.
	Dissent bool
	// RecordTypes are the SNOMED codes of the record types wanted; none
	// means every type.
	RecordTypes []string
	// AdHoc, when set, records a professional's one-off decision to share
	// records that no agreement covers (who decided, why, on which ICO
	// code principle or guidance, which pointers: none listed means all).
	// A pointer it covers and no agreement does is allowed only when the
	// policy permits ad hoc sharing for the purpose; the decision is
	// audited as ad hoc sharing (audit.Event.AdHocSharing) and always
	// flagged for review.
	AdHoc *rbac.AdHoc
}

func (r Request) validate() error {
	if err := r.Requester.Validate(); err != nil {
		return fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, err)
	}
	switch {
	case r.NHSNumber == "" && r.Demographics == nil:
		return fmt.Errorf("%w: the request names no patient (NHS number or demographics)", shcrkit.ErrInvalidRequest)
	case r.NHSNumber != "" && !r.NHSNumber.Valid():
		return fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, shcrkit.ErrInvalidNHSNumber)
	case !r.Purpose.Valid():
		return fmt.Errorf("%w: %w: no purpose of use", shcrkit.ErrInvalidRequest, shcrkit.ErrInvalidCode)
	}
	for _, t := range r.RecordTypes {
		if t == "" {
			return fmt.Errorf("%w: empty record type", shcrkit.ErrInvalidRequest)
		}
	}
	return nil
}

// journeyCtx carries one journey's correlation ID, so every call and audit
// event of the journey can be tied together.
func (c *Client) journeyCtx(ctx context.Context) (context.Context, string) {
	if id := shcrkit.CorrelationID(ctx); id != "" {
		return ctx, id
	}
	id := newID()
	return shcrkit.WithCorrelationID(ctx, id), id
}

// resourceCategories checks cfg.ResourceCategories against the policy,
// or picks the defaults the policy has categories for.
func resourceCategories(cfg Config) (map[string]string, error) {
	has := make(map[string]bool)
	for _, c := range cfg.Policy.Categories() {
		has[c.ID] = true
	}
	out := make(map[string]string)
	if cfg.ResourceCategories == nil {
		for rt, cat := range defaultResourceCategories {
			if has[cat] {
				out[rt] = cat
			}
		}
		return out, nil
	}
	for rt, cat := range cfg.ResourceCategories {
		if !validResourceType(rt) {
			return nil, fmt.Errorf("%w: %q is not a FHIR resource type", shcrkit.ErrInvalidOption, rt)
		}
		if !has[cat] {
			return nil, fmt.Errorf("%w: resource type %s is put in category %q, which the policy does not have", shcrkit.ErrInvalidOption, rt, cat)
		}
		out[rt] = cat
	}
	return out, nil
}
