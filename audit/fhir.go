package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
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
	// ExtensionRelationshipVerification carries
	// Event.RelationshipVerification (valueString).
	ExtensionRelationshipVerification = ExtensionBase + "relationship-verification"
	// ExtensionAdHocSharing carries Event.AdHocSharing (valueString).
	ExtensionAdHocSharing = ExtensionBase + "ad-hoc-sharing"
	// ExtensionErrorCode carries Event.ErrorCode (valueCode).
	ExtensionErrorCode = ExtensionBase + "error-code"
)

// More extension URLs written by ToFHIR, for the parts of an Event that
// BALP has no element for, so that EventFromFHIR gives the event back.
const (
	// ExtensionService carries Event.Service (valueCode).
	ExtensionService = ExtensionBase + "service"
	// ExtensionDecidedAction carries, on a decision, the Event.Action
	// decided on (valueCode): a decision's own action is always E.
	ExtensionDecidedAction = ExtensionBase + "decided-action"
	// ExtensionDecisionID carries, on a decision, Event.DecisionID
	// (valueUuid, urn:uuid:...). An interaction names the decision that
	// authorised it in an entity instead (see ToFHIR).
	ExtensionDecisionID = ExtensionBase + "decision-id"
	// ExtensionDecisionRecord carries, on a pointer's decision, the record
	// decided on (valueReference with the pointer's business identifier).
	ExtensionDecisionRecord = ExtensionBase + "decision-record"
	// ExtensionPolicy carries Event.Policy on an interaction (a decision
	// names it in its authorizer agent).
	ExtensionPolicy = ExtensionBase + "policy"
	// ExtensionOutcome refers, on a refused or failed decision, to the
	// contained OperationOutcome (valueReference "#outcome"): BALP's
	// authorization pattern closes its entity list to the patient, the
	// consent and the token.
	ExtensionOutcome = ExtensionBase + "outcome"
	// ExtensionEndpoint carries, on the server agent, Event.Endpoint when
	// the agent's network address is another host's (valueUri): the
	// provider's service root behind the Spine Secure Proxy.
	ExtensionEndpoint = ExtensionBase + "endpoint"
	// ExtensionUserFamily carries Event.UserFamily (valueString).
	ExtensionUserFamily = ExtensionBase + "user-family"
	// ExtensionPatientFamily carries Event.PatientFamily (valueString).
	ExtensionPatientFamily = ExtensionBase + "patient-family"
	// ExtensionRoleCode carries Requester.RoleCode in full (valueString).
	ExtensionRoleCode = ExtensionBase + "role-code"
	// ExtensionActivity carries one of Requester.Activities (valueCode),
	// repeated in order.
	ExtensionActivity = ExtensionBase + "activity"
	// ExtensionAssuranceLevel carries Requester.AssuranceLevel
	// (valueInteger).
	ExtensionAssuranceLevel = ExtensionBase + "assurance-level"
	// ExtensionSystemName and ExtensionSystemVersion carry
	// Requester.System's name and version (valueString).
	ExtensionSystemName    = ExtensionBase + "system-name"
	ExtensionSystemVersion = ExtensionBase + "system-version"
	// ExtensionOnBehalfOfRoleCode and ExtensionOnBehalfOfOrganisation
	// carry OnBehalfOf's role code and organisation (valueString).
	ExtensionOnBehalfOfRoleCode     = ExtensionBase + "on-behalf-of-role-code"
	ExtensionOnBehalfOfOrganisation = ExtensionBase + "on-behalf-of-organisation"
	// ExtensionInvestigation carries Event.Investigation as its JSON
	// (valueString).
	ExtensionInvestigation = ExtensionBase + "investigation"
)

// Code and identifier systems of ToFHIR's own.
const (
	// ErrorCodeSystem is the system of the error codes in the
	// OperationOutcome of a refused or failed event (Event.ErrorCode: a
	// Spine error code, an SDK code such as HOST_NOT_ALLOWED, or an HTTP
	// status).
	ErrorCodeSystem = "https://github.com/shcrkit/shcrkit/audit/CodeSystem/error-code"
	// PointerIDSystem is the system of a record's business identifier: an
	// NRL pointer's ID, assigned by its custodian (Identifier.assigner,
	// the custodian's ODS code).
	PointerIDSystem = "https://github.com/shcrkit/shcrkit/audit/NamingSystem/nrl-pointer-id"
	// PolicyRuleSystem prefixes the system of a decision's authorizer
	// identifier: PolicyRuleSystem + the policy's name (path-escaped),
	// with the rule as the value.
	PolicyRuleSystem = "https://github.com/shcrkit/shcrkit/audit/NamingSystem/policy/"
	// OutcomeID is the id of the contained OperationOutcome.
	OutcomeID = "outcome"
)

const (
	systemAuthZSubtype   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType"
	systemSecurityRole   = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	systemResourceTypes  = "http://hl7.org/fhir/resource-types"
	systemURI            = "urn:ietf:rfc:3986"
	consentDisplay       = "the patient's consent and dissent as recorded locally"
	decisionLinkDisplay  = "the access decision that authorised this request"
	defaultDeviceDisplay = "shcrkit"
)

// ToFHIR maps an event to an R4 AuditEvent following the IHE Basic Audit
// Log Patterns (BALP). An interaction (a call to a service) follows the
// RESTful patterns (Read, PatientRead, Query, PatientQuery); a decision
// follows the authorization-decision pattern (AuthZconsent):
//
//   - type: audit-event-type "rest" with the restful-interaction subtype
//     (DICOM 110106 Export with the iso-21089-lifecycle disclose subtype
//     for a disclosure); for a decision DICOM 110113 Security Alert with
//     the BALP AuthZsubType AuthZ-Consent (the policy weighs roles and the
//     patient's dissent) and action E;
//   - action R, E, C, U or D; outcome 0 (success), 4 (refused) or 8
//     (failed), with outcomeDesc the reason;
//   - agents: the user (v3-ParticipationType IRCP, requestor, SDS user ID,
//     role profile and job role, purposeOfUse from the purpose with the
//     break-glass reason as its text); the user's organisation
//     (v3-RoleClass PROV, ODS code); the person on whose authority the
//     user acted (RESP), when given; the client (the calling system on
//     the SDK's host, network ClientAddress) and, for an interaction, the
//     server (the custodian's ODS code, or the service's root URL as a
//     URI identifier, network ServerAddress, or Endpoint when there is
//     none), as DICOM Source and Destination Role IDs in the direction
//     BALP gives for the action; for a decision the client is DICOM
//     110150 Application and the authorizer (extra-security-role-type
//     authserver) names the policy and its rule;
//   - source: site the user's organisation, observer the calling system,
//     type 4 (application server);
//   - entities: the patient (audit-entity-type 1, object-role 1, NHS
//     number identifier); the data (2/4) as an absolute URL (Endpoint and
//     Resource) or, for a custodian's record, the pointer's business
//     identifier (PointerIDSystem, assigned by the custodian), with the
//     record's confidentiality label; for a search the query (2/24:
//     base64 of the request as sent, the cleaned Type?params form in
//     description); the transaction (BALP XrequestId); the decision that
//     authorised the request (4/13, urn:uuid:DecisionID); and, for a
//     refused or failed interaction, the OperationOutcome (resource-types
//     OperationOutcome, "#outcome"). A decision lists the patient and the
//     consent only, as AuthZconsent requires; its record, decision ID and
//     outcome are extensions;
//   - extensions (see ExtensionBase) for what BALP has no element for.
//
// fhir.AuditEvent has no contained element: MarshalFHIR writes the
// AuditEvent with the OperationOutcome (FHIROutcome) contained, as an
// audit repository must receive it.
//
// The recorded time is Event.Recorded, or Event.Time when the event has
// not been written to a log; period.start is Event.Time.
func ToFHIR(e Event) fhir.AuditEvent {
	a := fhir.AuditEvent{}
	decision := e.IsDecision()

	switch {
	case decision:
		a.Type = coding(systemDICOM, "110113", "Security Alert")
		a.Subtype = []fhir.Coding{coding(systemAuthZSubtype, "AuthZ-Consent", "Authorization Decision using Roles and Consent")}
		act := fhir.AuditEventActionE
		a.Action = &act
	case e.Action == ActionDisclose:
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
	if act, ok := fhirAction(e.Action); ok && !decision {
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
	a.OutcomeDesc = nonEmpty(e.Reason)
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

// FHIROutcome returns the OperationOutcome of a refused or failed event
// (nil for a success): one error issue, code forbidden (refused) or
// exception (failed), its details the error code (ErrorCodeSystem) and
// the reason with NHS numbers masked.
func FHIROutcome(e Event) *fhir.OperationOutcome {
	if e.Outcome == OutcomeSuccess || (e.Outcome != OutcomeRefused && e.Outcome != OutcomeFailed) {
		return nil
	}
	issue := fhir.OperationOutcomeIssue{Severity: fhir.IssueSeverityError, Code: fhir.IssueTypeException}
	if e.Outcome == OutcomeRefused {
		issue.Code = fhir.IssueTypeForbidden
	}
	details := fhir.CodeableConcept{Text: nonEmpty(shcrkit.MaskNHSNumbers(e.Reason))}
	if e.ErrorCode != "" {
		details.Coding = []fhir.Coding{coding(ErrorCodeSystem, e.ErrorCode, "")}
	}
	if details.Text != nil || details.Coding != nil {
		issue.Details = &details
	}
	return &fhir.OperationOutcome{Id: ptr(OutcomeID), Issue: []fhir.OperationOutcomeIssue{issue}}
}

// MarshalFHIR returns the JSON of ToFHIR(e) with FHIROutcome(e), when
// there is one, contained: the AuditEvent as an audit repository takes it.
func MarshalFHIR(e Event) ([]byte, error) {
	data, err := json.Marshal(ToFHIR(e))
	if err != nil {
		return nil, err
	}
	oo := FHIROutcome(e)
	if oo == nil {
		return data, nil
	}
	ooJSON, err := json.Marshal(oo)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["contained"] = json.RawMessage("[" + string(ooJSON) + "]")
	return json.Marshal(m)
}

func fhirAgents(e Event) []fhir.AuditEventAgent {
	r := e.Requester
	decision := e.IsDecision()
	var agents []fhir.AuditEventAgent

	pou := func() []fhir.CodeableConcept {
		code := e.Purpose.ActReason()
		if code == "" && e.BreakGlassReason == "" {
			return nil
		}
		cc := fhir.CodeableConcept{Text: nonEmpty(e.BreakGlassReason)}
		if code != "" {
			cc.Coding = []fhir.Coding{coding(shcrkit.ActReasonSystem, code, e.Purpose.ActReasonDisplay())}
		}
		return []fhir.CodeableConcept{cc}
	}

	if r.UserID != "" {
		user := fhir.AuditEventAgent{
			Type:         &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemParticipation, "IRCP", "information recipient")}},
			Who:          &fhir.Reference{Identifier: identifier(systemSDSUserID, r.UserID), Display: nonEmpty(r.Name)},
			Name:         nonEmpty(r.Name),
			Requestor:    true,
			PurposeOfUse: pou(),
		}
		if !decision {
			// AuthZconsent leaves out altId; the role carries the
			// role profile ID either way.
			user.AltId = nonEmpty(r.RoleProfileID)
			if e.Rule != "" {
				user.Policy = []string{e.Rule}
			}
		}
		if role := userRole(r.RoleProfileID, r.JobRole(), r.RoleName); role != nil {
			user.Role = []fhir.CodeableConcept{*role}
		}
		agents = append(agents, user)
	}

	if r.Organisation != "" {
		org := fhir.AuditEventAgent{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemRoleClass, "PROV", "healthcare provider")}},
			Who: &fhir.Reference{
				Type:       ptr("Organization"),
				Identifier: identifier(shcrkit.ODSSystem, string(r.Organisation)),
				Display:    nonEmpty(r.OrganisationName),
			},
			// Without a user (application-restricted access) the
			// organisation's system is the requestor.
			Requestor: r.UserID == "",
		}
		if r.UserID == "" {
			org.PurposeOfUse = pou()
		}
		agents = append(agents, org)
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

	client := fhir.AuditEventAgent{Who: ptr(systemReference(r.System)), Requestor: false, Network: hostNetwork(e.ClientAddress)}
	if decision {
		client.Type = &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemDICOM, "110150", "Application")}}
		authorizer := fhir.AuditEventAgent{
			Type:      &fhir.CodeableConcept{Coding: []fhir.Coding{coding(systemSecurityRole, "authserver", "authorization server")}},
			Who:       policyReference(e.Policy, e.Rule),
			Requestor: false,
		}
		return append(agents, client, authorizer)
	}

	// BALP: for a read the data flows from the server (Source Role ID) to
	// the client (Destination Role ID); for searches and changes the
	// request flows from the client (Source) to the server (Destination).
	clientType, serverType := dicomRole("110153"), dicomRole("110152")
	if e.Action == ActionRead || e.Action == ActionDisclose {
		clientType, serverType = dicomRole("110152"), dicomRole("110153")
	}
	client.Type = clientType
	server := fhir.AuditEventAgent{
		Type:      serverType,
		Who:       serverReference(e),
		Requestor: false,
	}
	switch {
	case e.ServerAddress != "":
		server.Network = hostNetwork(e.ServerAddress)
		if e.Endpoint != "" {
			server.Extension = []fhir.Extension{{Url: ExtensionEndpoint, ValueUri: ptr(e.Endpoint)}}
		}
	case e.Endpoint != "":
		nt := fhir.AuditEventAgentNetworkType5 // URI
		server.Network = &fhir.AuditEventAgentNetwork{Address: ptr(e.Endpoint), Type: &nt}
	}
	return append(agents, client, server)
}

// hostNetwork is an agent's network: an IP address (type 2) or a machine
// name (type 1).
func hostNetwork(addr string) *fhir.AuditEventAgentNetwork {
	if addr == "" {
		return nil
	}
	nt := fhir.AuditEventAgentNetworkType1
	if net.ParseIP(addr) != nil {
		nt = fhir.AuditEventAgentNetworkType2
	}
	return &fhir.AuditEventAgentNetwork{Address: ptr(addr), Type: &nt}
}

// policyReference names the policy and rule that decided.
func policyReference(policy, rule string) *fhir.Reference {
	display := "access policy"
	if policy != "" {
		display += " " + policy
	}
	if rule != "" {
		display += ", rule " + rule
	}
	ref := &fhir.Reference{Type: ptr("Device"), Display: &display}
	if rule != "" {
		ref.Identifier = identifier(PolicyRuleSystem+url.PathEscape(policy), rule)
	}
	return ref
}

// dataReference identifies what an event read in a way that resolves
// without knowing which service was called: a custodian's record by its
// pointer's business identifier, anything else by its absolute URL.
func dataReference(resource, endpoint string, custodian shcrkit.ODSCode) *fhir.Reference {
	typ, id, _ := strings.Cut(resource, "/")
	switch {
	case strings.Contains(resource, "://"):
		return &fhir.Reference{Reference: ptr(resource)}
	case custodian != "" && id != "":
		ident := identifier(PointerIDSystem, id)
		ident.Assigner = &fhir.Reference{Type: ptr("Organization"), Identifier: identifier(shcrkit.ODSSystem, string(custodian))}
		return &fhir.Reference{Type: nonEmpty(typ), Identifier: ident}
	case endpoint != "" && id != "":
		return &fhir.Reference{Reference: ptr(strings.TrimSuffix(endpoint, "/") + "/" + resource), Type: nonEmpty(typ)}
	}
	return &fhir.Reference{Reference: ptr(resource), Type: nonEmpty(typ)}
}

func confidentialityLabel(c shcrkit.Confidentiality) []fhir.Coding {
	if !c.Restricted() || !c.Valid() {
		return nil
	}
	return []fhir.Coding{c.Coding()}
}

func fhirEntities(e Event) []fhir.AuditEventEntity {
	var ents []fhir.AuditEventEntity
	decision := e.IsDecision()
	if e.Patient != "" {
		id := e.Patient.Identifier()
		p := fhir.AuditEventEntity{
			What: &fhir.Reference{Type: ptr("Patient"), Identifier: &id},
			Type: ptr(coding(systemEntityType, "1", "Person")),
			Role: ptr(coding(systemObjectRole, "1", "Patient")),
		}
		if decision || e.ResourceID() == "" {
			p.SecurityLabel = confidentialityLabel(e.Confidentiality)
		}
		ents = append(ents, p)
	}
	if decision {
		return append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Display: ptr(consentDisplay)},
			Type: ptr(coding(systemResourceTypes, "Consent", "Consent")),
		})
	}
	if e.ResourceID() != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What:          dataReference(e.Resource, e.Endpoint, e.Custodian),
			Type:          ptr(coding(systemEntityType, "2", "System Object")),
			Role:          ptr(coding(systemObjectRole, "4", "Domain Resource")),
			SecurityLabel: confidentialityLabel(e.Confidentiality),
		})
	}
	if e.Action == ActionSearch {
		cleaned := e.ResourceType() + "?" + e.RawQuery()
		raw := e.RawRequest()
		if raw == "" {
			raw = cleaned
		}
		q := base64.StdEncoding.EncodeToString([]byte(raw))
		ents = append(ents, fhir.AuditEventEntity{
			Type:        ptr(coding(systemEntityType, "2", "System Object")),
			Role:        ptr(coding(systemObjectRole, "24", "Query")),
			Description: &cleaned,
			Query:       &q,
		})
	}
	if e.RequestID != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Identifier: &fhir.Identifier{Value: ptr(e.RequestID)}},
			Type: ptr(coding(systemBALPEntityType, "XrequestId", "transport specific unique identifier where http X-Request-Id is used")),
		})
	}
	if e.DecisionID != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What:        &fhir.Reference{Identifier: identifier(systemURI, "urn:uuid:"+e.DecisionID)},
			Type:        ptr(coding(systemEntityType, "4", "Other")),
			Role:        ptr(coding(systemObjectRole, "13", "Security Resource")),
			Description: ptr(decisionLinkDisplay),
		})
	}
	if FHIROutcome(e) != nil {
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Reference: ptr("#" + OutcomeID), Type: ptr("OperationOutcome")},
			Type: ptr(coding(systemResourceTypes, "OperationOutcome", "OperationOutcome")),
		})
	}
	return ents
}

func fhirExtensions(e Event) []fhir.Extension {
	var ext []fhir.Extension
	str := func(u, v string) {
		if v != "" {
			ext = append(ext, fhir.Extension{Url: u, ValueString: ptr(v)})
		}
	}
	code := func(u, v string) {
		if v != "" {
			ext = append(ext, fhir.Extension{Url: u, ValueCode: ptr(v)})
		}
	}
	if e.Seq != 0 {
		str(ExtensionSequence, strconv.FormatUint(e.Seq, 10))
	}
	str(ExtensionCorrelationID, e.CorrelationID)
	if e.Relationship != shcrkit.RelationshipNone {
		code(ExtensionRelationship, e.Relationship.String())
	}
	str(ExtensionRelationshipEvidence, e.RelationshipEvidence)
	str(ExtensionRelationshipVerification, e.RelationshipVerification)
	str(ExtensionAdHocSharing, e.AdHocSharing)
	code(ExtensionErrorCode, e.ErrorCode)
	code(ExtensionService, string(e.Service))
	if e.IsDecision() {
		code(ExtensionDecidedAction, string(e.Action))
		if e.DecisionID != "" {
			ext = append(ext, fhir.Extension{Url: ExtensionDecisionID, ValueUuid: ptr("urn:uuid:" + e.DecisionID)})
		}
		if e.ResourceID() != "" {
			ext = append(ext, fhir.Extension{Url: ExtensionDecisionRecord, ValueReference: dataReference(e.Resource, e.Endpoint, e.Custodian)})
		}
		if FHIROutcome(e) != nil {
			ext = append(ext, fhir.Extension{Url: ExtensionOutcome, ValueReference: &fhir.Reference{Reference: ptr("#" + OutcomeID), Type: ptr("OperationOutcome")}})
		}
	} else {
		str(ExtensionPolicy, e.Policy)
	}
	r := e.Requester
	str(ExtensionUserFamily, e.UserFamily)
	str(ExtensionPatientFamily, e.PatientFamily)
	str(ExtensionRoleCode, r.RoleCode)
	for _, a := range r.Activities {
		code(ExtensionActivity, a)
	}
	if r.AssuranceLevel != 0 {
		ext = append(ext, fhir.Extension{Url: ExtensionAssuranceLevel, ValueInteger: ptr(int(r.AssuranceLevel))})
	}
	str(ExtensionSystemName, r.System.Name)
	str(ExtensionSystemVersion, r.System.Version)
	if o := e.OnBehalfOf; o != nil {
		str(ExtensionOnBehalfOfRoleCode, o.RoleCode)
		str(ExtensionOnBehalfOfOrganisation, string(o.Organisation))
	}
	if inv := e.Investigation; inv != nil {
		if b, err := json.Marshal(inv); err == nil {
			str(ExtensionInvestigation, string(b))
		}
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
		name = defaultDeviceDisplay + " " + shcrkit.Version
	}
	ref.Display = &name
	if s.ASID != "" {
		ref.Identifier = identifier(systemASID, s.ASID)
	}
	return ref
}

// serverReference identifies the service called: the custodian by its
// ODS code, a national service by its root URL.
func serverReference(e Event) *fhir.Reference {
	ref := &fhir.Reference{Display: ptr(e.Service.Display())}
	switch {
	case e.Custodian != "":
		ref.Type = ptr("Organization")
		ref.Identifier = identifier(shcrkit.ODSSystem, string(e.Custodian))
	case e.Endpoint != "":
		ref.Type = ptr("Device")
		ref.Identifier = identifier(systemURI, e.Endpoint)
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
	if err := localReferences(data); err != nil {
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
