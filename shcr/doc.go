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
// (ErrRedirectRefused), and neither is a Bundle next link to one.
//
// Remote sends, with every request, a fresh identity token in the GP
// Connect shape (iss, sub, aud, iat, exp = iat + 5 minutes,
// reason_for_request, requested_scope with conf/N or conf/R, and
// FHIR-resource-shaped requesting_device, requesting_organization and
// requesting_practitioner claims) built from the shcrkit.Requester,
// unsigned or signed RS256, RS512 or ES256 as the endpoint wants. With an
// OAuth2 access token in Authorization, the identity token travels in
// DefaultIdentityHeader (or the endpoint's own); without one, in
// Authorization as GP Connect does. Pointers with an ssp:// URL go through
// the proxy with the Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID
// headers. IdentityCheck verifies such tokens on the provider's side.
//
// FHIR JSON answers (a resource, or a Bundle whose next links are followed
// up to a page limit and merged) come back whole; PDF, HTML and other
// attachments come back as a stream capped at a maximum size, never
// buffered. The answer's content type must match what the pointer
// declares. Retries, request IDs and typed errors are the shared
// plumbing's: errors match the shcrkit sentinels (ErrNotFound,
// ErrUnavailable, ErrResponseTooLarge, ErrMalformedResponse...).
package shcr
