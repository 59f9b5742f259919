// Package policyview is what the information-governance reports of
// rbac/report read from a loaded policy beyond its exported accessors:
// the policy's record_of_processing section, the names of the shared care
// records and the security measures its rules amount to. Package rbac
// fills a View in; it is internal so that rbac does not export details
// that only the reports use.
package policyview

import (
	"time"

	"github.com/shcrkit/shcrkit"
)

// View is the reports' view of one policy.
type View struct {
	// Owner and Approved are the policy's owner and approval date
	// (YYYY-MM-DD), as written.
	Owner, Approved string
	// Location is the policy's time zone, in which agreements' days are
	// counted.
	Location *time.Location
	// LocalName is the local shared care record's name.
	LocalName string
	// Remotes are the remote shared care records, in policy order.
	Remotes []Remote
	// DissentOverridable is true when break-glass overrides a patient's
	// recorded dissent.
	DissentOverridable bool
	// SecurityMeasures are the controls the policy's rules enforce,
	// followed by those its record of processing lists.
	SecurityMeasures []string
	// Record is the policy's record_of_processing section.
	Record RecordOfProcessing
}

// Remote is a remote shared care record named in a policy.
type Remote struct {
	ODS  shcrkit.ODSCode
	Name string
}

// RecordOfProcessing is the record_of_processing section of a policy
// file, as written: the controller and what the UK GDPR Article 30
// record needs beyond the rules themselves.
type RecordOfProcessing struct {
	Controller             Party         `yaml:"controller"`
	DataProtectionOfficer  Party         `yaml:"data_protection_officer"`
	LawfulBases            []LawfulBasis `yaml:"lawful_bases"`
	DataSubjects           []string      `yaml:"data_subjects"`
	AuditRetention         string        `yaml:"audit_retention"`
	RecordRetention        string        `yaml:"record_retention"`
	SecurityMeasures       []string      `yaml:"security_measures"`
	InternationalTransfers string        `yaml:"international_transfers"`
}

// Party is an organisation or person of the record of processing.
type Party struct {
	Name    string `yaml:"name"`
	ODS     string `yaml:"ods"`
	Contact string `yaml:"contact"`
}

// LawfulBasis is one lawful basis of the record of processing.
type LawfulBasis struct {
	Article     string `yaml:"article"`
	Description string `yaml:"description"`
}

// Of returns the view of policy, a *rbac.Policy. Package rbac sets it
// when it is initialised, so it is set wherever rbac/report is imported.
var Of func(policy any) View
