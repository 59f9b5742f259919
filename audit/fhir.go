package audit

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/balp"
	"github.com/shcrkit/shcrkit/internal/codesystem"
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
//     identifier (naming system .../audit/NamingSystem/nrl-pointer-id,
//     assigned by the custodian), with the
//     record's confidentiality label; for a search the query (2/24:
//     base64 of the request as sent, the cleaned Type?params form in
//     description); the transaction (BALP XrequestId); the decision that
//     authorised the request (4/13, urn:uuid:DecisionID); and, for a
//     refused or failed interaction, the OperationOutcome (resource-types
//     OperationOutcome, "#outcome"). A decision lists the patient and the
//     consent only, as AuthZconsent requires; its record, decision ID and
//     outcome are extensions;
//   - extensions (URLs under
//     https://github.com/shcrkit/shcrkit/audit/StructureDefinition/) for
//     what BALP has no element for, so that DecodeFHIR gives the
//     event back.
//
// fhir.AuditEvent has no contained element: MarshalFHIR writes the
// AuditEvent with the OperationOutcome of a refused or failed event
// contained, as an audit repository must receive it.
//
// The recorded time is Event.Recorded, or Event.Time when the event has
// not been written to a log; period.start is Event.Time.
func ToFHIR(e Event) fhir.AuditEvent {
	a := fhir.AuditEvent{}
	decision := e.Kind == KindDecision

	switch {
	case decision:
		a.Type = balp.Coding(balp.SystemDICOM, "110113", "Security Alert")
		a.Subtype = []fhir.Coding{balp.Coding(balp.SystemAuthZSubtype, "AuthZ-Consent", "Authorization Decision using Roles and Consent")}
		act := fhir.AuditEventActionE
		a.Action = &act
	case e.Action == ActionDisclose:
		a.Type = balp.Coding(balp.SystemDICOM, "110106", "Export")
		a.Subtype = []fhir.Coding{
			balp.Coding(balp.SystemLifecycle, "disclose", "Disclose Record Lifecycle Event"),
			balp.Coding(balp.SystemRestful, "read", "read"),
		}
	default:
		a.Type = balp.Coding(balp.SystemAuditEventType, "rest", "Restful Operation")
		if sub := restfulInteractions[e.Action]; sub != "" {
			a.Subtype = []fhir.Coding{balp.Coding(balp.SystemRestful, sub, sub)}
		}
	}
	if act, ok := fhirActions[e.Action]; ok && !decision {
		a.Action = &act
	}

	recorded := e.Recorded
	if recorded.IsZero() {
		recorded = e.Time
	}
	a.Recorded = balp.Instant(recorded)
	if !e.Time.IsZero() {
		a.Period = &fhir.Period{Start: balp.Ptr(balp.Instant(e.Time))}
	}
	if out, ok := fhirOutcomes[e.Outcome]; ok {
		a.Outcome = &out
	}
	a.OutcomeDesc = balp.NonEmpty(e.Reason)
	if code := e.Purpose.ActReason(); code != "" {
		a.PurposeOfEvent = []fhir.CodeableConcept{{Coding: []fhir.Coding{
			balp.Coding(codesystem.ActReason, code, codesystem.ActReasonDisplay(code)),
		}}}
	}

	a.Agent = fhirAgents(e)

	r := e.Requester
	a.Source = fhir.AuditEventSource{
		Observer: balp.SystemReference(r.System),
		Type:     []fhir.Coding{balp.Coding(balp.SystemSourceType, "4", "Application Server")},
	}
	if r.Organisation != "" {
		a.Source.Site = balp.Ptr(string(r.Organisation))
	}

	a.Entity = fhirEntities(e)
	a.Extension = fhirExtensions(e)
	return a
}

// outcomeResource returns the OperationOutcome of a refused or failed event
// (nil for a success): one error issue, code forbidden (refused) or
// exception (failed), its details the error code (balp.ErrorCodeSystem) and
// the reason with NHS numbers masked.
func outcomeResource(e Event) *fhir.OperationOutcome {
	if e.Outcome == OutcomeSuccess || (e.Outcome != OutcomeRefused && e.Outcome != OutcomeFailed) {
		return nil
	}
	issue := fhir.OperationOutcomeIssue{Severity: fhir.IssueSeverityError, Code: fhir.IssueTypeException}
	if e.Outcome == OutcomeRefused {
		issue.Code = fhir.IssueTypeForbidden
	}
	details := fhir.CodeableConcept{Text: balp.NonEmpty(shcrkit.MaskNHSNumbers(e.Reason))}
	if e.ErrorCode != "" {
		details.Coding = []fhir.Coding{balp.Coding(balp.ErrorCodeSystem, e.ErrorCode, "")}
	}
	if details.Text != nil || details.Coding != nil {
		issue.Details = &details
	}
	return &fhir.OperationOutcome{Id: balp.Ptr(balp.OutcomeID), Issue: []fhir.OperationOutcomeIssue{issue}}
}

// MarshalFHIR returns the JSON of ToFHIR(e) with, for a refused or failed
// event, an OperationOutcome contained (id "outcome": one error issue,
// code forbidden or exception, the error code and the reason with NHS
// numbers masked): the AuditEvent as an audit repository takes it.
func MarshalFHIR(e Event) ([]byte, error) {
	data, err := json.Marshal(ToFHIR(e))
	if err != nil {
		return nil, err
	}
	oo := outcomeResource(e)
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

// fhirAgents lists the agents in the order ToFHIR documents.
func fhirAgents(e Event) []fhir.AuditEventAgent {
	r := e.Requester
	var agents []fhir.AuditEventAgent
	if r.UserID != "" {
		agents = append(agents, userAgent(e))
	}
	if r.Organisation != "" {
		org := fhir.AuditEventAgent{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{balp.Coding(balp.SystemRoleClass, "PROV", "healthcare provider")}},
			Who: &fhir.Reference{
				Type:       balp.Ptr("Organization"),
				Identifier: balp.Identifier(codesystem.ODS, string(r.Organisation)),
				Display:    balp.NonEmpty(r.OrganisationName),
			},
			// Without a user (application-restricted access) the
			// organisation's system is the requestor.
			Requestor: r.UserID == "",
		}
		if r.UserID == "" {
			org.PurposeOfUse = purposeOfUse(e)
		}
		agents = append(agents, org)
	}
	if o := e.OnBehalfOf; o != nil {
		agents = append(agents, authorityAgent(o))
	}
	return append(agents, systemAgents(e)...)
}

// purposeOfUse is the requestor's purpose of use: the purpose, with the
// break-glass reason as its text.
func purposeOfUse(e Event) []fhir.CodeableConcept {
	code := e.Purpose.ActReason()
	if code == "" && e.BreakGlassReason == "" {
		return nil
	}
	cc := fhir.CodeableConcept{Text: balp.NonEmpty(e.BreakGlassReason)}
	if code != "" {
		cc.Coding = []fhir.Coding{balp.Coding(codesystem.ActReason, code, codesystem.ActReasonDisplay(code))}
	}
	return []fhir.CodeableConcept{cc}
}

// userAgent is the professional who asked.
func userAgent(e Event) fhir.AuditEventAgent {
	r := e.Requester
	user := fhir.AuditEventAgent{
		Type:         &fhir.CodeableConcept{Coding: []fhir.Coding{balp.Coding(balp.SystemParticipation, "IRCP", "information recipient")}},
		Who:          &fhir.Reference{Identifier: balp.Identifier(balp.SystemSDSUserID, r.UserID), Display: balp.NonEmpty(r.Name)},
		Name:         balp.NonEmpty(r.Name),
		Requestor:    true,
		PurposeOfUse: purposeOfUse(e),
	}
	if e.Kind != KindDecision {
		// AuthZconsent leaves out altId; the role carries the
		// role profile ID either way.
		user.AltId = balp.NonEmpty(r.RoleProfileID)
		if e.Rule != "" {
			user.Policy = []string{e.Rule}
		}
	}
	if role := balp.UserRole(r.RoleProfileID, r.JobRole(), r.RoleName); role != nil {
		user.Role = []fhir.CodeableConcept{*role}
	}
	return user
}

// authorityAgent is the person on whose authority the user acted.
func authorityAgent(o *Authority) fhir.AuditEventAgent {
	auth := fhir.AuditEventAgent{
		Type:      &fhir.CodeableConcept{Coding: []fhir.Coding{balp.Coding(balp.SystemParticipation, "RESP", "responsible party")}},
		Who:       &fhir.Reference{Identifier: balp.Identifier(balp.SystemSDSUserID, o.UserID), Display: balp.NonEmpty(o.Name)},
		Name:      balp.NonEmpty(o.Name),
		AltId:     balp.NonEmpty(o.RoleProfileID),
		Requestor: false,
	}
	var jobRole string
	if o.RoleCode != "" {
		jobRole = shcrkit.Requester{RoleCode: o.RoleCode}.JobRole()
	}
	if role := balp.UserRole(o.RoleProfileID, jobRole, ""); role != nil {
		auth.Role = []fhir.CodeableConcept{*role}
	}
	return auth
}

// systemAgents are the client and, for an interaction, the server or,
// for a decision, the authorizer.
func systemAgents(e Event) []fhir.AuditEventAgent {
	client := fhir.AuditEventAgent{Who: balp.Ptr(balp.SystemReference(e.Requester.System)), Requestor: false, Network: balp.HostNetwork(e.ClientAddress)}
	if e.Kind == KindDecision {
		client.Type = &fhir.CodeableConcept{Coding: []fhir.Coding{balp.Coding(balp.SystemDICOM, "110150", "Application")}}
		authorizer := fhir.AuditEventAgent{
			Type:      &fhir.CodeableConcept{Coding: []fhir.Coding{balp.Coding(balp.SystemSecurityRole, "authserver", "authorization server")}},
			Who:       balp.PolicyReference(e.Policy, e.Rule),
			Requestor: false,
		}
		return []fhir.AuditEventAgent{client, authorizer}
	}

	// BALP: for a read the data flows from the server (Source Role ID) to
	// the client (Destination Role ID); for searches and changes the
	// request flows from the client (Source) to the server (Destination).
	clientType, serverType := balp.DICOMRole("110153"), balp.DICOMRole("110152")
	if e.Action == ActionRead || e.Action == ActionDisclose {
		clientType, serverType = balp.DICOMRole("110152"), balp.DICOMRole("110153")
	}
	client.Type = clientType
	server := fhir.AuditEventAgent{
		Type:      serverType,
		Who:       serverReference(e),
		Requestor: false,
	}
	switch {
	case e.ServerAddress != "":
		server.Network = balp.HostNetwork(e.ServerAddress)
		if e.Endpoint != "" {
			server.Extension = []fhir.Extension{{Url: balp.ExtensionEndpoint, ValueUri: balp.Ptr(e.Endpoint)}}
		}
	case e.Endpoint != "":
		nt := fhir.AuditEventAgentNetworkType5 // URI
		server.Network = &fhir.AuditEventAgentNetwork{Address: balp.Ptr(e.Endpoint), Type: &nt}
	}
	return []fhir.AuditEventAgent{client, server}
}

func fhirEntities(e Event) []fhir.AuditEventEntity {
	var ents []fhir.AuditEventEntity
	decision := e.Kind == KindDecision
	if e.Patient != "" {
		id := fhir.Identifier{System: balp.Ptr(codesystem.NHSNumber), Value: balp.Ptr(string(e.Patient))}
		p := fhir.AuditEventEntity{
			What: &fhir.Reference{Type: balp.Ptr("Patient"), Identifier: &id},
			Type: balp.Ptr(balp.Coding(balp.SystemEntityType, "1", "Person")),
			Role: balp.Ptr(balp.Coding(balp.SystemObjectRole, "1", "Patient")),
		}
		if decision || e.resourceID() == "" {
			p.SecurityLabel = balp.ConfidentialityLabel(e.Confidentiality)
		}
		ents = append(ents, p)
	}
	if decision {
		return append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Display: balp.Ptr(balp.ConsentDisplay)},
			Type: balp.Ptr(balp.Coding(balp.SystemResourceTypes, "Consent", "Consent")),
		})
	}
	if e.resourceID() != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What:          balp.DataReference(e.Resource, e.Endpoint, e.Custodian),
			Type:          balp.Ptr(balp.Coding(balp.SystemEntityType, "2", "System Object")),
			Role:          balp.Ptr(balp.Coding(balp.SystemObjectRole, "4", "Domain Resource")),
			SecurityLabel: balp.ConfidentialityLabel(e.Confidentiality),
		})
	}
	if e.Action == ActionSearch {
		cleaned := e.resourceType() + "?" + e.rawQuery()
		raw := e.rawRequest()
		if raw == "" {
			raw = cleaned
		}
		q := base64.StdEncoding.EncodeToString([]byte(raw))
		ents = append(ents, fhir.AuditEventEntity{
			Type:        balp.Ptr(balp.Coding(balp.SystemEntityType, "2", "System Object")),
			Role:        balp.Ptr(balp.Coding(balp.SystemObjectRole, "24", "Query")),
			Description: &cleaned,
			Query:       &q,
		})
	}
	if e.RequestID != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What: &fhir.Reference{Identifier: &fhir.Identifier{Value: balp.Ptr(e.RequestID)}},
			Type: balp.Ptr(balp.Coding(balp.SystemBALPEntityType, "XrequestId", "transport specific unique identifier where http X-Request-Id is used")),
		})
	}
	if e.DecisionID != "" {
		ents = append(ents, fhir.AuditEventEntity{
			What:        &fhir.Reference{Identifier: balp.Identifier(balp.SystemURI, "urn:uuid:"+e.DecisionID)},
			Type:        balp.Ptr(balp.Coding(balp.SystemEntityType, "4", "Other")),
			Role:        balp.Ptr(balp.Coding(balp.SystemObjectRole, "13", "Security Resource")),
			Description: balp.Ptr(balp.DecisionLinkDisplay),
		})
	}
	if outcomeResource(e) != nil {
		ents = append(ents, fhir.AuditEventEntity{
			What: balp.OutcomeReference(),
			Type: balp.Ptr(balp.Coding(balp.SystemResourceTypes, "OperationOutcome", "OperationOutcome")),
		})
	}
	return ents
}

func fhirExtensions(e Event) []fhir.Extension {
	var ext []fhir.Extension
	str := func(u, v string) {
		if v != "" {
			ext = append(ext, fhir.Extension{Url: u, ValueString: balp.Ptr(v)})
		}
	}
	code := func(u, v string) {
		if v != "" {
			ext = append(ext, fhir.Extension{Url: u, ValueCode: balp.Ptr(v)})
		}
	}
	if e.Seq != 0 {
		str(balp.ExtensionSequence, strconv.FormatUint(e.Seq, 10))
	}
	str(balp.ExtensionCorrelationID, e.CorrelationID)
	if e.Relationship != shcrkit.RelationshipNone {
		code(balp.ExtensionRelationship, e.Relationship.String())
	}
	str(balp.ExtensionRelationshipEvidence, e.RelationshipEvidence)
	str(balp.ExtensionRelationshipVerification, e.RelationshipVerification)
	str(balp.ExtensionAdHocSharing, e.AdHocSharing)
	code(balp.ExtensionErrorCode, e.ErrorCode)
	code(balp.ExtensionService, string(e.Service))
	if e.Kind == KindDecision {
		code(balp.ExtensionDecidedAction, string(e.Action))
		if e.DecisionID != "" {
			ext = append(ext, fhir.Extension{Url: balp.ExtensionDecisionID, ValueUuid: balp.Ptr("urn:uuid:" + e.DecisionID)})
		}
		if e.resourceID() != "" {
			ext = append(ext, fhir.Extension{Url: balp.ExtensionDecisionRecord, ValueReference: balp.DataReference(e.Resource, e.Endpoint, e.Custodian)})
		}
		if outcomeResource(e) != nil {
			ext = append(ext, fhir.Extension{Url: balp.ExtensionOutcome, ValueReference: balp.OutcomeReference()})
		}
	} else {
		str(balp.ExtensionPolicy, e.Policy)
	}
	r := e.Requester
	str(balp.ExtensionUserFamily, e.UserFamily)
	str(balp.ExtensionPatientFamily, e.PatientFamily)
	str(balp.ExtensionRoleCode, r.RoleCode)
	for _, a := range r.Activities {
		code(balp.ExtensionActivity, a)
	}
	if r.AssuranceLevel != 0 {
		ext = append(ext, fhir.Extension{Url: balp.ExtensionAssuranceLevel, ValueInteger: balp.Ptr(int(r.AssuranceLevel))})
	}
	str(balp.ExtensionSystemName, r.System.Name)
	str(balp.ExtensionSystemVersion, r.System.Version)
	if o := e.OnBehalfOf; o != nil {
		str(balp.ExtensionOnBehalfOfRoleCode, o.RoleCode)
		str(balp.ExtensionOnBehalfOfOrganisation, string(o.Organisation))
	}
	if inv := e.Investigation; inv != nil {
		if b, err := json.Marshal(inv); err == nil {
			str(balp.ExtensionInvestigation, string(b))
		}
	}
	return ext
}

// The FHIR codes of each action and outcome. A disclosure has no
// RESTful interaction of its own: ToFHIR gives it the read subtype beside
// the lifecycle one.
var (
	restfulInteractions = map[Action]string{ActionRead: "read", ActionSearch: "search", ActionCreate: "create",
		ActionUpdate: "update", ActionDelete: "delete"}
	fhirActions = map[Action]fhir.AuditEventAction{ActionRead: fhir.AuditEventActionR, ActionDisclose: fhir.AuditEventActionR,
		ActionSearch: fhir.AuditEventActionE, ActionCreate: fhir.AuditEventActionC, ActionUpdate: fhir.AuditEventActionU,
		ActionDelete: fhir.AuditEventActionD}
	fhirOutcomes = map[Outcome]fhir.AuditEventOutcome{OutcomeSuccess: fhir.AuditEventOutcome0,
		OutcomeRefused: fhir.AuditEventOutcome4, OutcomeFailed: fhir.AuditEventOutcome8}
)

// serverReference identifies the service called: the custodian by its
// ODS code, a national service by its root URL.
func serverReference(e Event) *fhir.Reference {
	ref := &fhir.Reference{Display: balp.Ptr(e.Service.Display())}
	switch {
	case e.Custodian != "":
		ref.Type = balp.Ptr("Organization")
		ref.Identifier = balp.Identifier(codesystem.ODS, string(e.Custodian))
	case e.Endpoint != "":
		ref.Type = balp.Ptr("Device")
		ref.Identifier = balp.Identifier(balp.SystemURI, e.Endpoint)
	}
	return ref
}

// ErrInvalidFHIR is matched by the errors of ParseFHIR and DecodeFHIR
// for an AuditEvent that breaks R4 or does not map back.
var ErrInvalidFHIR = balp.ErrInvalid

// ParseFHIR decodes an R4 AuditEvent from JSON and checks what R4 makes
// mandatory: type, recorded as an instant, at least one agent, each
// stating requestor, source with an observer, a type and value for every
// entity detail, the invariant sev-1 (an entity has a name or a query,
// not both), every Reference referring to something, every local
// reference naming a contained resource and every contained resource
// referred to (dom-3). It returns every problem at once, each matching
// ErrInvalidFHIR. It is the path by which AuditEvents produced by ToFHIR
// (and those received from elsewhere) are read back.
func ParseFHIR(data []byte) (fhir.AuditEvent, error) { return balp.Parse(data) }
