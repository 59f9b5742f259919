package shcr_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sentRequestIDs returns the X-Request-ID of every request the world's
// services (PDS, the NRL, the Spine Secure Proxy and the regions'
// shared care records) received: the journey's requests actually sent. A
// request that reached a region through the proxy counts once.
func sentRequestIDs(t *testing.T, w *shcrtest.World) map[string]bool {
	t.Helper()
	sent := map[string]bool{}
	add := func(service string, reqs []fake.Request) {
		for _, r := range reqs {
			id := r.Header.Get("X-Request-ID")
			require.NotEmpty(t, id, "%s received a request without X-Request-ID", service)
			sent[id] = true
		}
	}
	add("PDS", w.PDS.Requests())
	add("NRL", w.NRL.Requests())
	add("proxy", w.Proxy.Requests())
	for _, r := range w.Regions {
		add(string(r.Custodian()), r.Requests())
	}
	return sent
}

// requireSentPlusDecided checks that a journey's AuditEvents are exactly
// one per request sent and one per decision made: every interaction names
// a request the services received, each once, and no decision names a
// request at all.
func requireSentPlusDecided(t *testing.T, w *shcrtest.World, events []audit.Event) {
	t.Helper()
	sent := sentRequestIDs(t, w)
	recorded, decisions := map[string]int{}, 0
	for _, e := range events {
		if e.Kind == audit.KindDecision {
			decisions++
			assert.Empty(t, e.RequestID, "a decision names no request: %s", e.Reason)
			assert.NotEmpty(t, e.DecisionID)
			continue
		}
		assert.True(t, sent[e.RequestID], "X-Request-ID %q recorded but never sent", e.RequestID)
		recorded[e.RequestID]++
	}
	for id := range sent {
		assert.Equal(t, 1, recorded[id], "request %s sent: want one AuditEvent", id)
	}
	assert.Len(t, events, len(sent)+decisions, "AuditEvents = requests sent + decisions made")
}

// A whole journey's AuditEvents, each held to the IHE BALP profile for its
// kind, element by element, read back unchanged, and counted against the
// requests the services received.
func TestAuditEventsMeetBALP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const host = "epr-app-01.riverside.test"
	withHost := func(cfg *shcr.Config) { cfg.ClientAddress = host }

	// A direct-care journey, with the structured summary failing and a
	// refused pointer.
	north := w.Region(nrlstest.CustodianNorth)
	north.InjectFault(http.MethodGet, "/records/RNR-000002", -1, shcrtest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE"})
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec, withHost, func(cfg *shcr.Config) {
		cfg.Remote.MaxAttempts = 1
	})
	res, err := c.Records(shcrkit.WithCorrelationID(context.Background(), "balp-1"), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	res.Close()
	north.ClearFaults()
	require.Len(t, res.Failures, 1)
	requireSentPlusDecided(t, w, rec.Events())
	events := rec.Events()

	// A break-glass journey, in a world of its own so that its requests
	// are counted alone.
	w2 := newWorld(t)
	rec2 := audittest.NewRecorder()
	c2 := newJourney(t, w2, rec2, withHost, func(cfg *shcr.Config) {
		cfg.Alert = func(context.Context, shcr.Alert) error { return nil }
	})
	req := encounter(w2, pdstest.Patients.Normal)
	req.Purpose = shcrkit.PurposeBreakGlass
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEmergency, Reason: "Unconscious on arrival; no history available"}
	res2, err := c2.Records(context.Background(), req)
	require.NoError(t, err)
	res2.Close()
	require.NotEmpty(t, res2.Records)
	requireSentPlusDecided(t, w2, rec2.Events())

	kinds := map[string]bool{}
	check := func(name string, e audit.Event, profile string, more func(t *testing.T, a fhir.AuditEvent, data []byte)) {
		t.Run(name, func(t *testing.T) {
			kinds[name] = true
			data, err := audit.MarshalFHIR(e)
			require.NoError(t, err)
			got, err := audittest.CheckBALP(data)
			require.NoError(t, err, string(data))
			assert.Equal(t, profile, got)
			a, err := audit.ParseFHIR(data) // the R4 checks
			require.NoError(t, err)
			back, err := audit.DecodeFHIR(data)
			require.NoError(t, err)
			assert.Equal(t, e, back, "read back unchanged")
			client := agentOf(a, "110150", "110152", "110153")
			require.NotNil(t, client)
			if profile != "AuthZconsent" {
				// The client is the agent whose role is not the server's.
				client = clientAgent(a)
			}
			assert.Equal(t, host, *client.Network.Address)
			more(t, a, data)
		})
	}

	for _, e := range append(events, rec2.Events()...) {
		switch {
		case e.Purpose == shcrkit.PurposeBreakGlass && stepOf(e) == stepRetrieval && e.Outcome == audit.OutcomeSuccess && !kinds["break-glass retrieval"]:
			check("break-glass retrieval", e, "PatientRead", func(t *testing.T, a fhir.AuditEvent, _ []byte) {
				pou := a.Agent[0].PurposeOfUse[0]
				assert.Equal(t, "BTG", *pou.Coding[0].Code)
				assert.Equal(t, "Unconscious on arrival; no history available", *pou.Text)
				assert.Equal(t, "BTG", *a.PurposeOfEvent[0].Coding[0].Code)
			})
		case e.Purpose == shcrkit.PurposeBreakGlass:
		case stepOf(e) == stepTrace:
			check("PDS read", e, "PatientRead", func(t *testing.T, a fhir.AuditEvent, _ []byte) {
				server := serverAgent(a)
				require.NotNil(t, server.Who.Identifier, "the PDS server agent carries an identifier")
				assert.Equal(t, e.Endpoint, *server.Who.Identifier.Value)
				assert.Equal(t, hostOf(e.Endpoint), *server.Network.Address)
				data := entity(a, "2", "4")
				require.NotNil(t, data)
				assert.Equal(t, strings.TrimSuffix(e.Endpoint, "/")+"/Patient/"+string(pdstest.Patients.Normal), *data.What.Reference,
					"an absolute URL, resolvable without knowing the service")
				assert.Equal(t, e.RequestID, *entityOfType(a, "XrequestId").What.Identifier.Value)
			})
		case stepOf(e) == stepSearch:
			check("NRL search", e, "PatientQuery", func(t *testing.T, a fhir.AuditEvent, _ []byte) {
				server := serverAgent(a)
				require.NotNil(t, server.Who.Identifier, "the NRL server agent carries an identifier")
				q := entity(a, "2", "24")
				require.NotNil(t, q)
				raw, err := base64.StdEncoding.DecodeString(*q.Query)
				require.NoError(t, err)
				method, rest, _ := strings.Cut(string(raw), " ")
				path, body, _ := strings.Cut(rest, "\n\n")
				assert.Equal(t, http.MethodPost, method)
				assert.True(t, strings.HasSuffix(path, "/DocumentReference/_search"), path)
				assert.Contains(t, body, string(pdstest.Patients.Normal), "the body as sent")
				assert.Equal(t, "DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|"+string(pdstest.Patients.Normal), *q.Description)
			})
		case stepOf(e) == stepBoundary:
			check("boundary decision", e, "AuthZconsent", func(t *testing.T, a fhir.AuditEvent, _ []byte) {
				assert.Equal(t, "110113", *a.Type.Code)
				assert.Equal(t, "AuthZ-Consent", *a.Subtype[0].Code)
				assert.Equal(t, fhir.AuditEventActionE, *a.Action)
				assert.Nil(t, entityOfType(a, "XrequestId"), "a decision names no request")
				authorizer := agentOf(a, "authserver")
				require.NotNil(t, authorizer)
				assert.Equal(t, e.Rule, *authorizer.Who.Identifier.Value)
				assert.Equal(t, "https://github.com/shcrkit/shcrkit/audit/NamingSystem/policy/"+url.PathEscape(w.Policy.Name()), *authorizer.Who.Identifier.System)
			})
		case stepOf(e) == stepDecision && e.Outcome == audit.OutcomeRefused:
			check("refused decision", e, "AuthZconsent", func(t *testing.T, a fhir.AuditEvent, data []byte) {
				assert.Equal(t, fhir.AuditEventOutcome4, *a.Outcome)
				assert.Nil(t, entityOfType(a, "XrequestId"))
				oo := containedOutcome(t, data)
				assert.Equal(t, "forbidden", oo["issue"].([]any)[0].(map[string]any)["code"])
				assert.Contains(t, string(data), `"reference":"#outcome"`)
				var record *fhir.Reference
				for _, x := range a.Extension {
					if x.Url == "https://github.com/shcrkit/shcrkit/audit/StructureDefinition/decision-record" {
						record = x.ValueReference
					}
				}
				require.NotNil(t, record)
				assert.Equal(t, "https://github.com/shcrkit/shcrkit/audit/NamingSystem/nrl-pointer-id", *record.Identifier.System)
				assert.Equal(t, resourceID(e), *record.Identifier.Value)
				assert.Equal(t, string(e.Custodian), *record.Identifier.Assigner.Identifier.Value)
				assert.Equal(t, "V", *a.Entity[0].SecurityLabel[0].Code, "the record's confidentiality label")
			})
		case stepOf(e) == stepRetrieval && e.Outcome == audit.OutcomeFailed:
			check("failed retrieval", e, "PatientRead", func(t *testing.T, a fhir.AuditEvent, data []byte) {
				assert.Equal(t, fhir.AuditEventOutcome8, *a.Outcome)
				oo := containedOutcome(t, data)
				issue := oo["issue"].([]any)[0].(map[string]any)
				assert.Equal(t, "exception", issue["code"])
				details := issue["details"].(map[string]any)
				assert.Equal(t, "SERVICE_UNAVAILABLE", details["coding"].([]any)[0].(map[string]any)["code"])
				assert.NotContains(t, details["text"], string(pdstest.Patients.Normal))
			})
		case stepOf(e) == stepRetrieval && e.Outcome == audit.OutcomeSuccess && strings.HasPrefix(e.Reason, "retrieved application/pdf") && strings.Contains(e.Reason, "via SSP"):
			check("ShCR read via SSP", e, "PatientRead", func(t *testing.T, a fhir.AuditEvent, _ []byte) {
				server := serverAgent(a)
				assert.Equal(t, hostOf(w.Proxy.URL), *server.Network.Address, "the host connected to is the proxy")
				require.Len(t, server.Extension, 1)
				assert.Equal(t, e.Endpoint, *server.Extension[0].ValueUri, "the provider kept alongside")
				assert.Equal(t, string(e.Custodian), *server.Who.Identifier.Value)
				data := entity(a, "2", "4")
				require.NotNil(t, data)
				assert.Nil(t, data.What.Reference, "no reference relative to nowhere")
				assert.Equal(t, "https://github.com/shcrkit/shcrkit/audit/NamingSystem/nrl-pointer-id", *data.What.Identifier.System)
				assert.Equal(t, resourceID(e), *data.What.Identifier.Value)
				assert.Equal(t, string(e.Custodian), *data.What.Identifier.Assigner.Identifier.Value)
				link := entity(a, "4", "13")
				require.NotNil(t, link, "the authorising decision")
				assert.Equal(t, "urn:uuid:"+e.DecisionID, *link.What.Identifier.Value)
			})
		}
	}
	for _, k := range []string{"PDS read", "NRL search", "ShCR read via SSP", "refused decision", "failed retrieval", "break-glass retrieval", "boundary decision"} {
		assert.True(t, kinds[k], "the journeys recorded no %s", k)
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func agentOf(a fhir.AuditEvent, codes ...string) *fhir.AuditEventAgent {
	for i, ag := range a.Agent {
		if ag.Type == nil {
			continue
		}
		for _, c := range ag.Type.Coding {
			for _, code := range codes {
				if c.Code != nil && *c.Code == code {
					return &a.Agent[i]
				}
			}
		}
	}
	return nil
}

// serverAgent and clientAgent pick the DICOM role agents by the direction
// BALP gives: for a read the server is the Source (110153), for a search
// the Destination (110152).
func serverAgent(a fhir.AuditEvent) *fhir.AuditEventAgent {
	if *a.Action == fhir.AuditEventActionR {
		return agentOf(a, "110153")
	}
	return agentOf(a, "110152")
}

func clientAgent(a fhir.AuditEvent) *fhir.AuditEventAgent {
	if *a.Action == fhir.AuditEventActionR {
		return agentOf(a, "110152")
	}
	return agentOf(a, "110153")
}

func entity(a fhir.AuditEvent, typ, role string) *fhir.AuditEventEntity {
	for i, en := range a.Entity {
		if en.Type != nil && *en.Type.Code == typ && en.Role != nil && *en.Role.Code == role {
			return &a.Entity[i]
		}
	}
	return nil
}

func entityOfType(a fhir.AuditEvent, typ string) *fhir.AuditEventEntity {
	for i, en := range a.Entity {
		if en.Type != nil && *en.Type.Code == typ {
			return &a.Entity[i]
		}
	}
	return nil
}

func containedOutcome(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m struct {
		Contained []map[string]any `json:"contained"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	require.Len(t, m.Contained, 1)
	assert.Equal(t, "OperationOutcome", m.Contained[0]["resourceType"])
	return m.Contained[0]
}

// A Bundle read that fails after its first page still leaves one
// AuditEvent for every page asked for, and a retrieval refused before any
// connection is the SDK's decision, naming no request.
func TestAuditCountsEveryRequestSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remote shcr.RemoteConfig
		fault  func(w *shcrtest.World)
		check  func(t *testing.T, events []audit.Event)
	}{
		{"a Bundle longer than the page limit", shcr.RemoteConfig{MaxPages: 2}, nil, func(t *testing.T, events []audit.Event) {
			var pages []audit.Event
			for _, e := range events {
				if stepOf(e) == stepRetrieval && resourceID(e) == "RNR-000002" {
					pages = append(pages, e)
				}
			}
			require.Len(t, pages, 2, "the first page and the second, both sent")
			for _, e := range pages {
				assert.Equal(t, audit.OutcomeFailed, e.Outcome)
				assert.NotEmpty(t, e.RequestID)
			}
			assert.NotEqual(t, pages[0].RequestID, pages[1].RequestID)
		}},
		{"a provider outside the directory", shcr.RemoteConfig{}, func(w *shcrtest.World) {
			_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Normal, Custodian: custodianKestrel,
				Type: nrls.TypeContingencyPlan, URL: "https://elsewhere.example.test/records/RKS-stolen", LocalID: "stolen"})
			if err != nil {
				panic(err)
			}
		}, func(t *testing.T, events []audit.Event) {
			found := false
			for _, e := range events {
				if e.Custodian == custodianKestrel && stepOf(e) == stepRetrieval {
					found = true
					assert.True(t, e.Kind == audit.KindDecision, "nothing was sent: a decision")
					assert.Equal(t, "withheld/HOST_NOT_ALLOWED", e.Rule)
					assert.Empty(t, e.RequestID)
					assert.Equal(t, audit.OutcomeRefused, e.Outcome)
				}
			}
			assert.True(t, found)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tt.fault != nil {
				tt.fault(w)
			}
			rec := audittest.NewRecorder()
			c := newJourney(t, w, rec, func(cfg *shcr.Config) { cfg.Remote = tt.remote })
			res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
			require.NoError(t, err)
			res.Close()
			require.NotEmpty(t, res.Failures)
			requireSentPlusDecided(t, w, rec.Events())
			tt.check(t, rec.Events())
			for _, e := range rec.Events() {
				data, err := audit.MarshalFHIR(e)
				require.NoError(t, err)
				_, err = audittest.CheckBALP(data)
				require.NoError(t, err, string(data))
			}
			require.NoError(t, rec.Check())
		})
	}
}
