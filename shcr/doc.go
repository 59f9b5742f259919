// Package shcr retrieves a patient's records from remote shared care
// records (ShCRs) and runs the whole cross-boundary journey: trace the
// patient in PDS, decide, locate the records through the National Record
// Locator, decide per pointer, retrieve in parallel and audit every step.
//
// # Remote retrieval
//
// A Directory maps custodian ODS codes to the endpoints of the remote
// ShCRs that hold their records: base URL, how to authenticate (an OAuth2
// token source, typically package auth's signed-JWT client credentials, or
// a static bearer token), an optional client certificate for mutual TLS,
// the audience and signing of identity tokens, and the provider ASID for
// retrieval through the Spine Secure Proxy (SSP). Build one in code with
// NewDirectory, or load one with LoadDirectory from a YAML or JSON file:
//
//	ssp:
//	  proxyUrl: https://proxy.spine.example
//	  consumerAsid: "200000000101"
//	endpoints:
//	  - name: North Region ShCR
//	    custodians: [RN1, RN2]
//	    baseUrl: https://shcr.north.example/fhir
//	    contentHosts: [https://docs.north.example]
//	    timeout: 5s
//	    parallelism: 8              # requests in flight to this endpoint at once
//	    reuseIdentity: false        # true: the provider accepts one identity token per journey
//	    auth:                         # none | bearer | client_credentials
//	      type: client_credentials
//	      tokenUrl: https://shcr.north.example/oauth2/token
//	      clientId: riverside-epr
//	      keyId: key-1
//	      privateKey: keys/assertion.pem
//	    tls: {certificate: certs/client.pem, key: certs/client.key, ca: certs/north-ca.pem}
//	    identity: {signing: RS256, privateKey: keys/identity.pem, keyId: id-1}
//	  - name: South ShCR
//	    custodians: [RS1]
//	    baseUrl: https://south.example/api
//	    auth: {type: bearer, tokenEnv: SOUTH_SHCR_TOKEN}
//
// Paths are relative to the file; secrets never sit in it (bearer tokens
// come from an environment variable or a file).
//
// The Directory is also the allow-list of every host that may receive
// credentials. A pointer whose URL's origin (scheme, host and port) is not
// registered for the pointer's own custodian, nor the configured SSP
// proxy, is refused with ErrHostNotAllowed before any connection is made:
// the national index can never make this package hand a token to an
// arbitrary host. A redirect to another origin is not followed
// (shcrkit.ErrRedirectRefused), and neither is a Bundle next link to one.
//
// Remote sends, with every request, a fresh identity token (or, for an
// endpoint whose provider accepts it, Endpoint.ReuseIdentity, one token per
// journey) in the GP
// Connect shape (iss, sub, aud, iat, exp = iat + 5 minutes,
// reason_for_request, requested_scope with conf/N or conf/R, and
// FHIR-resource-shaped requesting_device, requesting_organization and
// requesting_practitioner claims) built from the shcrkit.Requester,
// unsigned or signed RS256, RS512 or ES256 as the endpoint wants. With an
// OAuth2 access token in Authorization, the identity token travels in
// X-Identity-Token (or the endpoint's own); without one, in
// Authorization as GP Connect does. Pointers with an ssp:// URL go through
// the proxy with the Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID
// headers. shcr/provider verifies such tokens on the provider's side.
//
// FHIR JSON answers (a resource, or a Bundle whose next links are followed
// up to a page limit and merged) come back whole; PDF, HTML and other
// attachments come back as a stream capped at a maximum size, never
// buffered. The answer's content type must match what the pointer
// declares. Retries, request IDs and typed errors are the shared
// plumbing's: errors match the shcrkit sentinels (ErrNotFound,
// ErrUnavailable, ErrResponseTooLarge, ErrMalformedResponse...).
//
// # FHIR search
//
// Beyond what NRL pointers name, Remote.Search runs a FHIR search
// (AllergyIntolerance?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|…,
// MedicationStatement, Condition...) on the base URL of the remote ShCR
// that the directory names for a custodian, with the same credentials,
// identity token, timeout, parallelism bound and page limit as a
// retrieval; parameters that would widen it to another patient or pull in
// other resources are refused. Client.Search decides it per resource
// type, the type's data category (Config.ResourceCategories) standing in
// for a record type, and audits the decision and the search.
//
// # The journey
//
// New builds a Client from the PDS and NRL clients, the rbac policy, the
// audit sink and the directory. A Request names the requester, the
// patient (an NHS number, or demographics to trace), the purpose, the
// legitimate relationship with its reason and evidence, and the record
// types wanted.
//
//  1. The patient is traced in PDS: a superseded number is followed to the
//     surviving record (Patient.Superseded says so), a restricted patient
//     is flagged.
//  2. The claimed relationship is verified (Config.Relationships), then
//     the policy decides whether the requester may look across the
//     boundary at all.
//  3. The NRL is searched for the patient's pointers.
//  4. The policy decides each pointer: role against record category, an
//     agreement with the custodian's shared care record, confidentiality.
//  5. The allowed pointers are retrieved concurrently, each within the
//     custodian's timeout and within its endpoint's parallelism bound; a slow or
//     failing ShCR holds up and fails no other.
//  6. The obligations of each decision are honoured: the Privacy Officer
//     alerted through the caller's Config.Alert (once per journey and
//     activity), fields redacted from FHIR records (a document that cannot
//     be redacted is withheld), time boxes set.
//  7. Every step is audited before anything it covers is handed back: the
//     PDS trace, the NRL search, each decision and each retrieval, refused
//     and failed ones in the same detail. If the sink does not take an
//     event, the data it covers is withheld and the error (an *AuditError,
//     matching ErrAudit) says why.
//
// When the NHS number is known, the NRL search starts alongside the PDS
// trace. Its answer is held back until the boundary decision allows it
// (and recorded as withheld otherwise); when PDS reports the number
// superseded, it is recorded as discarded and the surviving number is
// searched afresh. The journey then costs about two round trips plus the
// slowest retrieval.
//
// # Legitimate relationships and ad hoc sharing
//
// A relationship is verified, not asserted. Config.Relationships, a
// RelationshipVerifier, checks the claim before the boundary decision,
// within Config.RelationshipTimeout. StandardVerifiers is the verifier
// the SDK ships, judging each kind its own way: a registered relationship
// by the patient's GP practice in PDS (the requester's organisation or
// one of the sites the policy lists for it); a referral, encounter or
// care team by a record in the caller's own records, through an
// EvidenceLookup such as NewFHIREvidence's, for this patient, naming this
// organisation, in force now; self-claimed and emergency relationships
// rest on their reason and alert the Privacy Officer (they are never
// reported verified). The outcome goes into every decision of the journey
// (rbac.Decision.Verification) and its audit event
// (audit.Event.RelationshipVerification); the policy says per kind
// whether verification is required, optional or not applicable. A
// verifier that fails or does not answer in time fails closed, and that
// is audited too.
//
// Request.AdHoc records a professional's one-off decision to share
// records that no agreement covers; the policy allows it only for the
// purposes it permits ad hoc sharing for, and its audit event
// (audit.Event.AdHocSharing) is always flagged for review.
//
// Config.Policies, an rbac.Holder, lets the policy be replaced while the
// Client runs: each journey decides on the policy in force when it
// started.
//
// Discover runs steps 1 to 4: what exists and what this requester may
// open. Retrieve opens one pointer. Records runs the whole journey and
// returns a Result with the records, the refusals with the policy's
// reasons, and the per-pointer failures side by side.
//
// Each audit event says which step it records by its kind (a decision,
// or a call) and its Service: PDS for the trace, the NRL for the boundary
// decision and the search, a remote ShCR for a record's decision and its
// retrieval (a retrieval withheld before any request is a decision under
// a "withheld/" rule). An *AuditError names the step whose record was not
// written: "pds trace", "boundary decision", "nrl search", "record
// decision" or "retrieval". All events of one journey share its correlation ID, taken from the context
// (shcrkit.WithCorrelationID) or made up. Every event carries a request
// ID: the X-Request-ID of the call it records, and for a pointer's
// decision that of the retrieval it authorises, so the two can be joined.
// Decisions name the deciding rule and their reasons and obligations;
// failures an error code (a Spine code, an HTTP status, or one of
// HOST_NOT_ALLOWED, REDIRECT_REFUSED, OBLIGATION_NOT_HONOURED, TIMEOUT,
// TOO_LARGE, MALFORMED_RESPONSE, UNAVAILABLE).
//
// # Testing
//
// Package shcrtest has a fake remote ShCR and a complete fake world for
// tests of the journey; the package example runs against it.
package shcr
