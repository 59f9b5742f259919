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
// # Identifiers in logs and errors
//
// No error text or log line produced by the SDK contains an NHS number, a
// bearer token or a query string that carries an NHS number: NHSNumber
// implements slog.LogValuer with a masked form, and MaskNHSNumbers is
// applied to every text that echoes a service's words.
package shcrkit
