// Package shcrkit is an embeddable SDK for Shared Care Record (ShCR)
// interoperability in England: it lets a health or care application find
// and retrieve a patient's records held by shared care records in other
// regions, only when there is a legitimate reason, with every access
// audited so that it can be investigated and challenged later.
//
// # The journey
//
// A professional treats a patient away from the patient's home region.
// Their system:
//
//  1. traces the patient in the Personal Demographics Service (package pds);
//  2. finds where the patient's records are held through the National
//     Record Locator (package nrls);
//  3. decides whether this person, in this role, with this relationship to
//     the patient, for this purpose, under the sharing agreements in force,
//     may see each record (package rbac);
//  4. retrieves the records from the remote ShCRs with proper
//     authentication (package shcr);
//  5. writes a tamper-evident audit record of every access, refused ones
//     included (package audit).
//
// Package shcr ties the steps together; package auth supplies the OAuth2
// token sources for the NHS API platform. Each service has a faithful fake
// in a sibling package (pdstest, nrlstest, shcrtest, audittest).
//
// # Vocabulary
//
// This package holds what every other package speaks: NHSNumber and
// ODSCode (validated identifiers that mask themselves in logs), Requester
// (who is asking), Purpose (why, with one name per purpose: "direct-care",
// "emergency", "break-glass"), RelationshipKind (the legitimate relationship
// claimed), Confidentiality (how closely a patient or a record is guarded:
// a missing label is unrestricted, an unreadable one very restricted), and
// APIError with the sentinel errors that callers match with errors.Is:
//
//	nhs, err := shcrkit.ParseNHSNumber("943 476 5919")
//	if err != nil {
//		return err // errors.Is(err, shcrkit.ErrInvalidNHSNumber)
//	}
//	p, err := pdsClient.Get(ctx, nhs)
//	if errors.Is(err, shcrkit.ErrNotFound) {
//		// no such patient
//	}
//
// # One application, many users: identity per call
//
// An application serves many professionals of many organisations at once
// over one set of clients. Who a call is made for is never fixed in a
// client: it travels with the call, in its context, as a Session (the
// user, the organisation they act for, the role profile ID of their
// session, and in user-restricted mode their CIS2 ID token):
//
//	ctx = shcrkit.WithSession(ctx, shcrkit.SessionOf(requester, sessionID, cis2IDToken))
//	p, err := pdsClient.Get(ctx, nhs) // this user's organisation, role and token
//
// pds and nrls send the session's organisation as
// NHSD-End-User-Organisation-ODS and its role profile ID as
// NHSD-Session-URID. A client whose token source is a SessionTokenSource
// (auth.SessionTokens: CIS2 token exchange and refresh per session,
// single-flight per session, bounded by size and idle time, a 401 dropping
// that session's token only) sends the session's own access token, and
// refuses a call without a session (ErrNoSession). A client's options
// (WithEndUserOrganisation, WithSessionURID, WithTokenSource with an
// application's token) are application-level defaults: they fill in what a
// session leaves out, and a session that contradicts them is refused with
// an *IdentityMismatchError before anything is sent. Transport, retries and
// caches stay shared by every session.
//
// The journey (shcr.Client) takes identity from its Request: the
// requester's user, organisation and role are what PDS, the NRL and the
// identity tokens sent to remote ShCRs carry, with the session ID and ID
// token of the session in the context, if any. A context session of
// another user, organisation or role, or a PDS or NRL client fixed to
// another organisation or role than the requester's, is refused with an
// *IdentityMismatchError before any call.
//
// # Identifiers in logs and errors
//
// No error text or log line produced by the SDK contains an NHS number, a
// bearer token or a query string that carries an NHS number: NHSNumber
// implements slog.LogValuer with a masked form, and MaskNHSNumbers is
// applied to every text that echoes a service's words.
package shcrkit
