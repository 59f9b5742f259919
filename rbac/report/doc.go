// Package report writes the information-governance paperwork of
// cross-boundary sharing from the access policy that rbac enforces, so
// that what an IG lead signs and what patients are told is what the
// software does:
//
//   - NewROPA: the UK GDPR Article 30 record of processing (purposes,
//     lawful bases, categories of data, recipients, retention, security
//     measures), one processing activity per agreement, as JSON and
//     Markdown.
//   - NewDPIA: a data protection impact assessment starter (data flows,
//     risks and the controls that mitigate them), as Markdown.
//   - NewPatientInformation: the point-of-care information for patients,
//     in plain English, as Markdown and as an accessible HTML page.
//
// Each takes the loaded *rbac.Policy; the record_of_processing section of
// the policy file supplies what the rules do not (the controller, lawful
// bases, retention). The documents are values: change them before
// rendering if the IG lead's wording differs.
package report
