package nrlstest

import (
	"fmt"
	"net/url"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
)

// Option configures a Server. Every fake (pdstest, nrlstest, shcrtest,
// authtest) takes options of this shape, and the same WithClock,
// WithTokenValidator and WithTokenIdentities where they apply.
type Option func(*config) error

type config struct {
	fake.Settings
	noSeed        bool
	consumerTypes map[shcrkit.ODSCode]map[string]bool
	producerTypes map[shcrkit.ODSCode]map[string]bool
	emptyNotFound bool
}

// Base returns the settings every fake shares.
func (c *config) Base() *fake.Settings { return &c.Settings }

// WithTokenValidator makes the fake require a bearer token on every
// request and accept only those validate accepts (authtest's Server
// offers such a method). Requests without one, or with one refused, get
// 401 ACCESS_DENIED. Without this option tokens are not checked, as in the
// open sandbox.
func WithTokenValidator(validate func(token string) error) Option {
	return Option(fake.WithTokenValidator[config](validate))
}

// WithTokenIdentities makes the fake place each request's bearer token
// in a session (the user and organisation it was issued for) with
// resolve (tokens bound with BindToken first) and refuse, with 403
// "ACCESS DENIED", a request whose token it cannot place or whose
// NHSD-End-User-Organisation-ODS is not that of the token's user: a
// client that sends one organisation's user's token for another fails.
// Binding a token with BindToken, or setting a resolver on a running
// server with SetTokenIdentities, turns the check on too.
func WithTokenIdentities(resolve func(token string) (shcrkit.Session, bool)) Option {
	return Option(fake.WithTokenIdentities[config](resolve))
}

func checkBase(custodian shcrkit.ODSCode, base string) error {
	if !custodian.Valid() {
		return fmt.Errorf("%w: custodian must be an upper-case ODS code", shcrkit.ErrInvalidOption)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: pointer URL base must be an absolute http(s) URL without query", shcrkit.ErrInvalidOption)
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
		return fmt.Errorf("%w: organisation must be an upper-case ODS code", shcrkit.ErrInvalidOption)
	}
	if len(types) == 0 {
		return fmt.Errorf("%w: name at least one record type", shcrkit.ErrInvalidOption)
	}
	set := dst[ods]
	if set == nil {
		set = map[string]bool{}
		dst[ods] = set
	}
	for _, t := range types {
		rt, ok := nrls.LookupType(t)
		if !ok {
			return fmt.Errorf("%w: %q is not a record type", shcrkit.ErrInvalidOption, t)
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

// WithClock sets the clock that dates new pointers and the request log.
func WithClock(now func() time.Time) Option { return Option(fake.WithClock[config](now)) }
