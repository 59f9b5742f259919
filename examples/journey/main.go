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
//	go run ./examples/journey -policy examples/journey/policy.yaml -requester me.json
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
// -directory (the remote ShCRs), -policy, -requester and -ods are needed,
// and -token (or $SHCRKIT_TOKEN) supplies the access token.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "journey:", err)
		}
		os.Exit(1)
	}
}

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
	fs := flag.NewFlagSet("journey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.patient, "patient", "", "NHS number of the patient (default: a patient of the fake world)")
	fs.StringVar(&f.purpose, "purpose", "TREAT", "purpose of use: TREAT, ETREAT or BTG")
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
	fs.StringVar(&f.token, "token", os.Getenv("SHCRKIT_TOKEN"), "access token for PDS and NRL (default $SHCRKIT_TOKEN)")
	fs.BoolVar(&f.provider, "provider", false, "also start the example provider (Brackenfield) behind its guard and retrieve from it")
	fs.StringVar(&f.serve, "serve", "", "afterwards, serve the patient information page and the investigation console on this loopback address (127.0.0.1:8088)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (f.pdsURL == "") != (f.nrlURL == "") {
		return nil, errors.New("-pds and -nrl go together")
	}
	if f.provider && f.pdsURL != "" {
		return nil, errors.New("-provider runs with the fake world, not with -pds and -nrl")
	}
	if f.pdsURL != "" {
		for name, v := range map[string]string{"-directory": f.directory, "-policy": f.policy, "-requester": f.requester, "-ods": f.ods, "-patient": f.patient} {
			if v == "" {
				return nil, fmt.Errorf("%s is needed to run against real services", name)
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
