// Command journey walks through the whole cross-boundary journey: a
// clinician in one region treats a patient from another, and their system
// traces the patient in PDS, finds the patient's records through the
// National Record Locator, decides record by record what this clinician may
// see, retrieves the allowed records from the regional shared care records
// in parallel, and writes every step to a tamper-evident audit log first.
//
// With no flags it needs no network: it starts the complete fake world in
// process (PDS, NRL, regional ShCRs, a token endpoint), an embedded audit
// log in a temporary directory and the world's example policy, then prints
// the patient access report and the audit log's verification and
// checkpoint.
//
//	go run ./examples/journey
//	go run ./examples/journey -patient 9490000078 -latency 20ms
//	go run ./examples/journey -policy examples/journey/policy.yaml -requester examples/journey/requester.json
//	go run ./examples/journey -purpose emergency -relationship emergency -reason 'unconscious in ED'
//
// policy.yaml beside this file is the fake world's policy, to copy and
// edit: change a role, a category or an agreement and see the decisions
// change.
//
// With -provider it also starts Brackenfield, the small shared care
// record of examples/provider, behind its guard: its pointers are
// published to the fake NRL, the journey retrieves them through the
// guard, and Brackenfield's own audit trail is printed, joined to the
// journey's by request ID.
//
// With -pds and -nrl it runs against real services instead; then
// -directory (the remote ShCRs), -policy, -requester and -ods are required,
// and -token (or $SHCRKIT_TOKEN) supplies the access token.
//
// Every flag can also be set in the environment: SHCRKIT_ and the flag's
// name upper-cased, dashes as underscores (SHCRKIT_AUDIT_DIR for
// -audit-dir); a flag on the command line wins. -h lists them all.
// requester.json beside this file is a sample -requester.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

func main() { cli.Main("journey", 0, run) }

// flags are the command line.
type flags struct {
	patient      string
	purpose      string
	relationship string
	reason       string
	evidence     string
	policy       string
	requester    string
	auditDir     string
	latency      time.Duration
	pdsURL       string
	nrlURL       string
	directory    string
	ods          string
	token        string
	provider     bool
	serve        string
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	var f flags
	fs := cli.NewFlagSet("journey", stderr)
	fs.StringVar(&f.patient, "patient", "", "NHS number of the patient (default: a patient of the fake world)")
	fs.StringVar(&f.purpose, "purpose", shcrkit.PurposeDirectCare.String(), "purpose of use: direct-care, emergency or break-glass")
	fs.StringVar(&f.relationship, "relationship", "encounter", "legitimate relationship: registered, referral, encounter, care-team, self-claimed, emergency")
	fs.StringVar(&f.reason, "reason", "", "reason for a self-claimed or emergency relationship")
	fs.StringVar(&f.evidence, "evidence", "", "what the relationship rests on (encounter, referral or care-team identifier; default: any of the patient's)")
	fs.StringVar(&f.policy, "policy", "", "access policy YAML file (default: the fake world's policy)")
	fs.StringVar(&f.requester, "requester", "", "JSON file describing the requester (a shcrkit.Requester)")
	fs.StringVar(&f.auditDir, "audit-dir", "", "audit log directory (default: a new temporary directory)")
	fs.DurationVar(&f.latency, "latency", 0, "latency the fakes add to every answer")
	fs.StringVar(&f.pdsURL, "pds", "", "PDS FHIR R4 base URL: run against real services")
	fs.StringVar(&f.nrlURL, "nrl", "", "NRL consumer FHIR R4 base URL: run against real services")
	fs.StringVar(&f.directory, "directory", "", "directory of remote ShCRs (JSON or YAML), with -pds and -nrl")
	fs.StringVar(&f.ods, "ods", "", "end-user organisation ODS code, with -pds and -nrl")
	fs.StringVar(&f.token, "token", "", "access token for PDS and NRL (or $SHCRKIT_TOKEN)")
	fs.BoolVar(&f.provider, "provider", false, "also start the example provider (Brackenfield) behind its guard and retrieve from it")
	fs.StringVar(&f.serve, "serve", "", "afterwards, serve the patient information page and the investigation console on this loopback address (127.0.0.1:8088)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if err := cli.NoArgs(fs); err != nil {
		return nil, err
	}
	// Check what can be checked before anything starts.
	if _, err := shcrkit.ParsePurpose(f.purpose); err != nil {
		return nil, fmt.Errorf("-purpose: %w (direct-care, emergency or break-glass)", err)
	}
	if _, err := relationship(&f); err != nil {
		return nil, err
	}
	if f.patient != "" {
		if _, err := shcrkit.ParseNHSNumber(f.patient); err != nil {
			return nil, fmt.Errorf("-patient: %w", err)
		}
	}
	if f.serve != "" {
		if err := checkServe(f.serve); err != nil {
			return nil, err
		}
	}
	if (f.pdsURL == "") != (f.nrlURL == "") {
		return nil, errors.New("-pds and -nrl go together")
	}
	if f.provider && f.pdsURL != "" {
		return nil, errors.New("-provider runs with the fake world, not with -pds and -nrl")
	}
	if f.pdsURL != "" {
		for _, name := range []string{"directory", "policy", "requester", "ods", "patient"} {
			if fs.Lookup(name).Value.String() == "" {
				return nil, cli.Missing(name, "to run against real services (with -pds and -nrl)")
			}
		}
	}
	return &f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	j := &journey{out: stdout, flags: f, start: time.Now()}
	defer j.close()
	jctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := j.run(jctx); err != nil {
		return err
	}
	// Serving (with -serve) lasts until ctx ends: an interrupt.
	return j.whereToLook(ctx, j.policy)
}
