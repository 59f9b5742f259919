// Package provider is the provider's side of cross-boundary sharing: what
// a shared care record (ShCR) written in Go puts in front of its own FHIR
// API so that other regions' ShCRs can read from it.
//
// # The Guard
//
//	g, err := provider.New(provider.Config{
//		Policy:       policy,    // the provider's own rbac policy
//		Audit:        auditLog,  // every incoming request, refused ones too
//		Resolver:     records,   // what a request asks for
//		Audience:     "https://shcr.north.example/fhir",
//		AccessTokens: jwks,      // a JWKSVerifier, an Introspector, or nil
//		Consumers: []provider.Consumer{{
//			Name: "Eastmoor ShCR", ShCR: "QEM", ClientIDs: []string{"eastmoor-portal"},
//			Signing: auth.RS256, Key: eastmoorIdentityKey,
//		}},
//	})
//	http.Handle("/fhir/", g.Wrap(fhirAPI))
//
// Wrap lets a request through only once it has
//
//   - verified the OAuth2 access token: a JWT against the issuer's key set
//     (JWKSVerifier: fetched, cached, and fetched again when a token names
//     a key the cached set lacks, so rotation needs no restart), or an
//     opaque token through the issuer's introspection endpoint
//     (Introspector); any TokenVerifier will do;
//   - verified the per-request identity token that package shcr sends
//     (the GP Connect claims shcr.Identity describes): signature with the consumer's key or, for
//     a consumer that sends them unsigned as GP Connect does, its absence;
//     aud, iat, exp and the GP Connect claims; and that it is not a replay
//     within its lifetime (Consumer.IdentityReuse allows a consumer that
//     reuses a token within one journey a bounded number of uses; such a
//     token's signature is verified once, and at each later use only its
//     times and audience are checked again). Only an access served uses a
//     token up: a request refused for another reason (the rate limit, the
//     policy, a record not served, an audit sink down) leaves it for the
//     consumer's retry, and a replay is refused before any Privacy
//     Officer alert is sent;
//   - identified the requesting organisation and checked that it belongs to
//     the consumer's ShCR as the policy names it, and that the access
//     token's client is that consumer's;
//   - applied the rate limit of the requesting organisation;
//   - refused any method but a read (GET, HEAD) or a search (GET, or POST
//     when the Resolver names a search): the identity token asks for
//     patient/*.read;
//   - asked the Resolver what the request is for (patient, record type or
//     data category, confidentiality labels, recorded dissent) and decided
//     it with rbac.Policy.DecideIncoming: an agreement in force with the
//     requester's ShCR covering the purpose and category, the role's
//     access to the category (from the token's requesting_role claim,
//     which package shcr sends; a token without it names no role and is
//     refused), confidentiality against the scope asked (conf/N or
//     conf/R), dissent;
//   - written the audit event, with the consumer's X-Request-ID and
//     X-Correlation-ID so that the two sides' trails join.
//
// The handler then reads the verified request with AccessFrom: the
// requester, the consumer, the decision and its obligations (Redact
// removes the fields a decision obliges; ValidUntil ends a time box;
// Privacy Officer alerts go through Config.Alert before the handler runs).
//
// # Pointer publication
//
// A Publisher keeps the National Record Locator in step with what the
// provider serves, through an nrls producer client: Sync takes the
// pointers a patient's records should have and creates, supersedes or
// deletes what differs. It is idempotent (a repeated Sync only reads) and
// retries an unavailable or rate-limiting NRL, checking before it retries
// a create that the first attempt did not land, since the NRL does not
// de-duplicate creates.
//
// # Errors
//
// Refusals are FHIR OperationOutcomes coded in the Spine error code
// system, with the statuses and codes a consumer already reads from PDS
// and the NRL: 401 and 403 ACCESS_DENIED, 404 NO_RECORD_FOUND, 400
// BAD_REQUEST, 429 TOO_MANY_REQUESTS with Retry-After, 503
// SERVICE_UNAVAILABLE. Diagnostics name what failed, never a token or an
// NHS number.
//
// # Audit
//
// Every request is recorded before anything is served: a read as an
// audit.ActionDisclose of the resource, a search as audit.ActionSearch,
// refused ones with outcome refused and the error code. If the sink does
// not take the event of an allowed request, the request is answered 503
// and the handler never runs: no audit record, no data. Auditing cannot be
// switched off.
//
// # Concurrency
//
// A Guard, a JWKSVerifier and an Introspector are safe for concurrent use.
// The replay cache and the rate limits are in memory: instances of one
// provider behind a load balancer each keep their own.
package provider
