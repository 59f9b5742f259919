package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
)

// Code systems and identifier systems used by ToFHIR.
const (
	systemAuditEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemDICOM            = "http://dicom.nema.org/resources/ontology/DCM"
	systemRestful          = "http://hl7.org/fhir/restful-interaction"
	systemLifecycle        = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
	systemParticipation    = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	systemRoleClass        = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	systemSourceType       = "http://terminology.hl7.org/CodeSystem/security-source-type"
	systemEntityType       = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	systemObjectRole       = "http://terminology.hl7.org/CodeSystem/object-role"
	systemBALPEntityType   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	systemSDSUserID        = "https://fhir.nhs.uk/Id/sds-user-id"
	systemSDSRoleProfileID = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	systemSDSJobRole       = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"
	systemASID             = "https://fhir.nhs.uk/Id/nhsSpineASID"
)

// ExtensionBase is the prefix of the URLs of the extensions ToFHIR adds
// for what R4 AuditEvent has no element for.
const ExtensionBase = "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/"

// Extension URLs written by ToFHIR.
const (
	// ExtensionSequence carries Event.Seq (valueString, decimal).
	ExtensionSequence = ExtensionBase + "sequence"
	// ExtensionCorrelationID carries Event.CorrelationID (valueString).
	ExtensionCorrelationID = ExtensionBase + "correlation-id"
	// ExtensionRelationship carries Event.Relationship (valueCode).
	ExtensionRelationship = ExtensionBase + "legitimate-relationship"
	// ExtensionRelationshipEvidence carries Event.RelationshipEvidence
	// (valueString).
	ExtensionRelationshipEvidence = ExtensionBase + "relationship-evidence"
	// ExtensionErrorCode carries Event.ErrorCode (valueCode).
	ExtensionErrorCode = ExtensionBase + "error-code"
)

// ToFHIR maps an event to an R4 AuditEvent following the IHE Basic Audit
// Log Patterns (BALP):
//
//   - type: audit-event-type "rest" (DICOM 110106 Export for a
//     disclosure); subtype: restful-interaction read, search, create,
//     update or delete (and iso-21089-lifecycle disclose);
//   - action R, E, C, U or D; outcome 0 (success), 4 (refused) or 8
//     (failed), with outcomeDesc from the reason and error code;
//   - agents: the user (v3-ParticipationType IRCP, requestor=true, SDS
//     user ID, role profile and job role, purposeOfUse from the purpose,
//     with the break-glass reason as its text, and the deciding rule as
//     policy); the user's organisation (v3-RoleClass PROV, ODS code); the
//     person on whose authority the user acted (RESP), when given; the
//     client system (Requester.System, ASID) and the server (the service,
//     the custodian's ODS code, the endpoint URL), as DICOM Source and
//     Destination Role IDs in the direction BALP gives for the action;
//   - source: site the user's organisation, observer the calling system,
//     type 4 (application server);
//   - entities: the patient (audit-entity-type 1, object-role 1, NHS
//     number identifier), the data (2/4, a reference to Resource), the
//     query (2/24, base64 of the query as sent, for searches) and the
//     transaction (BALP XrequestId, the X-Request-ID);
//   - extensions (see ExtensionBase) for the sequence number, the
//     correlation ID, the relationship and its evidence and the error
//     code.
//
// The recorded time is Event.Recorded, or Event.Time when the event has
// not been written to a log; period.start is Event.Time.
func ToFHIR(e Event) fhir.AuditEvent {
	a := fhir.AuditEvent{}

	switch e.Action {
	case ActionDisclose:
		a.Type = coding(systemDICOM, "110106", "Export")
		a.Subtype = []fhir.Coding{
			coding(systemLifecycle, "disclose", "Disclose Record Lifecycle Event"),
			coding(systemRestful, "read", "read"),
		}
	default:
		a.Type = coding(systemAuditEventType, "rest", "Restful Operation")
		if sub := restfulInteraction(e.Action); sub != "" {
			a.Subtype = []fhir.Coding{coding(systemRestful, sub, sub)}
		}
	}
	if act, ok := fhirAction(e.Action); ok {
		a.Action = &act
	}

	recorded := e.Recorded
	if recorded.IsZero() {
		recorded = e.Time
	}
	a.Recorded = fhirInstant(recorded)
	if !e.Time.IsZero() {
		a.Period = &fhir.Period{Start: ptr(fhirInstant(e.Time))}
	}
	if out, ok := fhirOutcome(e.Outcome); ok {
		a.Outcome = &out
	}
	if desc := outcomeDesc(e); desc != "" {
		a.OutcomeDesc = &desc
	}
	if code := e.Purpose.ActReason(); code != "" {
		a.PurposeOfEvent = []fhir.CodeableConcept{{Coding: []fhir.Coding{
			coding(shcrkit.ActReasonSystem, code, e.Purpose.ActReasonDisplay()),
		}}}
	}

	a.Agent = fhirAgents(e)

	r := e.Requester
	a.Source = fhir.AuditEventSource{
		Observer: systemReference(r.System),
		Type:     []fhir.Coding{coding(systemSourceType, "4", "Application Server")},
	}
	if r.Organisation != "" {
		a.Source.Site = ptr(string(r.Organisation))
	}

	a.Entity = fhirEntities(e)
	a.Extension = fhirExtensions(e)
	return a
}

func fhirAgents(e Event) []fhir.AuditEventAgent {
	r := e.Requester
	var agents []fhir.AuditEventAgent

	if r.UserID != "" {
		user := fhir.AuditEventAgent{
			Type:      &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemParticipation, "IRCP", "information recipient")}},
			Who:       &fhir.Reference{Identifier: identifier(systemSDSUserID, r.UserID), Display: nonEmpty(r.Name)},
			Name:      nonEmpty(r.Name),
			AltId:     nonEmpty(r.RoleProfileID),
			Requestor: true,
		}
		if role := userRole(r.RoleProfileID, r.JobRole(), r.RoleName); role != nil {
			user.Role = []fhir.CodeableConcept{*role}
		}
		if e.Rule != "" {
			user.Policy = []string{e.Rule}
		}
		if code := e.Purpose.ActReason(); code != "" || e.BreakGlassReason != "" {
			pou := fhir.CodeableConcept{Text: nonEmpty(e.BreakGlassReason)}
			if code != "" {
				pou.Coding = []fhir.Coding{coding(shcrkit.ActReasonSystem, code, e.Purpose.ActReasonDisplay())}
			}
			user.PurposeOfUse = []fhir.CodeableConcept{pou}
		}
		agents = append(agents, user)
	}

	if r.Organisation != "" {
		agents = append(agents, fhir.AuditEventAgent{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemRoleClass, "PROV", "healthcare provider")}},
			Who: &fhir.Reference{
				Type:       ptr("Organization"),
				Identifier: identifier(shcrkit.ODSSystem, string(r.Organisation)),
				Display:    nonEmpty(r.OrganisationName),
			},
			// Without a user (application-restricted access) the
			// organisation's system is the requestor.
			Requestor: r.UserID == "",
		})
	}

	if o := e.OnBehalfOf; o != nil {
		auth := fhir.AuditEventAgent{
			Type:      &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemParticipation, "RESP", "responsible party")}},
			Who:       &fhir.Reference{Identifier: identifier(systemSDSUserID, o.UserID), Display: nonEmpty(o.Name)},
			Name:      nonEmpty(o.Name),
			AltId:     nonEmpty(o.RoleProfileID),
			Requestor: false,
		}
		var jobRole string
		if o.RoleCode != "" {
			jobRole = shcrkit.Requester{RoleCode: o.RoleCode}.JobRole()
		}
		if role := userRole(o.RoleProfileID, jobRole, ""); role != nil {
			auth.Role = []fhir.CodeableConcept{*role}
		}
		agents = append(agents, auth)
	}

	// BALP: for a read the data flows from the server (Source Role ID) to
	// the client (Destination Role ID); for searches and changes the
	// request flows from the client (Source) to the server (Destination).
	clientType, serverType := dicomRole("110153"), dicomRole("110152")
	if e.Action == ActionRead || e.Action == ActionDisclose {
		clientType, serverType = dicomRole("110152"), dicomRole("110153")
	}
	client := fhir.AuditEventAgent{
		Type:      clientType,
		Who:       ptr(systemReference(r.System)),
		Requestor: false,
	}
	server := fhir.AuditEventAgent{
		Type:      serverType,
		Who:       serverReference(e),
		Requestor: false,
	}
	if e.Endpoint != "" {
		nt := fhir.AuditEventAgentNetworkType5 // URI
		server.Network = &fhir.AuditEventAgentNetwork{Address: ptr(e.Endpoint), Type: &nt}
	}
	return append(agents, client, server)
}

func fhirEntities(e Event) []fhir.AuditEventEntity {
	var ents []fhir.AuditEventEntity
	if e.Patient != "" {
		id := e.Patient.Identifier()
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Type: ptr("Patient"), Identifier: &id},
			Type: ptr(coding(systemEntityType, "1", "Person")),
			Role: ptr(coding(systemObjectRole, "1", "Patient")),
		})
	}
	if e.ResourceID() != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Reference: ptr(e.Resource), Type: nonEmpty(e.ResourceType())},
			Type: ptr(coding(systemEntityType, "2", "System Object")),
			Role: ptr(coding(systemObjectRole, "4", "Domain Resource")),
		})
	}
	if e.Action == ActionSearch {
		raw := e.RawQuery()
		if rt := e.ResourceType(); rt != "" && e.ResourceID() == "" {
			raw = rt + "?" + raw
		}
		q := base64.StdEncoding.EncodeToString([]byte(raw))
		ents = append(ents, fhir.AuditEventEntity{
			Type:  ptr(coding(systemEntityType, "2", "System Object")),
			Role:  ptr(coding(systemObjectRole, "24", "Query")),
			Query: &q,
		})
	}
	if e.RequestID != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Identifier: &fhir.Identifier{Value: ptr(e.RequestID)}},
			Type: ptr(coding(systemBALPEntityType, "XrequestId", "transport specific unique identifier where http X-Request-Id is used")),
		})
	}
	return ents
}

func fhirExtensions(e Event) []fhir.Extension {
	var ext []fhir.Extension
	if e.Seq != 0 {
		ext = append(ext, fhir.Extension{Url: ExtensionSequence, ValueString: ptr(strconv.FormatUint(e.Seq, 10))})
	}
	if e.CorrelationID != "" {
		ext = append(ext, fhir.Extension{Url: ExtensionCorrelationID, ValueString: ptr(e.CorrelationID)})
	}
	if e.Relationship != shcrkit.RelationshipNone {
		ext = append(ext, fhir.Extension{Url: ExtensionRelationship, ValueCode: ptr(e.Relationship.String())})
	}
	if e.RelationshipEvidence != "" {
		ext = append(ext, fhir.Extension{Url: ExtensionRelationshipEvidence, ValueString: ptr(e.RelationshipEvidence)})
	}
	if e.ErrorCode != "" {
		ext = append(ext, fhir.Extension{Url: ExtensionErrorCode, ValueCode: ptr(e.ErrorCode)})
	}
	return ext
}

func restfulInteraction(a Action) string {
	switch a {
	case ActionRead:
		return "read"
	case ActionSearch:
		return "search"
	case ActionCreate:
		return "create"
	case ActionUpdate:
		return "update"
	case ActionDelete:
		return "delete"
	}
	return ""
}

func fhirAction(a Action) (fhir.AuditEventAction, bool) {
	switch a {
	case ActionRead, ActionDisclose:
		return fhir.AuditEventActionR, true
	case ActionSearch:
		return fhir.AuditEventActionE, true
	case ActionCreate:
		return fhir.AuditEventActionC, true
	case ActionUpdate:
		return fhir.AuditEventActionU, true
	case ActionDelete:
		return fhir.AuditEventActionD, true
	}
	return 0, false
}

func fhirOutcome(o Outcome) (fhir.AuditEventOutcome, bool) {
	switch o {
	case OutcomeSuccess:
		return fhir.AuditEventOutcome0, true
	case OutcomeRefused:
		return fhir.AuditEventOutcome4, true
	case OutcomeFailed:
		return fhir.AuditEventOutcome8, true
	}
	return 0, false
}

func outcomeDesc(e Event) string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.ErrorCode != "" {
		parts = append(parts, "error code "+e.ErrorCode)
	}
	return strings.Join(parts, "; ")
}

func userRole(roleProfileID, jobRole, roleName string) *fhir.CodeableConcept {
	if roleProfileID == "" && jobRole == "" && roleName == "" {
		return nil
	}
	cc := &fhir.CodeableConcept{Text: nonEmpty(roleName)}
	if jobRole != "" {
		cc.Coding = append(cc.Coding, coding(systemSDSJobRole, jobRole, ""))
	}
	if roleProfileID != "" {
		cc.Coding = append(cc.Coding, coding(systemSDSRoleProfileID, roleProfileID, ""))
	}
	return cc
}

func dicomRole(code string) *fhir.CodeableConcept {
	display := "Source Role ID"
	if code == "110152" {
		display = "Destination Role ID"
	}
	return &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemDICOM, code, display)}}
}

// systemReference identifies the calling product: its ASID when it has
// one, and its name and version.
func systemReference(s shcrkit.System) fhir.Reference {
	ref := fhir.Reference{Type: ptr("Device")}
	name := strings.TrimSpace(s.Name + " " + s.Version)
	if name == "" {
		name = "shcrkit " + shcrkit.Version
	}
	ref.Display = &name
	if s.ASID != "" {
		ref.Identifier = identifier(systemASID, s.ASID)
	}
	return ref
}

func serverReference(e Event) *fhir.Reference {
	ref := &fhir.Reference{Display: ptr(e.Service.Display())}
	if e.Custodian != "" {
		ref.Type = ptr("Organization")
		ref.Identifier = identifier(shcrkit.ODSSystem, string(e.Custodian))
	}
	return ref
}

func coding(system, code, display string) fhir.Coding {
	return fhir.Coding{System: &system, Code: &code, Display: nonEmpty(display)}
}

func identifier(system, value string) *fhir.Identifier {
	return &fhir.Identifier{System: &system, Value: &value}
}

func fhirInstant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ptr[T any](v T) *T { return &v }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrInvalidFHIR is matched by errors from ParseFHIR and ValidateFHIR.
var ErrInvalidFHIR = errors.New("audit: invalid FHIR AuditEvent")

// ParseFHIR decodes an R4 AuditEvent from JSON and validates it with
// ValidateFHIR. It is the path by which AuditEvents produced by ToFHIR
// (and those received from elsewhere) are read back.
func ParseFHIR(data []byte) (fhir.AuditEvent, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fhir.AuditEvent{}, fmt.Errorf("%w: %v", ErrInvalidFHIR, err)
	}
	if head.ResourceType != "AuditEvent" {
		return fhir.AuditEvent{}, fmt.Errorf("%w: resourceType is %q", ErrInvalidFHIR, head.ResourceType)
	}
	a, err := fhir.UnmarshalAuditEvent(data)
	if err != nil {
		return fhir.AuditEvent{}, fmt.Errorf("%w: %v", ErrInvalidFHIR, err)
	}
	verr := ValidateFHIR(a)
	if err := requestorsPresent(data); err != nil {
		verr = errors.Join(verr, err)
	}
	if verr != nil {
		return fhir.AuditEvent{}, verr
	}
	return a, nil
}

// requestorsPresent checks that every agent states requestor, which R4
// makes mandatory (1..1) but the decoded type cannot tell from false.
func requestorsPresent(data []byte) error {
	var raw struct {
		Agent []map[string]json.RawMessage `json:"agent"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFHIR, err)
	}
	var errs []error
	for i, ag := range raw.Agent {
		var b bool
		if r, ok := ag["requestor"]; !ok || json.Unmarshal(r, &b) != nil {
			errs = append(errs, fmt.Errorf("%w: agent[%d].requestor is required (true or false)", ErrInvalidFHIR, i))
		}
	}
	return errors.Join(errs...)
}

// ValidateFHIR checks the elements that R4 makes mandatory in an
// AuditEvent (type, recorded as an instant, at least one agent, source
// with an observer, a type and value for every entity detail) and its
// invariant sev-1 (an entity has a name or a query, not both), and that
// every Reference it holds refers to something. It returns every problem
// at once, each matching ErrInvalidFHIR.
func ValidateFHIR(a fhir.AuditEvent) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidFHIR}, args...)...))
	}
	if a.Type.Code == nil || *a.Type.Code == "" {
		bad("type.code is required")
	}
	if a.Recorded == "" {
		bad("recorded is required")
	} else if _, err := time.Parse(time.RFC3339Nano, a.Recorded); err != nil {
		bad("recorded %q is not an instant", a.Recorded)
	}
	if len(a.Agent) == 0 {
		bad("at least one agent is required")
	}
	for i, ag := range a.Agent {
		if ag.Who != nil && emptyReference(*ag.Who) {
			bad("agent[%d].who refers to nothing", i)
		}
		if ag.Type == nil && ag.Who == nil && ag.Name == nil {
			bad("agent[%d] has no type, who or name", i)
		}
	}
	if emptyReference(a.Source.Observer) {
		bad("source.observer is required")
	}
	for i, en := range a.Entity {
		if en.Name != nil && en.Query != nil {
			bad("entity[%d] has both name and query (sev-1)", i)
		}
		if en.What != nil && emptyReference(*en.What) {
			bad("entity[%d].what refers to nothing", i)
		}
		if en.Query != nil {
			if _, err := base64.StdEncoding.DecodeString(*en.Query); err != nil {
				bad("entity[%d].query is not base64", i)
			}
		}
		for j, d := range en.Detail {
			if d.Type == "" {
				bad("entity[%d].detail[%d].type is required", i, j)
			}
			if d.ValueString == "" && d.ValueBase64Binary == "" {
				bad("entity[%d].detail[%d].value is required", i, j)
			}
		}
	}
	for i, ext := range a.Extension {
		if ext.Url == "" {
			bad("extension[%d].url is required", i)
		}
	}
	return errors.Join(errs...)
}

func emptyReference(r fhir.Reference) bool {
	return (r.Reference == nil || *r.Reference == "") &&
		(r.Identifier == nil || r.Identifier.Value == nil || *r.Identifier.Value == "") &&
		(r.Display == nil || *r.Display == "")
}
