package balp

// Code and identifier systems of FHIR, DICOM, IHE BALP and NHS England.
const (
	SystemAuditEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	SystemDICOM            = "http://dicom.nema.org/resources/ontology/DCM"
	SystemRestful          = "http://hl7.org/fhir/restful-interaction"
	SystemLifecycle        = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
	SystemParticipation    = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	SystemRoleClass        = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	SystemSourceType       = "http://terminology.hl7.org/CodeSystem/security-source-type"
	SystemEntityType       = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	SystemObjectRole       = "http://terminology.hl7.org/CodeSystem/object-role"
	SystemBALPEntityType   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	SystemAuthZSubtype     = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType"
	SystemUserAgent        = "https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes"
	SystemSecurityRole     = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	SystemResourceTypes    = "http://hl7.org/fhir/resource-types"
	SystemURI              = "urn:ietf:rfc:3986"
	SystemSDSUserID        = "https://fhir.nhs.uk/Id/sds-user-id"
	SystemSDSRoleProfileID = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	SystemSDSJobRole       = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"
	SystemASID             = "https://fhir.nhs.uk/Id/nhsSpineASID"
)

// Code and identifier systems of the SDK's own.
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
	// OutcomeID is the id of the contained OperationOutcome of a refused
	// or failed event.
	OutcomeID = "outcome"
)

// Displays the mapping writes.
const (
	ConsentDisplay       = "the patient's consent and dissent as recorded locally"
	DecisionLinkDisplay  = "the access decision that authorised this request"
	DefaultDeviceDisplay = "shcrkit"
)

// ExtensionBase is the prefix of the URLs of the extensions the mapping
// adds for what R4 AuditEvent has no element for.
const ExtensionBase = "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/"

// Extension URLs, each carrying one part of an Event so that the event
// can be read back from its AuditEvent.
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
	// ExtensionService carries Event.Service (valueCode).
	ExtensionService = ExtensionBase + "service"
	// ExtensionDecidedAction carries, on a decision, the Event.Action
	// decided on (valueCode): a decision's own action is always E.
	ExtensionDecidedAction = ExtensionBase + "decided-action"
	// ExtensionDecisionID carries, on a decision, Event.DecisionID
	// (valueUuid, urn:uuid:...). An interaction names the decision that
	// authorised it in an entity instead.
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
