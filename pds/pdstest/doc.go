// Package pdstest is an in-memory Personal Demographics Service that
// behaves like the real one, for tests (yours and shcrkit's) and for the
// stand-alone sandbox.
//
// # Serving
//
// NewServer starts the fake on a loopback address; its URL is the service
// root to give pds.NewClient, and Client returns a *pds.Client already
// wired to it. NewUnstartedServer and Handler let another server mount
// the fake under /personal-demographics/FHIR/R4. A Server is safe for concurrent use.
//
//	srv := pdstest.NewServer()
//	defer srv.Close()
//	p, err := srv.Client().Get(ctx, pdstest.Patients.Normal)
//
// # Seed population
//
// The fake starts with Population(): over fifty synthetic patients with
// NHS numbers from SyntheticNHSNumber (valid check digits, in the 949
// range), registered with invented GP practices in four invented regions
// (each Person's Region), each with its shared care record (HomeShCR).
// The fakes of the other services (nrlstest, shcrtest) serve the same
// population: pointers and records for these patients.
// Well-known patients cover each kind of record: Patients.Normal,
// Patients.Restricted, Patients.VeryRestricted, Patients.Deceased,
// Patients.Superseded and Patients.Surviving, Patients.Invalidated,
// Patients.Redacted, Patients.Minimal, and Patients.Unknown, which no record
// has. Several patients share SharedSurname. AddPatient adds more;
// WithPopulation replaces the seed.
//
// # Behaviour
//
// The fake implements get, search, update (JSON Patch) and related
// persons as the service's specification describes them: the same
// headers (X-Request-ID must be a UUID and is echoed, as is
// X-Correlation-ID; NHSD-End-User-Organisation-ODS is checked, and
// NHSD-Session-URID for healthcare workers only), the same HTTP statuses
// and OperationOutcome codes (INVALID_RESOURCE_ID, MISSING_VALUE, INVALID_VALUE, INVALID_SEARCH_DATA,
// ADDITIONAL_PROPERTIES, UNSUPPORTED_SERVICE, RESOURCE_NOT_FOUND,
// INVALIDATED_RESOURCE, PRECONDITION_FAILED, RESOURCE_VERSION_MISMATCH,
// INVALID_UPDATE, FORBIDDEN_UPDATE, ACCESS_DENIED, TOO_MANY_MATCHES with
// HTTP 200), ETag W/"n" versions, searchset Bundles with scores best
// first, superseded numbers answered with the surviving record,
// managingOrganization and multipleBirthInteger where the record has them,
// and the removal of address, telecom, contacts, GP and managing
// organisation from restricted records.
// With WithAccessMode(pds.AccessApplicationRestricted) it limits searches
// to one result and refuses updates.
//
// # Faults, recording and tokens
//
// InjectFault adds latency, error answers (429 with Retry-After, 503,
// any status and Spine code), truncated, oversized, dripping or hanging
// answers to chosen routes for the next n requests. A Fault with
// AfterServing applies an update but answers with its Status, as the
// service answers 503 when its processing times out:
//
//	srv.InjectFault(http.MethodPatch, "/Patient/", 1,
//		pdstest.Fault{Status: 503, RetryAfter: "1", AfterServing: true})
//
// A client must then re-send with the same X-Request-ID, and the re-sent
// update is answered with the updated patient without being applied
// twice. Requests returns copies of every request received.
// WithTokenValidator makes the fake refuse requests without a valid bearer
// token with 401 ACCESS_DENIED.
//
// # Checking a client
//
// CheckClient runs a *pds.Client through the service's behaviour and
// returns every shortcoming as one error.
//
// # Differences from the real PDS
//
//   - The data is synthetic and held in memory; every server starts afresh.
//     Versions start at 1.
//   - Matching and scores approximate the service's: a patient's score is
//     the product of per-field scores (exact 1.0, wildcard 0.9, previous
//     name 0.85, transposed names 0.8, Soundex homophone 0.75, a later
//     given name not matching 0.7, a death date or GP not matching in a
//     fuzzy search 0.8). History covers previous names, not previous
//     addresses. The real algorithm is not published.
//   - The access mode is set on the server, not derived from the token;
//     patient access (NHS login) is not modelled. Tokens are checked only
//     with WithTokenValidator, without scopes, and there is no rate limit
//     unless injected as a fault.
//   - Updates apply a subset of the business rules. Applied: gender, birth
//     date and date of death cannot be removed; gender cannot become
//     "other"; removing the usual name or adding a second one is 403
//     FORBIDDEN_UPDATE; one address of each use (work and old aside); ids
//     quoted on replacing a list item and absent when adding one, and never
//     changed; a test before every removal of a list item; and, before any
//     change to part of a name, address, telecom or contact item, a test
//     (or a mirroring add or replace) of its id or url, else 400
//     INVALID_UPDATE ("you must always include the list id or url").
//     Not applied, of the specification's rules: at most one nickname; a
//     name's use cannot be replaced; name characters, prefix spellings and
//     suffix initials; birth date not in the future nor after the date of
//     death; date of death not in the future, not before birth, not
//     replaced once formal, and added only with a death notification (and
//     the reverse); one telecom of each system and use, a replace keeping
//     both, and email format and length; emergency contacts coded C only,
//     without fax or telecom use; a single GP practice with no period end,
//     changed only by primary care systems; valid ODS codes for the GP and
//     managing organisation; multipleBirthInteger from 1 to 9; pharmacy,
//     place of birth, communication and contact preference rules; period
//     rules and address enrichment. So the codes VALIDATION_ERROR,
//     UNSUPPORTED_CHARACTERS_IN_FIELD, UNSUPPORTED_VALUE,
//     TOO_FEW_VALUES_SUBMITTED and TOO_MANY_VALUES_SUBMITTED are never
//     answered, and 408 UNABLE_TO_CALL_SERVICE only as an injected fault.
//   - In place of the field lengths it does not check, an update's body is
//     at most 1 MiB (else 413 INVALID_UPDATE) and the patched record at most
//     1 MiB as JSON (else 400 INVALID_UPDATE), so that no client can grow a
//     record, or the answers kept for a re-sent update, without end.
//   - Restricted and very restricted records cannot be updated (403
//     FORBIDDEN_UPDATE), and their related people come without address and
//     telecom; very restricted records are treated as restricted. The
//     specification does not describe these cases in detail.
//   - A record labelled REDACTED answers 404 RESOURCE_NOT_FOUND; an
//     invalidated number 404 INVALIDATED_RESOURCE.
//   - An update of a superseded number updates the surviving record.
//   - An update takes Content-Type application/json-patch+json or
//     application/json, as the service does; a missing or other one answers
//     400 UNSUPPORTED_SERVICE, as NHS England's sandbox does (the
//     specification names the status only). A bare JSON Patch array is
//     refused: the specification requires the {"patches": [...]} object.
//   - A search must have a birthdate (400 MISSING_VALUE without one); a
//     birthdate without a prefix means eq.
//   - Besides the service's routes, GET /Patient/{id}/RelatedPerson/{id}
//     reads one related person, so that the fullUrls of the related
//     persons Bundle resolve; both answers carry the patient's ETag.
//   - GET <base>/metadata answers the fake's own CapabilityStatement,
//     without a token or X-Request-ID, describing what the fake supports
//     rather than the service's published statement.
//   - Links and fullUrls name the address the client called: its Host, or
//     X-Forwarded-Proto and X-Forwarded-Host from a proxy in front.
//   - Re-sent requests are de-duplicated by X-Request-ID for applied
//     updates only (the last 1024).
//   - Patient creation, Coverage and the X-Sync-Wait header are not
//     implemented (POST /Patient answers 501). Diagnostics texts are the
//     fake's own.
package pdstest
