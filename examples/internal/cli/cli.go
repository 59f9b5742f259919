// Package cli holds the command-line conventions the example programs
// share: -h and -help print a usage listing every flag and exit 0; every
// flag can also be set from the environment, as EnvPrefix followed by the
// flag's name upper-cased with dashes as underscores (-audit-dir is
// SHCRKIT_AUDIT_DIR), a flag on the command line winning over the
// environment; and a missing required flag is reported as required.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shcrkit/shcrkit"
)

// EnvPrefix is the prefix of the environment variables that set flags.
const EnvPrefix = "SHCRKIT_"

// ErrRequired is matched by the error of a missing required flag.
var ErrRequired = errors.New("required")

// RunFunc is a command: it parses args and writes to stdout and stderr.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs a command as a program: its context ends on an interrupt or
// SIGTERM, and after timeout if that is positive. A request for help
// (flag.ErrHelp) exits 0; any other error is printed on standard error
// after the command's name and exits 1.
func Main(name string, timeout time.Duration, run RunFunc) {
	os.Exit(Exit(name, timeout, run, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit runs a command as Main does and returns the exit code instead of
// exiting.
func Exit(name string, timeout time.Duration, run RunFunc, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err := run(ctx, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

// NewFlagSet returns a flag set that reports errors rather than exiting,
// writes to stderr, and whose usage shows synopsis lines (each after
// "usage: "; the command's name with [flags] when there are none), every
// flag with its environment variable, and how the environment is read.
func NewFlagSet(name string, stderr io.Writer, synopsis ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if len(synopsis) == 0 {
		synopsis = []string{name + " [flags]"}
	}
	fs.Usage = func() {
		w := fs.Output()
		for i, s := range synopsis {
			if i == 0 {
				fmt.Fprintf(w, "usage: %s\n", s)
			} else {
				fmt.Fprintf(w, "       %s\n", s)
			}
		}
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nEvery flag can also be set in the environment as %s and its name upper-cased,\n"+
			"dashes as underscores (e.g. %s); a flag on the command line wins.\n", EnvPrefix, EnvName("audit-dir"))
	}
	return fs
}

// EnvName is the environment variable that sets the flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args into fs, then sets each flag not given on the command
// line from its environment variable (EnvName), if that is set. It
// returns flag.ErrHelp after printing the usage for -h or -help, and an
// error naming the variable for a value the flag refuses.
func Parse(fs *flag.FlagSet, args []string) error {
	return ParseEnv(fs, args, os.LookupEnv)
}

// ParseEnv is Parse with the environment read through lookup.
func ParseEnv(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		env := EnvName(f.Name)
		v, ok := lookup(env)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("$%s: invalid value %q for -%s: %w", env, v, f.Name, serr)
		}
	})
	return err
}

// Required returns an error matching ErrRequired if any of the named
// flags of fs is empty, naming the first such flag.
func Required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil || f.Value.String() == "" {
			return Missing(n, "")
		}
	}
	return nil
}

// Missing is the error of a required flag left out; why, if not empty,
// says when it is required ("with -patient").
func Missing(name, why string) error {
	if why != "" {
		return fmt.Errorf("-%s is %w %s", name, ErrRequired, why)
	}
	return fmt.Errorf("-%s is %w (or $%s)", name, ErrRequired, EnvName(name))
}

// NoArgs returns an error if fs has positional arguments left.
func NoArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		// An NHS number typed without its flag is masked, as in every error.
		return fmt.Errorf("unexpected argument %q", shcrkit.MaskNHSNumbers(fs.Arg(0)))
	}
	return nil
}

// IsLoopbackHost reports whether h, a host name without its port, names
// this machine only: localhost or a loopback IP address.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
