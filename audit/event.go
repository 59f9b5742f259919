package audit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/patientquery"
)

// Action is the kind of access an event records.
type Action string

// Actions. Each maps to a FHIR AuditEvent action code (see ToFHIR).
const (
	// ActionRead is the retrieval of one identified resource (FHIR action R).
	ActionRead Action = "read"
	// ActionSearch is a search or query (FHIR action E).
	ActionSearch Action = "search"
	// ActionCreate is the creation of a resource (FHIR action C).
	ActionCreate Action = "create"
	// ActionUpdate is a change to a resource (FHIR action U).
	ActionUpdate Action = "update"
	// ActionDelete is the removal of a resource (FHIR action D).
	ActionDelete Action = "delete"
	// ActionDisclose is the release of a record to another party (FHIR
	// type DCM 110106 Export, action R).
	ActionDisclose Action = "disclose"
)

// valid reports whether a is one of the defined actions.
func (a Action) valid() bool { return a.code() != 0 }

// code is the action's number in the log's table (1 up, in this order,
// fixed for life: the table stores it); 0 for an unknown action.
func (a Action) code() uint8 {
	return codeOf(a, ActionRead, ActionSearch, ActionCreate, ActionUpdate, ActionDelete, ActionDisclose)
}

// codeOf is v's position in all, counted from 1, or 0 when it is not
// there.
func codeOf[T comparable](v T, all ...T) uint8 {
	for i, x := range all {
		if v == x {
			return uint8(i + 1)
		}
	}
	return 0
}

// Service is the service an access was made to.
type Service string

// Services.
const (
	// ServicePDS is the Personal Demographics Service.
	ServicePDS Service = "pds"
	// ServiceNRL is the National Record Locator.
	ServiceNRL Service = "nrl"
	// ServiceShCR is a remote shared care record.
	ServiceShCR Service = "shcr"
	// ServiceAudit is the audit log itself: reading it is audited too.
	ServiceAudit Service = "audit"
)

// valid reports whether s is one of the defined services.
func (s Service) valid() bool { return s.code() != 0 }

// code is the service's number in the log's table, as Action.code.
func (s Service) code() uint8 { return codeOf(s, ServicePDS, ServiceNRL, ServiceShCR, ServiceAudit) }

// Display returns the service's name as people know it.
func (s Service) Display() string {
	switch s {
	case ServicePDS:
		return "Personal Demographics Service"
	case ServiceNRL:
		return "National Record Locator"
	case ServiceShCR:
		return "shared care record"
	case ServiceAudit:
		return "audit log"
	}
	return string(s)
}

// Outcome is how an access ended.
type Outcome string

// Outcomes. Refused and failed requests are recorded in the same detail
// as successful ones.
const (
	// OutcomeSuccess: the access was allowed and completed (FHIR 0).
	OutcomeSuccess Outcome = "success"
	// OutcomeRefused: the access was refused by an access decision or by
	// the remote service (FHIR 4, minor failure).
	OutcomeRefused Outcome = "refused"
	// OutcomeFailed: the access was allowed but did not complete, for
	// example because the service was unavailable (FHIR 8, serious
	// failure).
	OutcomeFailed Outcome = "failed"
)

// valid reports whether o is one of the defined outcomes.
func (o Outcome) valid() bool { return o.code() != 0 }

// code is the outcome's number in the log's table, as Action.code.
func (o Outcome) code() uint8 { return codeOf(o, OutcomeSuccess, OutcomeRefused, OutcomeFailed) }

// Kind says what an event records: a call made to a service, or a
// decision made locally without any call.
type Kind string

// Kinds.
const (
	// KindInteraction is a request sent to a service (PDS, the NRL, a
	// shared care record, the audit log). The zero Kind reads as this, so
	// that records written before Kind existed keep their meaning.
	KindInteraction Kind = "interaction"
	// KindDecision is an access decision made locally (the boundary
	// decision, a pointer's decision, a retrieval withheld before any
	// request): nothing was sent, so the event names no X-Request-ID.
	// ToFHIR writes it with BALP's authorization-decision pattern.
	KindDecision Kind = "decision"
)

// valid reports whether k is one of the defined kinds or zero.
func (k Kind) valid() bool { return k == "" || k == KindInteraction || k == KindDecision }

// Authority is the person on whose authority a professional acted, when
// that is not the professional themselves (a supervising clinician, for
// example).
type Authority struct {
	// UserID is the person's SDS user ID.
	UserID string `json:"userId"`
	// Name is the person's display name.
	Name string `json:"name,omitempty"`
	// RoleProfileID is the SDS role profile ID of the person's role.
	RoleProfileID string `json:"roleProfileId,omitempty"`
	// RoleCode is the national RBAC role code of that role.
	RoleCode string `json:"roleCode,omitempty"`
	// Organisation is the ODS code of the person's organisation.
	Organisation shcrkit.ODSCode `json:"organisation,omitempty"`
}

// QueryPatientPlaceholder stands for the event's patient in Event.Query,
// so that the NHS number is kept once, as an identifier, in Event.Patient.
const QueryPatientPlaceholder = patientquery.Placeholder

// Event is one audited access: who asked, on whose authority, through
// which system, for what, about which patient, why, what was decided and
// how it ended. It holds identifiers only, never clinical content.
//
// The zero values of Seq and Recorded mean "not yet written": a Log (and
// the audittest.Recorder) assigns them and ignores values set by the
// caller.
type Event struct {
	// Seq is the event's sequence number in the log that holds it,
	// starting at 1 and increasing by one with every event, whatever the
	// clock says, so that reordering and clock tampering show.
	Seq uint64 `json:"seq,omitzero"`
	// Recorded is when the log took the event in (UTC), just before it
	// was written.
	Recorded time.Time `json:"recorded,omitzero"`
	// Time is when the access happened (UTC). The sink sets it to the
	// current time when it is zero.
	Time time.Time `json:"time"`

	// Requester is the professional who asked, with their role,
	// organisation and calling system (Requester.System).
	Requester shcrkit.Requester `json:"requester"`
	// UserFamily is the requester's family name, when known. It is used
	// only to flag a professional who looks at the record of a patient
	// with the same surname.
	UserFamily string `json:"userFamily,omitempty"`
	// OnBehalfOf is the person on whose authority the requester acted,
	// when different from the requester.
	OnBehalfOf *Authority `json:"onBehalfOf,omitempty"`

	// Action is what was done.
	Action Action `json:"action"`
	// Service is the service it was done to.
	Service Service `json:"service"`
	// Resource identifies what was accessed: a relative FHIR reference
	// "Type/id" ("DocumentReference/RX1-123") for a read, create, update,
	// delete or disclosure, or a resource type ("DocumentReference") for
	// a search.
	Resource string `json:"resource,omitempty"`
	// Query is the search as sent, as a URL query string without the base
	// ("subject:identifier=https://fhir.nhs.uk/Id/nhs-number|{patient}").
	// The patient's NHS number is written as QueryPatientPlaceholder and
	// kept in Patient; sinks replace it when they normalise the event
	// (see Normalize), and refuse a query that names any other NHS
	// number.
	Query string `json:"query,omitempty"`
	// Endpoint is the base URL of the service called, without a query
	// string.
	Endpoint string `json:"endpoint,omitempty"`

	// Patient is the NHS number of the patient whose record was accessed,
	// when there is one.
	Patient shcrkit.NHSNumber `json:"patient,omitempty"`
	// PatientFamily is the patient's family name, when known; used only
	// for the same-surname review flag.
	PatientFamily string `json:"patientFamily,omitempty"`

	// Purpose is why the access was made.
	Purpose shcrkit.Purpose `json:"purpose,omitempty"`
	// Relationship is the legitimate relationship asserted with the
	// patient.
	Relationship shcrkit.RelationshipKind `json:"relationship,omitempty"`
	// RelationshipEvidence identifies what the relationship rests on: an
	// encounter, referral or care-team identifier, or for a self-claimed
	// relationship the reason given.
	RelationshipEvidence string `json:"relationshipEvidence,omitempty"`
	// RelationshipVerification is the outcome of checking the claimed
	// relationship, for the decision that relied on it: "verified by
	// registered: GP practice Y12345", "not verified by referral: …",
	// "verification failed (encounter): …"; "" when none was made.
	RelationshipVerification string `json:"relationshipVerification,omitempty"`
	// AdHocSharing records a one-off decision to share a record outside
	// any sharing agreement, on a professional's judgement: who decided,
	// why, the ICO data sharing code principle or guidance relied on, and
	// which records. Set on the decision that relied on it, which review
	// always flags (investigation.FlagAdHocSharing).
	AdHocSharing string `json:"adHocSharing,omitempty"`
	// BreakGlassReason is the reason recorded for emergency
	// ("break the glass") access.
	BreakGlassReason string `json:"breakGlassReason,omitempty"`

	// Rule names the access-control rule that decided the access.
	Rule string `json:"rule,omitempty"`
	// Outcome is how the access ended.
	Outcome Outcome `json:"outcome"`
	// ErrorCode is the error code for a refused or failed access: a Spine
	// error code (ACCESS_DENIED) or an HTTP status ("503").
	ErrorCode string `json:"errorCode,omitempty"`
	// Reason explains the outcome in words; it must not hold clinical
	// content.
	Reason string `json:"reason,omitempty"`

	// RequestID is the X-Request-ID of the call.
	RequestID string `json:"requestId,omitempty"`
	// CorrelationID is the X-Correlation-ID that ties the calls of one
	// user action together.
	CorrelationID string `json:"correlationId,omitempty"`
	// Custodian is the ODS code of the organisation holding the record
	// (the remote shared care record), when there is one.
	Custodian shcrkit.ODSCode `json:"custodian,omitempty"`

	// Investigation, when set, makes the event a step of a privacy
	// officer's case or a patient's challenge about other events of the
	// trail (see investigation.Casebook); such events have Service
	// ServiceAudit.
	Investigation *Investigation `json:"investigation,omitempty"`

	// Kind says whether the event records a call to a service or a local
	// decision; zero means KindInteraction.
	Kind Kind `json:"kind,omitempty"`
	// DecisionID identifies an access decision (a UUID): on a decision,
	// the decision itself; on an interaction, the decision that
	// authorised it. It links the two without naming a request ID that
	// was never sent.
	DecisionID string `json:"decisionId,omitempty"`
	// Policy names the access policy that decided (with Rule, its rule).
	Policy string `json:"policy,omitempty"`
	// ClientAddress is the host name or IP address of the host that made
	// the call or the decision: the SDK's own host.
	ClientAddress string `json:"clientAddress,omitempty"`
	// ServerAddress is the host name or IP address of the host actually
	// connected to. Through the Spine Secure Proxy that is the proxy, and
	// Endpoint names the provider behind it.
	ServerAddress string `json:"serverAddress,omitempty"`
	// Request is a search as it went out, without scheme and host: the
	// method and path, and for a POST a blank line and the body
	// ("POST /FHIR/R4/DocumentReference/_search\n\nsubject:identifier=...").
	// The patient's NHS number is written as QueryPatientPlaceholder, as
	// in Query.
	Request string `json:"request,omitempty"`
	// Confidentiality is the confidentiality label of the record accessed
	// (a pointer's label, or the patient's for a demographics read).
	Confidentiality shcrkit.Confidentiality `json:"confidentiality,omitempty"`
}

// The range of event times a sink accepts: a record's time must encode
// as RFC 3339 (years 0 to 9999) and the log's table holds it as Unix
// nanoseconds (years 1678 to 2262); anything outside this range is a
// broken clock or a bad value, not an access.
var (
	minEventTime = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxEventTime = time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// Size limits, so that a record stays small and a corrupt length field
// can be told from a real one.
const (
	maxField      = 1024
	maxQuery      = 4096
	maxActivities = 64
)

// Validate checks the event as a sink would accept it: a known action,
// service and outcome; a requester naming a user or a calling system and
// an organisation; well-formed identifiers; no control characters and no
// over-long fields; no NHS number written into Query (see Normalize). It
// returns every problem at once, joined, each matching ErrInvalidEvent.
func (e Event) Validate() error {
	var p eventProblems
	p.codes(&e)
	p.request(&e)
	if e.Time.IsZero() {
		p.add("time is required")
	} else if e.Time.Before(minEventTime) || !e.Time.Before(maxEventTime) {
		p.add("time %s is outside the years %d to %d", e.Time.UTC().Format(time.RFC3339), minEventTime.Year(), maxEventTime.Year()-1)
	}
	p.identifiers(&e)
	p.text(&e)
	p.query(&e)
	if inv := e.Investigation; inv != nil {
		for _, problem := range inv.problems() {
			p.add("investigation: %s", problem)
		}
		if e.Service != ServiceAudit {
			p.add("an investigation step is an event of service %s", ServiceAudit)
		}
	}
	return errors.Join(p...)
}

// eventProblems collects what Validate finds, each matching
// ErrInvalidEvent.
type eventProblems []error

func (p *eventProblems) add(format string, args ...any) {
	*p = append(*p, fmt.Errorf("%w: "+format, append([]any{ErrInvalidEvent}, args...)...))
}

// codes checks the coded fields: action, service, outcome, kind,
// decision ID, confidentiality, purpose and relationship.
func (p *eventProblems) codes(e *Event) {
	if !e.Action.valid() {
		p.add("unknown action %q", string(e.Action))
	}
	if !e.Service.valid() {
		p.add("unknown service %q", string(e.Service))
	}
	if !e.Outcome.valid() {
		p.add("unknown outcome %q", string(e.Outcome))
	}
	if !e.Kind.valid() {
		p.add("unknown kind %q", string(e.Kind))
	}
	if e.Kind == KindDecision && e.RequestID != "" {
		p.add("a decision sends nothing, so it has no request ID")
	}
	if e.DecisionID != "" {
		if _, err := uuid.Parse(e.DecisionID); err != nil || len(e.DecisionID) != 36 {
			p.add("decision ID is not a UUID")
		}
	}
	if !e.Confidentiality.Valid() {
		p.add("unknown confidentiality %d", uint8(e.Confidentiality))
	}
	if e.Purpose != shcrkit.PurposeUnspecified && !e.Purpose.Valid() {
		p.add("unknown purpose %d", uint8(e.Purpose))
	}
	if !e.Relationship.Valid() {
		p.add("unknown relationship %s", e.Relationship)
	}
}

// request checks Request, the search as it went out, and the addresses.
func (p *eventProblems) request(e *Event) {
	for _, a := range []struct{ name, v string }{{"clientAddress", e.ClientAddress}, {"serverAddress", e.ServerAddress}} {
		if strings.ContainsAny(a.v, "/?#@ ") {
			p.add("%s must be a host name or IP address", a.name)
		}
	}
	if e.Request == "" {
		return
	}
	if e.Action != ActionSearch {
		p.add("request is kept for searches only")
	}
	if len(e.Request) > maxQuery {
		p.add("request is longer than %d bytes", maxQuery)
	}
	if !cleanText(strings.ReplaceAll(strings.ReplaceAll(e.Request, "\r\n", "\n"), "\n", " ")) {
		p.add("request holds control characters other than line breaks, or invalid UTF-8")
	}
	p.placeholder("request", e.Request, e.Patient)
}

// placeholder checks that a query or request names the patient only as
// QueryPatientPlaceholder, and only when the event has one.
func (p *eventProblems) placeholder(name, q string, patient shcrkit.NHSNumber) {
	if nhsNumberIn(q) {
		p.add("%s names an NHS number; write the event's patient as %s", name, QueryPatientPlaceholder)
	}
	if strings.Contains(q, QueryPatientPlaceholder) && patient == "" {
		p.add("%s refers to %s but the event has no patient", name, QueryPatientPlaceholder)
	}
}

// identifiers checks the requester, the patient, the custodian and the
// person on whose authority the requester acted.
func (p *eventProblems) identifiers(e *Event) {
	r := &e.Requester
	if strings.TrimSpace(r.UserID) == "" && strings.TrimSpace(r.System.Name) == "" {
		p.add("requester needs a user ID or a calling system")
	}
	if r.Organisation == "" {
		p.add("requester organisation is required")
	} else if !r.Organisation.Valid() {
		p.add("requester organisation is not a valid ODS code")
	}
	if len(r.Activities) > maxActivities {
		p.add("more than %d activity codes", maxActivities)
	}
	if e.Patient != "" && !e.Patient.Valid() {
		p.add("patient is not a valid NHS number")
	}
	if e.Custodian != "" && !e.Custodian.Valid() {
		p.add("custodian is not a valid ODS code")
	}
	if a := e.OnBehalfOf; a != nil {
		if strings.TrimSpace(a.UserID) == "" {
			p.add("onBehalfOf needs a user ID")
		}
		if a.Organisation != "" && !a.Organisation.Valid() {
			p.add("onBehalfOf organisation is not a valid ODS code")
		}
	}
}

// text checks every free-text and identifier field for length and
// content.
func (p *eventProblems) text(e *Event) {
	for _, f := range e.textFields() {
		limit := maxField
		if f.name == "query" {
			limit = maxQuery
		}
		p.field(f.name, f.value, limit)
	}
	for _, a := range e.Requester.Activities {
		p.field("requester.activities", a, maxField)
	}
	if a := e.OnBehalfOf; a != nil {
		p.field("onBehalfOf.userId", a.UserID, maxField)
		p.field("onBehalfOf.name", a.Name, maxField)
		p.field("onBehalfOf.roleProfileId", a.RoleProfileID, maxField)
		p.field("onBehalfOf.roleCode", a.RoleCode, maxField)
	}
}

func (p *eventProblems) field(name, v string, limit int) {
	if len(v) > limit {
		p.add("%s is longer than %d bytes", name, limit)
	}
	if !cleanText(v) {
		p.add("%s holds control characters or invalid UTF-8", name)
	}
}

// query checks Query and Endpoint.
func (p *eventProblems) query(e *Event) {
	if strings.HasPrefix(e.Query, "http://") || strings.HasPrefix(e.Query, "https://") {
		p.add("query must not include the base URL")
	}
	p.placeholder("query", e.Query, e.Patient)
	if strings.ContainsAny(e.Endpoint, "?#") {
		p.add("endpoint must not carry a query string or fragment")
	}
}

type textField struct{ name, value string }

// textFields lists the free-text and identifier fields that Validate
// checks for length and content (activities and OnBehalfOf apart). It
// returns an array, not a slice, so that validating allocates nothing.
func (e *Event) textFields() [27]textField {
	r := &e.Requester
	return [27]textField{
		{"requester.userId", r.UserID},
		{"requester.name", r.Name},
		{"requester.roleProfileId", r.RoleProfileID},
		{"requester.roleCode", r.RoleCode},
		{"requester.roleName", r.RoleName},
		{"requester.organisationName", r.OrganisationName},
		{"requester.system.name", r.System.Name},
		{"requester.system.version", r.System.Version},
		{"requester.system.asid", r.System.ASID},
		{"userFamily", e.UserFamily},
		{"resource", e.Resource},
		{"query", e.Query},
		{"endpoint", e.Endpoint},
		{"patientFamily", e.PatientFamily},
		{"relationshipEvidence", e.RelationshipEvidence},
		{"relationshipVerification", e.RelationshipVerification},
		{"adHocSharing", e.AdHocSharing},
		{"breakGlassReason", e.BreakGlassReason},
		{"rule", e.Rule},
		{"errorCode", e.ErrorCode},
		{"reason", e.Reason},
		{"requestId", e.RequestID},
		{"correlationId", e.CorrelationID},
		{"decisionId", e.DecisionID},
		{"policy", e.Policy},
		{"clientAddress", e.ClientAddress},
		{"serverAddress", e.ServerAddress},
	}
}

// Normalize returns the event as a sink stores it: a deep copy, with Seq
// and Recorded cleared, Time set to now when zero and converted to UTC,
// the patient's NHS number in Query and Request (in any of its written
// forms) replaced by QueryPatientPlaceholder, and KindInteraction written
// as the zero Kind. It then validates the result.
func (e Event) Normalize(now time.Time) (Event, error) {
	return e.Clone().normalize(now)
}

// normalize is Normalize without the deep copy: the result shares the
// slices and pointers of e (Activities, Investigation, OnBehalfOf), for a
// caller that only reads it.
func (e Event) normalize(now time.Time) (Event, error) {
	n := e
	n.Seq = 0
	n.Recorded = time.Time{}
	if n.Time.IsZero() {
		n.Time = now
	}
	n.Time = n.Time.UTC()
	if n.Patient != "" && n.Query != "" {
		n.Query = patientquery.Redact(n.Query, n.Patient)
	}
	if n.Kind == KindInteraction {
		n.Kind = "" // the zero Kind is an interaction: one way to write it
	}
	if n.Patient != "" && n.Request != "" {
		n.Request = patientquery.Redact(n.Request, n.Patient)
	}
	if err := n.Validate(); err != nil {
		return Event{}, err
	}
	return n, nil
}

// Clone returns a deep copy of the event.
func (e Event) Clone() Event {
	c := e
	if e.Requester.Activities != nil {
		c.Requester.Activities = append([]string(nil), e.Requester.Activities...)
	}
	if e.Investigation != nil {
		inv := *e.Investigation
		inv.Concerns = append([]uint64(nil), inv.Concerns...)
		c.Investigation = &inv
	}
	if e.OnBehalfOf != nil {
		a := *e.OnBehalfOf
		c.OnBehalfOf = &a
	}
	return c
}

// resourceType returns the type part of Resource ("DocumentReference").
func (e Event) resourceType() string {
	t, _, _ := strings.Cut(e.Resource, "/")
	return t
}

// resourceID returns the id part of Resource, or "" when Resource names
// only a type.
func (e Event) resourceID() string {
	_, id, _ := strings.Cut(e.Resource, "/")
	return id
}

// rawQuery returns Query with QueryPatientPlaceholder replaced by the
// patient's NHS number: the search exactly as it was sent.
func (e Event) rawQuery() string {
	if e.Patient == "" {
		return e.Query
	}
	return strings.ReplaceAll(e.Query, QueryPatientPlaceholder, string(e.Patient))
}

// rawRequest returns Request with QueryPatientPlaceholder replaced by the
// patient's NHS number: the request exactly as it went out.
func (e Event) rawRequest() string {
	if e.Patient == "" {
		return e.Request
	}
	return strings.ReplaceAll(e.Request, QueryPatientPlaceholder, string(e.Patient))
}

// LogValue implements slog.LogValuer: identifiers only, the NHS number
// masked, free text masked.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Uint64("seq", e.Seq),
		slog.Time("time", e.Time),
		slog.Any("requester", e.Requester),
		slog.String("action", string(e.Action)),
		slog.String("service", string(e.Service)),
		slog.String("outcome", string(e.Outcome)),
	}
	if e.Kind != "" {
		attrs = append(attrs, slog.String("kind", string(e.Kind)))
	}
	if e.Patient != "" {
		attrs = append(attrs, slog.Any("patient", e.Patient))
	}
	if e.Resource != "" {
		attrs = append(attrs, slog.String("resource", shcrkit.Redact(e.Resource)))
	}
	if e.Purpose != shcrkit.PurposeUnspecified {
		attrs = append(attrs, slog.String("purpose", e.Purpose.String()))
	}
	if e.Custodian != "" {
		attrs = append(attrs, slog.String("custodian", string(e.Custodian)))
	}
	if e.Rule != "" {
		attrs = append(attrs, slog.String("rule", shcrkit.Redact(e.Rule)))
	}
	if e.ErrorCode != "" {
		attrs = append(attrs, slog.String("errorCode", shcrkit.Redact(e.ErrorCode)))
	}
	if e.RequestID != "" {
		attrs = append(attrs, slog.String("requestId", e.RequestID))
	}
	if e.CorrelationID != "" {
		attrs = append(attrs, slog.String("correlationId", e.CorrelationID))
	}
	return slog.GroupValue(attrs...)
}

// nhsNumberIn reports whether s, as written or percent-decoded (a query
// string as sent may encode the "|" before an identifier as %7C, and
// spaces as + or %20), holds a run of ten digits (alone or grouped
// 3-3-4), standing as a token of its own (not inside a longer run of
// letters and digits, such as a UUID), that passes the NHS number check.
func nhsNumberIn(s string) bool {
	if nhsNumberInText(s) {
		return true
	}
	if d, err := url.QueryUnescape(s); err == nil && d != s {
		return nhsNumberInText(d)
	}
	return false
}

func nhsNumberInText(s string) bool {
	if shcrkit.MaskNHSNumbers(s) == s {
		return false // no NHS-number-shaped run at all
	}
	// Only runs with a valid check digit count as NHS numbers.
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		var digits []byte
		j := i
	run:
		for ; j < len(s) && len(digits) <= 10; j++ {
			c := s[j]
			switch {
			case isDigit(c):
				digits = append(digits, c)
			case (c == ' ' || c == '-') && (len(digits) == 3 || len(digits) == 6) && j+1 < len(s) && isDigit(s[j+1]):
			default:
				break run
			}
		}
		if len(digits) == 10 && (j == len(s) || !isAlnum(s[j])) && shcrkit.NHSNumber(string(digits)).Valid() {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// cleanText reports whether s is valid UTF-8 without control characters.
func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		} else if c >= utf8.RuneSelf {
			return utf8.ValidString(s[i:]) && !strings.ContainsFunc(s[i:], func(r rune) bool { return r < 0x20 || r == 0x7f })
		}
	}
	return true
}
