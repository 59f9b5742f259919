// Package rbac is the access-control model of shcrkit: who may see which
// of a patient's records held across a shared care record (ShCR) boundary,
// why, and under which sharing agreements, decided by a policy that an
// information-governance lead can read and sign off.
//
// Shared care records must allow "proportionate access to appropriate and
// relevant data ... only if there is a legitimate relationship between the
// professional and the individual". A Policy is that rule, as data.
//
// # The policy
//
// A policy is one YAML document (internal/samplepolicy/policy.yaml in the
// repository is a complete, commented one). It declares:
//
//   - local: the ODS code of the local shared care record and its member
//     organisations. Their staff may use the policy, and records they hold
//     need no agreement. remote_shcrs names the other regions' records and
//     their members, so that a record's custodian can be traced to the
//     shared care record that must have agreed to share it.
//   - categories: data categories and the National Record Locator record
//     types (SNOMED CT codes) in each, with the activity codes a category
//     requires (e.g. B1611 Access Sensitive Flagged Records).
//   - access_levels: which categories each level may see (proportionate
//     access), and roles: which national RBAC job roles (R-codes) and
//     activity codes (B-codes) grant which levels. activity_includes
//     records that one activity includes others (B0380 includes B0360).
//   - relationships: the accepted kinds of legitimate relationship and the
//     purposes of use each supports, with the reason, evidence and
//     obligations each requires, and whether a claimed relationship must be
//     verified (verification: required, optional or not_applicable; see
//     Verification). Self-claimed and emergency (break-glass)
//     relationships must require a reason and alert the Privacy Officer;
//     they are never verified, only recorded.
//   - confidentiality: whether and how restricted (R) and very restricted
//     (V) patients may be seen; an absent rule refuses.
//   - break_glass: whether emergency access overrides a patient's recorded
//     dissent or a missing agreement. Both default to no.
//   - agreements: information sharing agreements between the local and
//     remote shared care records: parties, purposes, categories, first
//     and last day in force, and what the IG lead signs off (version,
//     signatories, review date, the joint DSPA they conform to). An
//     agreement that has ended or not begun still loads; it is inactive
//     and decisions against it say so ("agreement ISA-… ended on
//     2030-12-31"). AgreementsEnding, AgreementsDueForReview and
//     RemotesWithoutAgreement answer what needs attention.
//   - ad_hoc_sharing: the purposes for which a record no agreement covers
//     may be shared on a professional's one-off, recorded judgement (see
//     AdHoc); such a decision is its own kind, audited in full and flagged
//     for review.
//   - record_of_processing: the controller and what the UK GDPR Article 30
//     record needs beyond the rules themselves.
//
// LoadPolicy decodes strictly (unknown and duplicate keys are errors) and
// validates everything: code formats, references between sections,
// overlapping agreements. It reports every problem at once, each a
// *PolicyError with its line.
//
// # Replacing the policy while running
//
// A Holder serves the policy in force and replaces it atomically (Reload
// from text, or Watch on a file): decisions already under way
// on the old policy finish on it, new ones use the new, and a policy that
// does not load leaves the old one serving and reports why.
//
// # Decisions
//
// Policy.Decide answers a Request in two stages. First, with no custodian
// or record type (the boundary question): may this person look across the
// boundary for this patient, for this purpose, at all? Then for each
// pointer the record locator returns (with Custodian and RecordType set):
// may they see this record, held there?
//
// Access is refused by default and allowed only when every requirement
// holds. A refused Decision lists every requirement that failed, in words
// ("no legitimate relationship", "role R8008 lacks category care-plans",
// "no sharing agreement between QRX and QSD in force on 2026-11-24"), and
// names the rule that refused; an allowed one names the rule that
// permitted it and carries the Obligations the caller must honour. Break-
// glass stands in for a missing relationship, never for an absent
// agreement or a patient's recorded dissent unless the policy says so.
//
// # Obligations
//
// An allowed decision may oblige the caller to alert the Privacy Officer
// (the holders of activity B0016 for self-claimed relationships, B0015 for
// emergency access), to audit the access in detail, to redact fields (the
// address and contacts of a restricted patient), or to time-box the
// access. A caller that cannot honour an obligation must not release the
// data.
//
// # CIS2
//
// RequesterFromCIS2 builds the shcrkit.Requester from the NHS CIS2
// Authentication userinfo response, choosing the role the user selected
// from nhsid_nrbac_roles.
//
// # Record of processing
//
// Package rbac/report writes the UK GDPR Article 30 record of processing,
// a DPIA starter and the information for patients from a loaded policy,
// so that the paperwork comes from the file that enforces the rules.
//
// # Performance
//
// A Policy is immutable and safe for concurrent use. Everything Decide
// needs is computed when the policy is loaded, including the reasons and
// obligations of every allowed outcome, so Decide does not allocate when
// it allows and takes a fraction of a microsecond.
package rbac
