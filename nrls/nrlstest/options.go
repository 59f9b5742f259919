package nrlstest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
)

// ErrInvalidOption is matched by the error of an Option given a bad value.
var ErrInvalidOption = errors.New("nrlstest: invalid option")

// Option configures a Server.
type Option func(*config) error

type config struct {
	validate      func(token string) error
	bases         map[shcrkit.ODSCode]string
	noSeed        bool
	consumerTypes map[shcrkit.ODSCode]map[string]bool
	producerTypes map[shcrkit.ODSCode]map[string]bool
	emptyNotFound bool
	now           func() time.Time
	resolve       func(token string) (TokenIdentity, bool)
}

// WithTokenValidator makes the fake require a bearer token on every
// request and accept only those validate accepts (authtest's Server
// offers such a method). Requests without one, or with one refused, get
// 401 ACCESS_DENIED. Without this option tokens are not checked, as in the
// open sandbox.
func WithTokenValidator(validate func(token string) error) Option {
	return func(c *config) error {
		if validate == nil {
			return fmt.Errorf("%w: nil token validator", ErrInvalidOption)
		}
		c.validate = validate
		return nil
	}
}

// TokenIdentity is the user and organisation an access token was issued
// for; see WithTokenIdentities and Server.BindToken.
type TokenIdentity = fake.TokenIdentity

// WithTokenIdentities makes the fake place each request's bearer token
// with resolve (tokens bound with BindToken first) and refuse, with 403
// "ACCESS DENIED", a request whose token it cannot place or whose
// NHSD-End-User-Organisation-ODS is not that of the token's user: a
// client that sends one organisation's user's token for another fails.
// Binding a token with BindToken turns the check on too.
func WithTokenIdentities(resolve func(token string) (TokenIdentity, bool)) Option {
	return func(c *config) error {
		if resolve == nil {
			return fmt.Errorf("%w: nil token identity resolver", ErrInvalidOption)
		}
		c.resolve = resolve
		return nil
	}
}

// WithPointerURLBase makes the seed pointers of custodian lead to base
// instead of its placeholder (see Custodians): "<base>/records/<ID>", or
// ssp://<host and path of base>/records/<ID> for SSP pointers. Use it to
// point them at fake shared care records; Server.Rebase does the same
// after the server has started.
func WithPointerURLBase(custodian shcrkit.ODSCode, base string) Option {
	return func(c *config) error {
		if err := checkBase(custodian, base); err != nil {
			return err
		}
		c.bases[custodian] = strings.TrimRight(base, "/")
		return nil
	}
}

func checkBase(custodian shcrkit.ODSCode, base string) error {
	if !custodian.Valid() {
		return fmt.Errorf("%w: custodian must be an upper-case ODS code", ErrInvalidOption)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: pointer URL base must be an absolute http(s) URL without query", ErrInvalidOption)
	}
	return nil
}

// WithoutSeed starts the fake with no pointers.
func WithoutSeed() Option {
	return func(c *config) error { c.noSeed = true; return nil }
}

// WithConsumerTypes restricts what the consumer organisation ods may see
// to these record types (SNOMED codes), as the service restricts each
// consumer to the types agreed at onboarding. Searches leave other types
// out; a search asking for one is refused with 400 INVALID_CODE_SYSTEM and
// a read of one with 403 "ACCESS DENIED", as the service does.
// Organisations not named may see every type.
func WithConsumerTypes(ods shcrkit.ODSCode, types ...string) Option {
	return func(c *config) error { return addTypes(c.consumerTypes, ods, types) }
}

// WithProducerTypes restricts which record types the producer organisation
// ods may publish; another type is refused with 403
// AUTHOR_CREDENTIALS_ERROR. Organisations not named may publish every
// type.
func WithProducerTypes(ods shcrkit.ODSCode, types ...string) Option {
	return func(c *config) error { return addTypes(c.producerTypes, ods, types) }
}

func addTypes(dst map[shcrkit.ODSCode]map[string]bool, ods shcrkit.ODSCode, types []string) error {
	if !ods.Valid() {
		return fmt.Errorf("%w: organisation must be an upper-case ODS code", ErrInvalidOption)
	}
	if len(types) == 0 {
		return fmt.Errorf("%w: name at least one record type", ErrInvalidOption)
	}
	set := dst[ods]
	if set == nil {
		set = map[string]bool{}
		dst[ods] = set
	}
	for _, t := range types {
		rt, ok := nrls.Types.Lookup(t)
		if !ok {
			return fmt.Errorf("%w: %q is not a record type", ErrInvalidOption, t)
		}
		set[rt.Token()] = true
	}
	return nil
}

// WithEmptySearchNotFound makes a search that finds nothing answer 404
// NO_RECORD_FOUND, as some deployments of the service have, instead of
// an empty Bundle.
func WithEmptySearchNotFound() Option {
	return func(c *config) error { c.emptyNotFound = true; return nil }
}

// WithClock sets the clock that dates new pointers.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		c.now = now
		return nil
	}
}
