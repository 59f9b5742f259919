// Command audit-verify checks an audit trail, the embedded log (package
// audit) or the PostgreSQL store (package audit/postgres), and answers a
// patient's question "who has looked at my record?".
//
//	go run ./examples/audit-verify -dir /var/lib/epr/audit
//	go run ./examples/audit-verify -dir DIR -checkpoint kept.note -key 'origin+abcd1234+AQ...'
//	go run ./examples/audit-verify -dir DIR -patient 9490000019 -reader examples/audit-verify/reader.json
//	go run ./examples/audit-verify -postgres 'postgres://...' -schema shcrkit_audit -checkpoint kept.note -key '...'
//
// It recomputes every record's hash and the Merkle tree, checks the log's
// latest signed checkpoint, and, given a checkpoint kept elsewhere, proves
// that the log still holds exactly what that checkpoint covered: with -key
// the proof is checked with that verifier key alone, as a third party
// would, so a log whose key was replaced does not pass. While it checks
// the embedded log it shows its progress on standard error. Reading a patient's
// accesses is itself recorded in the log, on behalf of the reader:
// reader.json beside this file is a sample -reader (a records officer).
// Every flag can also be set in the environment: SHCRKIT_ and the flag's
// name upper-cased (SHCRKIT_DIR for -dir); a flag on the command line
// wins. -h lists them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/shcrkit/shcrkit/audit/postgres"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

func main() { cli.Main("audit-verify", 10*time.Minute, run) }

// options are audit-verify's flags, checked.
type options struct {
	dir, dsn, schema string
	checkpoint, key  string
	markdown         bool
	// nhs and reader are set with -patient: whose accesses to list, and
	// who is asking (the listing is itself audited on their behalf).
	nhs    shcrkit.NHSNumber
	reader shcrkit.Requester
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	log, err := openTrail(ctx, stdout, opts.dir, opts.dsn, opts.schema)
	if err != nil {
		return tamperedNotice(stdout, err)
	}
	defer log.Close()

	if err := checkAll(ctx, stdout, stderr, log, opts); err != nil {
		return tamperedNotice(stdout, err)
	}
	if opts.nhs == "" {
		return nil
	}
	return printAccesses(ctx, stdout, log, opts)
}

// checkAll checks the kept checkpoint, the log's key against -key, and
// then every record of the log.
func checkAll(ctx context.Context, stdout, stderr io.Writer, log trail, opts options) error {
	if opts.checkpoint != "" {
		if err := checkKept(ctx, stdout, log, opts.checkpoint, opts.key); err != nil {
			return err
		}
	}
	if key := strings.TrimSpace(opts.key); key != "" && key != log.VerifierKey() {
		return fmt.Errorf("%w: the log's verifier key %s is not the one given with -key: another log, or its key was replaced",
			audit.ErrTampered, log.VerifierKey())
	}
	return verifyAll(ctx, stdout, stderr, log)
}

// tamperedNotice prints a TAMPERED line for an error that says the log
// was changed, and returns err.
func tamperedNotice(stdout io.Writer, err error) error {
	if errors.Is(err, audit.ErrTampered) {
		fmt.Fprintln(stdout, "TAMPERED: the log does not match what was written")
	}
	return err
}

// parseOptions reads the flags and checks them before anything is opened.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlagSet("audit-verify", stderr)
	fs.StringVar(&o.dir, "dir", "", "audit log directory (this or -postgres is required)")
	fs.StringVar(&o.dsn, "postgres", "", "PostgreSQL connection string of an audit/postgres store (this or -dir is required)")
	fs.StringVar(&o.schema, "schema", "", "with -postgres: the store's schema (default: the store's default, shcrkit_audit)")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "a signed checkpoint of this log kept elsewhere, to prove nothing it covered changed")
	fs.StringVar(&o.key, "key", "", "the log's verifier key as recorded elsewhere; the checkpoint is then checked with it alone")
	patient := fs.String("patient", "", "NHS number: print who accessed this patient's record")
	fs.BoolVar(&o.markdown, "markdown", false, "print the patient access report as Markdown")
	readerFile := fs.String("reader", "", "JSON file describing who is reading (a shcrkit.Requester); required with -patient")
	if err := cli.Parse(fs, args); err != nil {
		return o, err
	}
	if err := cli.NoArgs(fs); err != nil {
		return o, err
	}
	if o.dir == "" && o.dsn == "" {
		return o, fmt.Errorf("-dir or -postgres is %w (or $%s, $%s)", cli.ErrRequired, cli.EnvName("dir"), cli.EnvName("postgres"))
	}
	if o.dir != "" && o.dsn != "" {
		return o, errors.New("give one of -dir and -postgres, not both")
	}
	if o.dir != "" {
		if err := holdsLog(o.dir); err != nil {
			return o, err // never create a log where one was expected
		}
	}
	if *patient == "" {
		return o, nil
	}
	var err error
	if o.nhs, err = shcrkit.ParseNHSNumber(*patient); err != nil {
		return o, err
	}
	if *readerFile == "" {
		return o, cli.Missing("reader", "with -patient: reading the log is itself audited")
	}
	o.reader, err = cli.LoadRequester(*readerFile)
	return o, err
}

// verifyAll checks every record, hash and checkpoint of the log, then
// prints its latest checkpoint and verifier key for keeping elsewhere.
func verifyAll(ctx context.Context, stdout, stderr io.Writer, log trail) error {
	start := time.Now()
	if err := verify(ctx, log, stderr); err != nil {
		return err
	}
	size, err := log.Size(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified %d events in %s: every record, hash and checkpoint\n", size, time.Since(start).Round(time.Millisecond))
	if cp, ok := log.Checkpoint(); ok {
		fmt.Fprintf(stdout, "latest checkpoint (keep a copy elsewhere):\n\n%s\n", cp.Signed)
	}
	fmt.Fprintf(stdout, "verifier key: %s\n", log.VerifierKey())
	return nil
}

// printAccesses answers the patient's question: who has looked at the
// record, and which of those accesses deserve a second look.
func printAccesses(ctx context.Context, stdout io.Writer, log trail, o options) error {
	report, err := investigation.QueryAccessReport(ctx, log, o.reader, o.nhs, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if o.markdown {
		_, err := io.WriteString(stdout, report.Markdown())
		return err
	}
	printReport(stdout, report)
	flags, err := investigation.QueryReview(ctx, log, o.reader, audit.Filter{Patient: o.nhs}, investigation.ReviewConfig{})
	if err != nil {
		return err
	}
	if len(flags) > 0 {
		fmt.Fprintln(stdout, "\nfor review:")
	}
	for _, f := range flags {
		fmt.Fprintf(stdout, "  %s: %s (user %s, events %v)\n", f.Kind, f.Detail, f.UserID, f.Seqs)
	}
	return nil
}

// verify checks the whole trail, showing a progress line on stderr when
// the trail reports its progress (the embedded log does).
func verify(ctx context.Context, t trail, stderr io.Writer) error {
	p, ok := t.(interface {
		VerifyProgress(ctx context.Context, progress func(done, total uint64)) error
	})
	if !ok {
		return t.Verify(ctx)
	}
	var shown bool
	err := p.VerifyProgress(ctx, func(done, total uint64) {
		shown = true
		fmt.Fprintf(stderr, "\rverifying: %d of %d events' records checked (%d%%)", done, total, done*100/max(total, 1))
	})
	if shown {
		fmt.Fprintln(stderr)
	}
	return err
}

// checkKept proves that the log extends a checkpoint kept elsewhere.
func checkKept(ctx context.Context, out io.Writer, log trail, path, key string) error {
	signed, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if key == "" {
		if err := log.VerifyCheckpoint(ctx, signed); err != nil {
			return fmt.Errorf("checkpoint %s: %w", path, err)
		}
		fmt.Fprintf(out, "checkpoint %s: the log still holds exactly what it covered (checked with the log's own key)\n", path)
		return nil
	}
	older, err := audit.OpenCheckpoint(key, signed)
	if err != nil {
		return fmt.Errorf("checkpoint %s with the given key: %w", path, err)
	}
	size, err := log.Size(ctx)
	if err != nil {
		return err
	}
	if older.Size > size { // cut short, or put back to an earlier copy
		return fmt.Errorf("checkpoint %s: %w: it covers %d events but the log holds %d", path, audit.ErrTampered, older.Size, size)
	}
	proof, err := log.ProveConsistency(ctx, older.Size)
	if err != nil {
		return err
	}
	newer, err := audit.VerifyConsistency(key, signed, proof)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	fmt.Fprintf(out, "checkpoint %s: events 1..%d unchanged in the log of %d events (proved with the given key alone)\n", path, older.Size, newer.Size)
	return nil
}

// holdsLog checks that dir is a readable directory holding an embedded
// log: opening an empty one would create a new log there, which would
// verify.
func holdsLog(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("-dir %s: not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		switch e.Name() {
		case "state", "checkpoint", "verifier.key", "signing.key", "hashes", "segments", "index":
			return nil
		}
	}
	return fmt.Errorf("-dir %s holds no audit log (no state, checkpoint, keys or segments)", dir)
}

// trail is what the command checks and reads: an *audit.Log or a
// *postgres.Store.
type trail interface {
	Size(ctx context.Context) (uint64, error)
	Verify(ctx context.Context) error
	Checkpoint() (audit.Checkpoint, bool)
	VerifierKey() string
	VerifyCheckpoint(ctx context.Context, signed []byte) error
	ProveConsistency(ctx context.Context, oldSize uint64) (*audit.ConsistencyProof, error)
	audit.Reader
	Close() error
}

// embedded is an *audit.Log as a trail.
type embedded struct{ *audit.Log }

func (l embedded) Size(context.Context) (uint64, error) { return l.Log.Size(), nil }

// openTrail opens the embedded log in dir, or the PostgreSQL store at dsn
// (which must exist: nothing is created).
func openTrail(ctx context.Context, stdout io.Writer, dir, dsn, schema string) (trail, error) {
	if dsn != "" {
		opts := []postgres.Option{postgres.WithoutMigrate()}
		if schema != "" {
			opts = append(opts, postgres.WithSchema(schema))
		}
		store, err := postgres.Open(ctx, dsn, opts...)
		if err != nil {
			return nil, err
		}
		return store, nil
	}
	log, err := audit.OpenLog(dir)
	if err != nil {
		return nil, err
	}
	if rec := log.Recovered(); rec.Torn() {
		fmt.Fprintf(stdout, "recovered after a crash: cut %d bytes (%d unacknowledged events) from %s, saved to %s\n",
			rec.TornBytes, rec.TornEvents, rec.TornSegment, rec.SavedTo)
	}
	return embedded{log}, nil
}

func printReport(w io.Writer, r *investigation.AccessReport) {
	fmt.Fprintf(w, "accesses to the record of %s: %d, %d refused\n", r.Patient.Format(), len(r.Accesses), r.Refused)
	for _, o := range r.Organisations {
		fmt.Fprintf(w, "  %s (%s): %d accesses by %d user(s), %d refused\n", o.Name, o.Organisation, o.Accesses, o.Users, o.Refused)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tWHEN (UTC)\tWHO\tORGANISATION\tWHY\tWHAT\tOUTCOME")
	for _, a := range r.Accesses {
		what := string(a.Action) + " " + a.Resource
		if a.Custodian != "" {
			what += " @" + string(a.Custodian)
		}
		why := a.Purpose.String()
		if a.Relationship != shcrkit.RelationshipNone {
			why += ", " + a.Relationship.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s (%s)\t%s\t%s\t%s\t%s\n", a.Seq, a.Time.UTC().Format("2006-01-02 15:04"), a.UserName, a.Role,
			a.Organisation, why, shcrkit.MaskNHSNumbers(what), strings.ToUpper(string(a.Outcome)))
	}
	_ = tw.Flush()
}
