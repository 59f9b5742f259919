package audittest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// IHE's own example AuditEvents from the BALP implementation guide,
// written out as JSON from the profile's published examples: the positive
// controls of CheckBALP.
var iheExamples = map[string]struct {
	profile string
	json    string
}{
	"ex-auditBasicReadServer": {"PatientRead", `{
  "resourceType": "AuditEvent",
  "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
  "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "Restful Operation"},
  "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read", "display": "read"}],
  "action": "R",
  "recorded": "2020-04-29T09:49:00.000Z",
  "outcome": "0",
  "agent": [
    {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153", "display": "Source Role ID"}]},
     "who": {"reference": "Device/ex-device"}, "requestor": false,
     "network": {"address": "http://server.example.com/fhir", "type": "5"}},
    {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152", "display": "Destination Role ID"}]},
     "who": {"display": "myMachine.example.org"}, "requestor": false,
     "network": {"address": "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "type": "2"}},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
     "who": {"display": "John Smith"}, "requestor": true}
  ],
  "source": {"site": "server.example.com", "observer": {"reference": "Device/ex-device"},
    "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]},
  "entity": [
    {"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
     "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
     "what": {"reference": "Patient/ex-patient"}},
    {"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
     "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4", "display": "Domain Resource"},
     "what": {"reference": "List/ex-list"}},
    {"type": {"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "code": "XrequestId"},
     "what": {"identifier": {"value": "76d148b6-586d-11ec-bf63-0242ac130002"}}}
  ]
}`},
	"ex-auditBasicQueryPost": {"PatientQuery", `{
  "resourceType": "AuditEvent",
  "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
  "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "Restful Operation"},
  "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "search-type", "display": "search-type"}],
  "action": "E",
  "recorded": "2020-04-29T09:49:00.000Z",
  "outcome": "0",
  "agent": [
    {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152", "display": "Destination Role ID"}]},
     "who": {"reference": "Device/ex-device"}, "requestor": false,
     "network": {"address": "http://server.example.com/fhir", "type": "5"}},
    {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153", "display": "Source Role ID"}]},
     "who": {"display": "myMachine.example.org"}, "requestor": false,
     "network": {"address": "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "type": "2"}},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
     "who": {"display": "John Smith"}, "requestor": true}
  ],
  "source": {"site": "server.example.com", "observer": {"reference": "Device/ex-device"},
    "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]},
  "entity": [
    {"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
     "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
     "what": {"reference": "Patient/ex-patient"}},
    {"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
     "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query"},
     "description": "POST /r4/Observation/_search HTTP/1.1\nHost: test.fhir.org\nContent-Type: application/x-www-form-urlencoded\nAccept: application/fhir+json; fhirVersion=4.0\nContent-Length: 87\n\npatient=ex-patient&_lastUpdated=gt2020-11-06T21:52:30.300Z&_sort=_lastUpdated&_count=10\n",
     "query": "UE9TVCAvcjQvT2JzZXJ2YXRpb24vX3NlYXJjaCBIVFRQLzEuMQpIb3N0OiB0ZXN0LmZoaXIub3JnCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkCkFjY2VwdDogYXBwbGljYXRpb24vZmhpcitqc29uOyBmaGlyVmVyc2lvbj00LjAKQ29udGVudC1MZW5ndGg6IDg3CgpwYXRpZW50PWV4LXBhdGllbnQmX2xhc3RVcGRhdGVkPWd0MjAyMC0xMS0wNlQyMTo1MjozMC4zMDBaJl9zb3J0PV9sYXN0VXBkYXRlZCZfY291bnQ9MTAKCgoK"}
  ]
}`},
	"ex-auditAuthZconsent-deny": {"AuthZconsent", `{
  "resourceType": "AuditEvent",
  "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
  "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110113", "display": "Security Alert"},
  "subtype": [{"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType", "code": "AuthZ-Consent"}],
  "action": "E",
  "recorded": "2021-12-27T09:49:00.000Z",
  "outcome": "8",
  "outcomeDesc": "Consent denied access to this user",
  "agent": [
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "code": "authserver", "display": "authorization server"}]},
     "who": {"reference": "Device/ex-authz"}, "requestor": false},
    {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110150", "display": "Application"}]},
     "who": {"reference": "Device/ex-device"}, "requestor": false,
     "network": {"address": "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "type": "2"}},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
     "who": {"reference": "Practitioner/ex-practitioner"}, "requestor": true,
     "purposeOfUse": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PATRQT"}]}]},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PROV", "display": "healthcare provider"}]},
     "who": {"reference": "Organization/ex-organization"}, "requestor": false}
  ],
  "source": {"site": "server.example.com", "observer": {"reference": "Device/ex-authz"},
    "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "6", "display": "Security Server"}]},
  "entity": [
    {"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
     "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
     "what": {"reference": "Patient/ex-patient"}},
    {"type": {"system": "http://hl7.org/fhir/resource-types", "code": "Consent"},
     "what": {"reference": "Consent/ex-consent"}}
  ]
}`},
}

func TestCheckBALPAcceptsIHEExamples(t *testing.T) {
	for name, ex := range iheExamples {
		t.Run(name, func(t *testing.T) {
			profile, err := CheckBALP([]byte(ex.json))
			require.NoError(t, err)
			assert.Equal(t, ex.profile, profile)
		})
	}
}

// Each constraint, broken in an IHE example, is caught.
func TestCheckBALPRejects(t *testing.T) {
	tests := []struct {
		example, name string
		change        func(m map[string]any)
		want          string
	}{
		{"ex-auditBasicReadServer", "no client network", func(m map[string]any) { delete(agent(m, 1), "network") }, "agent[client].network"},
		{"ex-auditBasicReadServer", "no server network", func(m map[string]any) { delete(agent(m, 0), "network") }, "agent[server].network"},
		{"ex-auditBasicReadServer", "action E", func(m map[string]any) { m["action"] = "E" }, "action must be R"},
		{"ex-auditBasicReadServer", "no data entity", func(m map[string]any) { m["entity"] = entities(m)[:1] }, "entity[data]: 0"},
		{"ex-auditBasicReadServer", "failure without OperationOutcome", func(m map[string]any) { m["outcome"] = "8" }, "OperationOutcome"},
		{"ex-auditBasicReadServer", "user not requestor", func(m map[string]any) { agent(m, 2)["requestor"] = false }, "agent[user].requestor"},
		{"ex-auditBasicQueryPost", "query without query", func(m map[string]any) { delete(entities(m)[1].(map[string]any), "query") }, "entity[query].query"},
		{"ex-auditBasicQueryPost", "query with what", func(m map[string]any) {
			entities(m)[1].(map[string]any)["what"] = map[string]any{"reference": "Observation/x"}
		}, "no what"},
		{"ex-auditAuthZconsent-deny", "extra entity", func(m map[string]any) {
			m["entity"] = append(entities(m), map[string]any{"type": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"}})
		}, "closed list"},
		{"ex-auditAuthZconsent-deny", "no consent", func(m map[string]any) { m["entity"] = entities(m)[:1] }, "entity[consent]"},
		{"ex-auditAuthZconsent-deny", "authorizer with policy", func(m map[string]any) { agent(m, 0)["policy"] = []any{"x"} }, "agent[authorizer].policy"},
		{"ex-auditAuthZconsent-deny", "action R", func(m map[string]any) { m["action"] = "R" }, "action must be E"},
		{"ex-auditAuthZconsent-deny", "user altId", func(m map[string]any) { agent(m, 2)["altId"] = "x" }, "agent[user].altId"},
	}
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(iheExamples[tt.example].json), &m))
			tt.change(m)
			data, err := json.Marshal(m)
			require.NoError(t, err)
			_, err = CheckBALP(data)
			require.ErrorIs(t, err, errBALP)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	_, err := CheckBALP([]byte(`{"resourceType":"AuditEvent","type":{"code":"other"},"recorded":"2020-01-01T00:00:00Z"}`))
	assert.ErrorIs(t, err, errBALP)
}

func agent(m map[string]any, i int) map[string]any { return m["agent"].([]any)[i].(map[string]any) }

func entities(m map[string]any) []any { return m["entity"].([]any) }

// Every kind of event the SDK records maps to the BALP profile for it.
func TestToFHIRMeetsBALP(t *testing.T) {
	base := func() audit.Event {
		e := read()
		e.Seq, e.Recorded = 3, t0.Add(time.Second)
		e.RequestID, e.CorrelationID = "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d", "journey-1"
		e.ClientAddress, e.ServerAddress, e.Endpoint = "epr-app-01.riverside.test", "10.0.0.7", "https://shcr.example.test/fhir/R4"
		e.Relationship, e.RelationshipEvidence, e.Rule, e.Policy = shcrkit.RelationshipEncounter, "ENC-1", "agreements/ISA-1", "Northern policy"
		return e
	}
	decision := func(outcome audit.Outcome) audit.Event {
		e := base()
		e.Kind, e.RequestID, e.ServerAddress, e.Endpoint = audit.KindDecision, "", "", ""
		e.DecisionID, e.Outcome = "5d1c3a0e-7b2f-4c1d-9e8f-0a1b2c3d4e5f", outcome
		if outcome != audit.OutcomeSuccess {
			e.ErrorCode, e.Reason = "ACCESS_DENIED", "refused: very restricted"
		}
		return e
	}
	tests := []struct {
		name    string
		event   func() audit.Event
		profile string
	}{
		{"ShCR read", base, "PatientRead"},
		{"PDS read", func() audit.Event {
			e := base()
			e.Service, e.Custodian, e.Resource = audit.ServicePDS, "", "Patient/"+string(patient)
			e.Endpoint, e.ServerAddress = "https://pds.example.test/personal-demographics/FHIR/R4", "pds.example.test"
			return e
		}, "PatientRead"},
		{"NRL search", func() audit.Event {
			e := base()
			e.Action, e.Service, e.Custodian, e.Resource = audit.ActionSearch, audit.ServiceNRL, "", "DocumentReference"
			e.Query = "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|" + audit.QueryPatientPlaceholder
			e.Request = "POST /FHIR/R4/DocumentReference/_search\n\nsubject%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C" + audit.QueryPatientPlaceholder
			return e
		}, "PatientQuery"},
		{"failed retrieval", func() audit.Event {
			e := base()
			e.Outcome, e.ErrorCode, e.Reason = audit.OutcomeFailed, "SERVICE_UNAVAILABLE", "failed: 503"
			return e
		}, "PatientRead"},
		{"break-glass retrieval", func() audit.Event {
			e := base()
			e.Purpose, e.Relationship, e.BreakGlassReason = shcrkit.PurposeBreakGlass, shcrkit.RelationshipEmergency, "unconscious in ED"
			return e
		}, "PatientRead"},
		{"allowed decision", func() audit.Event { return decision(audit.OutcomeSuccess) }, "AuthZconsent"},
		{"refused decision", func() audit.Event { return decision(audit.OutcomeRefused) }, "AuthZconsent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.event().Normalize(t0)
			require.NoError(t, err)
			require.NoError(t, CheckEvent(e))
			data, err := audit.MarshalFHIR(e)
			require.NoError(t, err)
			profile, err := CheckBALP(data)
			require.NoError(t, err, string(data))
			assert.Equal(t, tt.profile, profile)
			_, err = audit.ParseFHIR(data)
			require.NoError(t, err)
		})
	}
}
