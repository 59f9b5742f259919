// Package balp holds the FHIR R4 vocabulary of the audit package's
// AuditEvent mapping (IHE Basic Audit Log Patterns): the code and
// identifier systems, the URLs of the extensions the SDK adds for what R4
// has no element for, the builders of the small FHIR structures the
// mapping repeats, and the checks of what R4 makes mandatory. The audit
// package maps Events with them; audittest's BALP checker reads the same
// systems.
package balp
