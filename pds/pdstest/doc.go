// Package pdstest is an in-memory Personal Demographics Service that
// behaves like the real one, for tests (yours and shcrkit's) and for the
// stand-alone sandbox.
//
// # Serving
//
// NewServer starts the fake on a loopback address; its URL is the service
// root to give pds.NewClient, and Client returns a *pds.Client already
// wired to it. NewUnstartedServer and Handler let another server mount
// the fake under BasePath. A Server is safe for concurrent use.
//
//	srv := pdstest.NewServer()
//	defer srv.Close()
//	p, err := srv.Client().Get(ctx, pdstest.PatientNormal)
//
// # Seed population
//
// The fake starts with Population(): over fifty synthetic patients with
// NHS numbers from SyntheticNHSNumber (valid check digits, in the 949
// range), registered with invented GP practices in four invented regions
// (Regions), each with the ODS code of its shared care record, so that
// fakes of other services (nrlstest, shcrtest) can seed matching data.
// Well-known patients cover each kind of record: PatientNormal,
// PatientRestricted, PatientVeryRestricted, PatientDeceased,
// PatientSuperseded and PatientSurviving, PatientInvalidated,
// PatientRedacted, PatientMinimal, and PatientUnknown, which no record
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
// first, superseded numbers answered with the surviving record, and the
// removal of address, telecom, contacts and GP from restricted records.
// With WithAccessMode(pds.AccessApplicationRestricted) it limits searches
// to one result and refuses updates.
//
// # Faults, recording and tokens
//
// InjectFault adds latency, error answers (429 with Retry-After, 503,
// any status and Spine code), truncated, oversized, dripping or hanging
// answers to chosen routes for the next n requests. TimeOutUpdates makes
// updates apply but answer 503, so that a client must re-send with the
// same X-Request-ID. Requests returns copies of every request received.
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
//   - Updates apply a subset of the business rules: gender, birth date and
//     date of death cannot be removed, gender cannot become "other", one
//     usual name, one address of each use, ids quoted on replacing a list
//     item and absent when adding one, a test before every removal of a
//     list item. Period rules, address enrichment, name character rules and
//     extensions are not checked.
//   - Restricted and very restricted records cannot be updated (403
//     FORBIDDEN_UPDATE), and their related people come without address and
//     telecom; very restricted records are treated as restricted. The
//     specification does not describe these cases in detail.
//   - A record labelled REDACTED answers 404 RESOURCE_NOT_FOUND; an
//     invalidated number 404 INVALIDATED_RESOURCE.
//   - An update of a superseded number updates the surviving record.
//   - A wrong Content-Type on an update answers 400 INVALID_VALUE (the
//     specification names the status only). A bare JSON Patch array is
//     refused: the specification requires the {"patches": [...]} object.
//   - Re-sent requests are de-duplicated by X-Request-ID for applied
//     updates only (the last 1024).
//   - Patient creation, Coverage and the X-Sync-Wait header are not
//     implemented (POST /Patient answers 501). Diagnostics texts are the
//     fake's own.
package pdstest
