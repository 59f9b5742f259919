// Package nrlstest is a fake National Record Locator for tests and the
// stand-alone sandbox: the consumer and producer FHIR APIs in memory, on a
// loopback port, seeded with pointers for the synthetic patients of the
// PDS fake.
//
// # Use
//
//	srv := nrlstest.NewServer()
//	defer srv.Close()
//	c, err := srv.NewClient() // a consumer, for organisation ConsumerODS
//	ptrs, err := c.Search(ctx, pdstest.Patients.Normal)
//
// Other clients are made as for the real service, with the fake's HTTP
// client: a producer for a custodian,
//
//	nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()),
//		nrls.WithEndUserOrganisation(nrlstest.CustodianNorth))
//
// or a consumer with no organisation of its own (each call takes it from
// its session, shcrkit.WithSession) on srv.URL+nrls.ConsumerPath. Handler
// serves the same APIs from another server.
//
// # Seed data
//
// The seed pointers are filed under the NHS numbers of pdstest's
// population (pdstest.Population; the well-known patients are
// pdstest.Patients.Normal and the others), and the custodians are the shared
// care records of its four regions (CustodianNorth, CustodianSouth,
// CustodianEast, CustodianWest). The seed pointers cover
// several record types, SSP, direct and in-context retrieval, structured
// and unstructured content, a restricted (R) and very restricted (V)
// pointer, a pointer still filed under a superseded NHS number, and
// patients with no pointers (pdstest.Patients.Minimal). A seed pointer leads to
// "<custodian base URL>/records/<pointer ID>"; Rebase points a
// custodian's pointers at a fake shared care record. AddPointer files more pointers; InjectEntry files raw entries (an
// OperationOutcome, a pointer of another patient) to test how a client
// copes with a damaged index.
//
// # Behaviour
//
// Every request needs X-Request-ID (a UUID; else 400
// MISSING_OR_INVALID_HEADER) and NHSD-End-User-Organisation-ODS (else 401
// MISSING_OR_INVALID_HEADER); both correlation headers are echoed.
// Searches check their parameters as the service does: subject:identifier
// required (INVALID_PARAMETER, or MESSAGE_NOT_WELL_FORMED in a _search
// body), a bad check digit INVALID_NHS_NUMBER, a type or category system
// other than SNOMED CT, an unknown category, or a type that is unknown or
// not among those the organisation may use (WithConsumerTypes) 400
// INVALID_CODE_SYSTEM, unknown parameters refused, _summary=count answered
// with a total alone. Reads of a missing pointer answer 404
// NO_RECORD_FOUND; a read by a consumer restricted by WithConsumerTypes of
// a pointer of another type gets 403 "ACCESS DENIED" (with a space, as the
// service spells it there), while a missing or refused token
// (WithTokenValidator) gets 401 ACCESS_DENIED. Producers write only their own pointers: a
// create for another custodian is 400 BAD_REQUEST, an update 403
// AUTHOR_CREDENTIALS_ERROR, a delete 403 ACCESS_DENIED. Creates and
// updates are validated with nrls.Pointer's Validate and refused with one issue per
// broken rule, each naming its field in expression; an update may not
// change an immutable field. A create answers 201 with an informational
// OperationOutcome and the new pointer's Location; a create with relatesTo
// "replaces" supersedes (deletes) the pointers it names.
//
// InjectFault makes requests fail, hang, drip, arrive truncated or
// oversized; Requests returns what was received.
//
// # Differences from the real service
//
//   - The service identifies the calling application from its signed-JWT
//     access token and the organisation it was onboarded for; the fake
//     takes the organisation from NHSD-End-User-Organisation-ODS alone,
//     and checks tokens only when WithTokenValidator is given.
//   - Record types a consumer or producer may use are open to all unless
//     WithConsumerTypes or WithProducerTypes says otherwise; the service
//     knows them from onboarding.
//   - Both APIs are served by one server; the service has separate hosts
//     behind the API platform, which adds its own errors (rate limits,
//     gateway timeouts) that the fake produces only through InjectFault.
//   - Search results come in filing order; the service's order is not
//     specified.
//   - A stored pointer that cannot be read is represented by an entry
//     injected with InjectEntry; the service answers such an entry with
//     an OperationOutcome in the Bundle or a 500, depending on version.
//   - Validation applies the rules of nrls.Pointer's Validate, which follow the
//     published specification (content stability extension required,
//     category consistent with type, media type consistent with format)
//     and may be stricter or looser than the live service in details.
//   - A create's Location is relative to the API platform's host, as the
//     service writes it (/producer/FHIR/R4/DocumentReference/<id>); a
//     search's self link names the address the client called (its Host,
//     or X-Forwarded-Proto and X-Forwarded-Host from a proxy in front).
//   - A delete answers 200 with an informational OperationOutcome coded
//     RESOURCE_REMOVED, as the specification shows it.
//   - Of the producer specification's error codes, 403 ACCESS_DENIED_LEVEL
//     (a higher permission level needed) and 422 UNPROCESSABLE_ENTITY are
//     never answered; the consumer specification's example of a refused
//     read is coded VALIDATION_ERROR, where the fake answers 403 "ACCESS
//     DENIED" for a type the organisation may not use.
//   - The pointer types and categories an organisation was onboarded for,
//     and the API platform's products and scopes, are not modelled beyond
//     WithConsumerTypes and WithProducerTypes.
//   - GET <API>/metadata answers the fake's own CapabilityStatement of
//     each API, without a token or the request headers.
//   - Nothing is persisted, and no audit trail is kept beyond Requests.
package nrlstest
