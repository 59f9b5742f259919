// Package shcrtest is a fake remote shared care record (ShCR) for tests
// and the stand-alone sandbox, and a complete fake world (token endpoint,
// PDS, NRL, Spine Secure Proxy and five regional ShCRs, wired together)
// for tests of the whole cross-boundary journey.
//
// # A remote ShCR
//
//	srv := shcrtest.NewServer(shcrtest.WithCustodian(nrlstest.CustodianNorth),
//		shcrtest.WithTokenValidator(tokens.Validate),
//		shcrtest.WithIdentitySigning(auth.RS256, &key.PublicKey))
//	defer srv.Close()
//
// A Server holds the documents of one custodian, served at
// <URL>/records/<pointer ID>: by default one for each of the NRL fake's
// seed pointers held by the custodian, shaped by the pointer's content
// type: a FHIR Bundle (served in pages linked by next links) or CarePlan
// for structured content, a one-page PDF for documents, an HTML page for
// contact details. WithPointers and WithDocuments seed others;
// World.AddPointer adds one to a running world.
//
// Every request must carry a valid identity token (package shcr's GP
// Connect-style claims, checked as shcr/provider checks them: signature as
// configured, aud = the service root, iat and exp, the requesting
// organisation, practitioner and device) and, with WithTokenValidator, an
// OAuth2 access token; otherwise the answer is a FHIR OperationOutcome
// with 401 (no or bad access token, no identity token) or 403 (identity
// token refused). Requests through the Spine Secure Proxy are recognised
// by the proxy's client certificate (WithTrustedProxy) and need the Ssp-*
// headers. Requests and accepted identities are recorded (Requests,
// Identities); InjectFault adds latency, errors, hanging, dripping,
// truncated and oversized answers to the paths it is given, from the
// service root ("/records/"); SetLatency delays every answer.
//
// # A whole world
//
//	w, err := shcrtest.NewWorld()
//	...
//	defer w.Close()
//	client, err := w.Client(auditSink)
//	res, err := client.Records(ctx, shcr.Request{Requester: w.Requester, ...})
//
// NewWorld starts an authtest token endpoint, pdstest, nrlstest (its
// pointers rebased to lead to the regions), a Proxy, and a Server for each
// of the NRL fake's four custodians and a fifth (Kestrel Sound, RKS), each
// region authenticating differently (RS256, ES256, unsigned GP
// Connect-style, RS512 in a named header). World.Directory and
// World.Policy fit them; World.Requester is a doctor the policy serves;
// World.Config and World.Client build a journey client that verifies
// claimed relationships against PDS and World.Evidence (an attendance at
// the emergency department for every patient of the population); AddPointer
// files a pointer and its document; SetLatency delays every service.
//
// EvidenceStore fakes the records that back legitimate relationships at
// the requester's organisation (encounters, referrals, care teams): an
// shcr.EvidenceLookup in memory, and through Handler the same records as a
// local FHIR server for shcr.NewFHIREvidence; SetError and SetDelay make it
// fail or slow.
//
// A summary is served as a collection Bundle, its Composition first, each
// entry's fullUrl a stable urn:uuid that the references inside it use. A
// search's fullUrls can be read. ServeBehindProxy makes a fake behind a
// reverse proxy (the stand-alone sandbox) take the address clients call
// from X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix, for
// the identity token's audience and for its links.
//
// # Differences from real shared care records
//
// A fake ShCR serves records/<pointer ID>, and a FHIR search by patient
// of AllergyIntolerance, MedicationStatement and Condition with a read of each result, nothing else: no other
// resource, search parameter or interaction, and no CapabilityStatement.
// It pages a large Bundle with ?page=n links of its own. Its content is
// synthetic; it holds no access rules of its own beyond the checks above;
// TLS uses the test server's certificate; nothing is persisted.
package shcrtest
