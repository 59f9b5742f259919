package provider

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/rbac"
)

// Defaults of a Guard.
const (
	// defaultMaxTrackedTokens bounds the identity tokens remembered for
	// replay detection.
	defaultMaxTrackedTokens = 1 << 20
	// defaultLeeway allows for clock skew on identity tokens.
	defaultLeeway = 30 * time.Second
	// auditTimeout bounds one audit write, detached from the request.
	auditTimeout = 10 * time.Second
	maxReason    = 1000
)

// Consumer is another region's shared care record that may call this
// provider: how its calls are recognised and checked.
type Consumer struct {
	// Name is a display name for logs and audit reasons.
	Name string
	// ShCR is the consumer's shared care record, as the policy names it
	// among its remote shared care records (or the local one). The
	// requesting organisation in every identity token must belong to it.
	ShCR shcrkit.ODSCode
	// ClientIDs are the OAuth2 client IDs of the consumer's applications:
	// an access token's client picks the Consumer. Required when the
	// Guard verifies access tokens.
	ClientIDs []string
	// Signing is how the consumer signs identity tokens; "" means
	// unsigned, which is accepted only when Key is nil.
	Signing auth.Algorithm
	// Key verifies signed identity tokens (*rsa.PublicKey,
	// *ecdsa.PublicKey).
	Key crypto.PublicKey
	// IdentityReuse is how many times one identity token may be presented
	// within its lifetime: 0 or 1 means once (any repeat is a replay).
	// Set it when the consumer reuses a token within one journey and
	// endpoint (shcr.Endpoint.ReuseIdentity).
	IdentityReuse int
	// RateLimit, when set, replaces Config.RateLimit for the consumer's
	// organisations.
	RateLimit *RateLimit
}

// Config is what a Guard is built from.
type Config struct {
	// Policy decides every request (rbac.Policy.DecideIncoming). Required.
	Policy *rbac.Policy
	// Audit receives an event for every request, refused ones included,
	// before anything is served. Required: auditing cannot be switched
	// off.
	Audit audit.Sink
	// Resolver says what each request asks for. Required.
	Resolver Resolver
	// Audience is this provider's service root: the aud identity tokens
	// must carry. Required.
	Audience string
	// Consumers are the shared care records that may call. At least one.
	Consumers []Consumer
	// AccessTokens verifies the OAuth2 access token in Authorization. Nil
	// means calls carry no access token and the identity token travels in
	// Authorization, as in GP Connect.
	AccessTokens TokenVerifier
	// IdentityHeader is the header of the identity token when
	// Authorization carries an access token; "" means
	// identitytoken.DefaultHeader.
	IdentityHeader string
	// RateLimit bounds the requests of each consumer organisation; the
	// zero value means no limit.
	RateLimit RateLimit
	// Custodian is the organisation recorded as holding the records, and
	// as the requester's organisation when a caller cannot be identified;
	// "" means the policy's local shared care record.
	Custodian shcrkit.ODSCode
	// Alert receives the Privacy Officer alerts a decision obliges. Without
	// it, a request whose decision needs one is refused.
	Alert func(ctx context.Context, a *Access, o rbac.Obligation) error
	// MaxTrackedTokens bounds the identity tokens remembered against
	// replay; 0 means 1,048,576 (2²⁰).
	MaxTrackedTokens int
	// Leeway allows for clock skew on identity tokens; 0 means 30
	// seconds.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives a line per refusal; nil discards. No line carries
	// a token or an NHS number.
	Logger *slog.Logger
}

// Guard is what a shared care record puts in front of its FHIR API to
// serve other regions. It is safe for concurrent use.
type Guard struct {
	cfg      Config
	byClient map[string]*Consumer
	byShCR   map[shcrkit.ODSCode]*Consumer
	header   string
	replay   *replayCache
	// verified holds the identity tokens of consumers that may reuse
	// one, once verified, so that a token presented again is not
	// verified again: only its times and audience are checked anew.
	verified  identitytoken.Verified
	limits    *limiter
	logger    *slog.Logger
	custodian shcrkit.ODSCode
}

// New checks cfg and returns a Guard. Every problem is reported at once,
// each matching ErrInvalidConfig.
func New(cfg Config) (*Guard, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	checkConfig(cfg, bad)
	g := &Guard{cfg: cfg, byClient: make(map[string]*Consumer), byShCR: make(map[shcrkit.ODSCode]*Consumer), header: cfg.IdentityHeader}
	for i := range cfg.Consumers {
		g.addConsumer(cfg, i, bad)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g.applyDefaults()
	return g, nil
}

// complain records one configuration problem.
type complain func(format string, args ...any)

// checkConfig checks the settings of cfg that are not about one consumer.
func checkConfig(cfg Config, bad complain) {
	if cfg.Policy == nil {
		bad("Policy is required")
	}
	if cfg.Audit == nil {
		bad("Audit is required: auditing cannot be switched off")
	} else if err := sinkguard.Check(cfg.Audit); err != nil {
		bad("Audit: %v", err)
	}
	if cfg.Resolver == nil {
		bad("Resolver is required")
	}
	if strings.TrimSpace(cfg.Audience) == "" {
		bad("Audience (the service root) is required")
	}
	if len(cfg.Consumers) == 0 {
		bad("at least one Consumer is required")
	}
	if cfg.IdentityHeader != "" && (strings.ContainsAny(cfg.IdentityHeader, " \r\n:") ||
		textproto.CanonicalMIMEHeaderKey(cfg.IdentityHeader) == "Authorization") {
		bad("identity header %q is not a usable header name", cfg.IdentityHeader)
	}
	if cfg.RateLimit.Rate < 0 || cfg.RateLimit.Burst < 0 {
		bad("negative rate limit")
	}
	if cfg.MaxTrackedTokens < 0 || cfg.Leeway < 0 {
		bad("negative MaxTrackedTokens or Leeway")
	}
}

// addConsumer checks the i-th consumer of cfg and indexes a copy of it by
// shared care record and by client ID.
func (g *Guard) addConsumer(cfg Config, i int, bad complain) {
	c := cfg.Consumers[i]
	c.ClientIDs = slices.Clone(c.ClientIDs)
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("consumer %d", i+1)
		c.Name = name
	}
	if !c.ShCR.Valid() {
		bad("%s: ShCR %q is not a valid ODS code", name, string(c.ShCR))
	} else if cfg.Policy != nil {
		if s, ok := cfg.Policy.ShCROf(c.ShCR); !ok || s != c.ShCR {
			bad("%s: the policy names no shared care record %s", name, c.ShCR)
		}
	}
	if g.byShCR[c.ShCR] != nil {
		bad("%s: ShCR %s is configured twice", name, c.ShCR)
	}
	g.byShCR[c.ShCR] = &c
	if cfg.AccessTokens != nil && len(c.ClientIDs) == 0 {
		bad("%s: ClientIDs are required when access tokens are verified", name)
	}
	for _, id := range c.ClientIDs {
		if g.byClient[id] != nil {
			bad("%s: client ID %q belongs to another consumer", name, id)
		}
		g.byClient[id] = &c
	}
	checkConsumerSigning(&c, name, bad)
	if c.IdentityReuse < 0 {
		bad("%s: negative IdentityReuse", name)
	}
	if l := c.RateLimit; l != nil && (l.Rate < 0 || l.Burst < 0) {
		bad("%s: negative rate limit", name)
	}
}

// checkConsumerSigning checks that the consumer's signing method is known
// and that it has a key exactly when the method needs one.
func checkConsumerSigning(c *Consumer, name string, bad complain) {
	switch c.Signing {
	case "", jws.None:
		if c.Key != nil {
			bad("%s: a key is given for unsigned identity tokens", name)
		}
	case auth.RS256, auth.RS512, auth.ES256:
		if c.Key == nil {
			bad("%s: %s identity tokens need a key", name, c.Signing)
		}
	default:
		bad("%s: unknown signing method %q", name, string(c.Signing))
	}
}

// applyDefaults fills in the defaults of a checked configuration and
// builds the guard's caches.
func (g *Guard) applyDefaults() {
	cfg := g.cfg
	if g.header == "" {
		g.header = identitytoken.DefaultHeader
	}
	if g.cfg.MaxTrackedTokens == 0 {
		g.cfg.MaxTrackedTokens = defaultMaxTrackedTokens
	}
	if g.cfg.Leeway == 0 {
		g.cfg.Leeway = defaultLeeway
	}
	if g.cfg.Now == nil {
		g.cfg.Now = time.Now
	}
	g.logger = cfg.Logger
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	g.custodian = cfg.Custodian
	if g.custodian == "" {
		g.custodian = cfg.Policy.Local()
	}
	g.replay = newReplayCache(g.cfg.MaxTrackedTokens)
	g.limits = newLimiter()
}

// Wrap returns a handler that lets through to next only the requests it
// has verified, decided, allowed and recorded, with their Access in the
// context (AccessFrom). In order, it:
//
//  1. verifies the access token (when the Guard is configured with a
//     TokenVerifier) and finds the consumer by its client;
//  2. verifies the identity token: signature with the consumer's key (or
//     its absence, for a consumer that sends unsigned tokens), aud, iat,
//     exp and the GP Connect claims;
//  3. identifies the requesting organisation and checks that it belongs
//     to the consumer's shared care record (and matches
//     NHSD-End-User-Organisation-ODS when sent);
//  4. applies the consumer organisation's rate limit;
//  5. resolves what is asked for, refuses anything but a read or a
//     search, and decides it with the policy;
//  6. refuses the identity token if it was presented before within its
//     lifetime (more often than the consumer's IdentityReuse allows);
//     only an access served uses it up, so a consumer's retry after a
//     429 or a 503 may present it again;
//  7. honours alert obligations and writes the audit event, with the
//     consumer's X-Request-ID and X-Correlation-ID.
//
// A request refused at any step is answered with an OperationOutcome
// (401, 403, 404, 400, 429 with Retry-After, or 503) and recorded in the
// same detail. If the audit sink does not take the event, nothing is
// served: the answer is 503, as it is when a plug-in the checks call
// (a TokenVerifier, the Resolver, the Alert hook) panics, which is
// recorded as a failure. Every answer echoes X-Request-ID and
// X-Correlation-ID and is marked Cache-Control: no-store.
//
// A Guard not made by New (nil, or its zero value), or a nil next,
// serves nothing: every request is answered 503.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	if g == nil || g.replay == nil || next == nil {
		problem := "the provider.Guard was not made by provider.New"
		if g != nil && g.replay != nil {
			problem = "the provider.Guard wraps no handler"
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			WriteOutcome(w, http.StatusServiceUnavailable, CodeUnavailable, problem)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serve(w, r, next)
	})
}

// call is one request in progress through the Guard.
type call struct {
	g      *Guard
	r      *http.Request
	access *Access
	event  audit.Event
	token  tokenUse
}

// tokenUse is the identity token's entry in the replay cache: its key,
// until when it is remembered, how many presentations it allows, and
// whether this request counted one.
type tokenUse struct {
	key    string
	expiry time.Time
	uses   int
	used   bool
}

// giveBackToken undoes the request's use of its identity token when
// nothing was served after all, so that the consumer may try again with
// it.
func (c *call) giveBackToken() {
	if c.token.used {
		c.g.replay.giveBack(c.token.key)
		c.token.used = false
	}
}

func (g *Guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	now := g.cfg.Now()
	a := &Access{RequestID: r.Header.Get("X-Request-ID"), CorrelationID: r.Header.Get("X-Correlation-ID")}
	if !usableID(a.RequestID) {
		a.RequestID = uuid.NewString()
	}
	if !usableID(a.CorrelationID) {
		a.CorrelationID = ""
	}
	h := w.Header()
	h.Set("X-Request-ID", a.RequestID)
	if a.CorrelationID != "" {
		h.Set("X-Correlation-ID", a.CorrelationID)
	}
	h.Set("Cache-Control", "no-store")
	c := &call{g: g, r: r, access: a}
	c.event = audit.Event{
		Time:          now,
		Requester:     shcrkit.Requester{System: shcrkit.System{Name: "unidentified client"}, Organisation: g.custodian},
		Action:        audit.ActionDisclose,
		Service:       audit.ServiceShCR,
		Endpoint:      g.cfg.Audience,
		Outcome:       audit.OutcomeSuccess,
		RequestID:     a.RequestID,
		CorrelationID: a.CorrelationID,
		Custodian:     g.custodian,
	}
	if ref := c.checkSafely(now); ref != nil {
		c.giveBackToken()
		g.refuse(w, c, ref)
		return
	}
	c.event.Reason = textclip.Cut("incoming request: allowed: "+a.Decision.Reason()+obligationText(a.Decision), maxReason)
	if err := g.write(r.Context(), c.event); err != nil {
		c.giveBackToken()
		g.logger.Warn("incoming request withheld: audit record not written", "request_id", a.RequestID, "error", err)
		WriteOutcome(w, http.StatusServiceUnavailable, CodeUnavailable, "the access could not be recorded, so nothing is served")
		return
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessKey{}, a)))
}

// checkSafely is check, with a panic of a plug-in it calls (a
// TokenVerifier, the Resolver, the Alert hook) turned into a refusal, so
// that the request is still answered and recorded, and nothing served.
func (c *call) checkSafely(now time.Time) (ref *refusal) {
	defer func() {
		if p := recover(); p != nil {
			c.g.logger.Error("incoming request: a check panicked", "request_id", c.access.RequestID,
				"panic", textclip.Cut(shcrkit.Redact(fmt.Sprint(p)), maxReason))
			ref = &refusal{status: http.StatusServiceUnavailable, code: CodeUnavailable, diagnostics: "the request could not be checked"}
		}
	}()
	return c.check(now)
}

// check runs every step before the handler, filling in the access and
// its audit event; a non-nil refusal ends the request.
func (c *call) check(now time.Time) *refusal {
	consumer, identity, no := c.identifyConsumer()
	if no != nil {
		return no
	}
	if no := c.verifyIdentity(consumer, identity, now); no != nil {
		return no
	}
	if no := c.checkOrganisation(consumer, now); no != nil {
		return no
	}
	if no := c.resolveTarget(); no != nil {
		return no
	}
	if no := c.decide(now); no != nil {
		return no
	}
	if no := c.useToken(now); no != nil {
		return no
	}
	return c.meetObligations(now)
}

// identifyConsumer checks the access token, if access tokens are verified,
// and finds the consumer and the identity token. Without an access token,
// the consumer is the shared care record of the organisation the identity
// token names.
func (c *call) identifyConsumer() (*Consumer, string, *refusal) {
	g, r, a := c.g, c.r, c.access
	var consumer *Consumer
	identity := bearer(r)
	if g.cfg.AccessTokens != nil {
		tok := identity
		identity = r.Header.Get(g.header)
		if tok == "" {
			return nil, "", &refusal{status: http.StatusUnauthorized, code: CodeAccessDenied, diagnostics: "no access token"}
		}
		at, err := g.cfg.AccessTokens.VerifyAccessToken(r.Context(), tok)
		switch {
		case errors.Is(err, ErrAccessToken):
			// Any TokenVerifier will do, so its text is not trusted to
			// leave the token out: it goes to the consumer and the trail.
			return nil, "", &refusal{status: http.StatusUnauthorized, code: CodeAccessDenied, diagnostics: withoutToken(err.Error(), tok)}
		case err != nil:
			return nil, "", &refusal{status: http.StatusServiceUnavailable, code: CodeUnavailable, diagnostics: "the access token could not be checked"}
		}
		a.Client = at
		consumer = g.byClient[at.ClientID]
		if consumer == nil {
			return nil, "", &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "the client is not registered as a consumer of this provider"}
		}
	}
	if identity == "" {
		return nil, "", &refusal{status: http.StatusUnauthorized, code: CodeAccessDenied, diagnostics: "no identity token"}
	}
	if consumer == nil {
		consumer = g.consumerOf(identity)
		if consumer == nil {
			return nil, "", &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "the requesting organisation belongs to no consumer of this provider"}
		}
	}
	a.Consumer, a.ShCR = consumer.Name, consumer.ShCR
	return consumer, identity, nil
}

// verifyIdentity verifies the identity token with the consumer's key,
// takes the requester and purpose from it, and refuses a replayed token.
func (c *call) verifyIdentity(consumer *Consumer, identity string, now time.Time) *refusal {
	g, a := c.g, c.access
	check := identitytoken.Check{Audience: g.cfg.Audience, Signing: consumer.Signing, Key: consumer.Key, Now: g.cfg.Now, Leeway: g.cfg.Leeway}
	if consumer.IdentityReuse > 1 {
		check.Verified = &g.verified
	}
	claims, err := check.Verify(identity)
	if err != nil {
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	a.IdentityTokenID, a.IdentityExpires = claims.ID, time.Unix(claims.ExpiresAt, 0)
	a.Requester = claims.Requester()
	c.event.Requester = a.Requester
	c.event.UserFamily = claims.Family()
	if a.Purpose, err = claims.Purpose(); err != nil {
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "purpose_of_use is not TREAT, ETREAT or BTG"}
	}
	c.event.Purpose = a.Purpose
	a.Restricted = claims.Restricted()
	key := "jti:" + claims.ID
	if claims.ID == "" {
		// Without a jti the token is known by what its signature covers,
		// header and payload: the signature's own text is not fixed
		// (base64url's spare low bits, ECDSA's (r, n−s)), so a replay
		// could otherwise come back as another string that still verifies.
		signed := identity
		if i := strings.LastIndexByte(identity, '.'); i >= 0 {
			signed = identity[:i]
		}
		sum := sha256.Sum256([]byte(signed))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	c.token = tokenUse{key: string(consumer.ShCR) + "\x00" + key, expiry: time.Unix(claims.ExpiresAt, 0).Add(g.cfg.Leeway), uses: max(consumer.IdentityReuse, 1)}
	return nil
}

// useToken counts this presentation of the identity token, once the
// access is allowed, and refuses a replay. A token is used up only by
// an access served: one refused first (a rate limit, the policy, a
// record not served) may be presented again, as a consumer's retry
// after a 429 or 503 presents it.
func (c *call) useToken(now time.Time) *refusal {
	switch c.g.replay.use(c.token.key, c.token.expiry, now, c.token.uses) {
	case replayRefused:
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "the identity token has been presented before (replay)"}
	case replayFull:
		return &refusal{status: http.StatusServiceUnavailable, code: CodeUnavailable, diagnostics: "too many identity tokens in flight to check for replay"}
	}
	c.token.used = true
	return nil
}

// checkOrganisation checks that the requesting organisation belongs to the
// consumer's shared care record and is within its rate limit.
func (c *call) checkOrganisation(consumer *Consumer, now time.Time) *refusal {
	g, r, a := c.g, c.r, c.access
	org := a.Requester.Organisation
	if s, ok := g.cfg.Policy.ShCROf(org); !ok || s != consumer.ShCR {
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied,
			diagnostics: "organisation " + string(org) + " does not belong to the shared care record " + string(consumer.ShCR)}
	}
	if h := r.Header.Get("NHSD-End-User-Organisation-ODS"); h != "" && h != string(org) {
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "NHSD-End-User-Organisation-ODS differs from requesting_organization"}
	}
	limit := g.cfg.RateLimit
	if consumer.RateLimit != nil {
		limit = *consumer.RateLimit
	}
	if ok, wait := g.limits.take(org, limit, now); !ok {
		return &refusal{status: http.StatusTooManyRequests, code: CodeTooManyRequests,
			diagnostics: "organisation " + string(org) + " is over its rate limit", retryAfter: wait}
	}
	return nil
}

// resolveTarget finds what is asked for and puts it into the access and
// the audit event.
func (c *call) resolveTarget() *refusal {
	t, err := c.g.cfg.Resolver.Resolve(c.r)
	if t.Action == "" {
		t.Action = audit.ActionRead
	}
	c.access.Target = t
	c.target(t)
	switch {
	case errors.Is(err, ErrNotServed):
		return &refusal{status: http.StatusNotFound, code: CodeNoRecordFound, diagnostics: shcrkit.MaskNHSNumbers(err.Error())}
	case errors.Is(err, ErrBadRequest):
		return &refusal{status: http.StatusBadRequest, code: CodeBadRequest, diagnostics: shcrkit.MaskNHSNumbers(err.Error())}
	case err != nil:
		return &refusal{status: http.StatusServiceUnavailable, code: CodeUnavailable, diagnostics: "the record could not be looked up"}
	}
	return c.readOnly(t)
}

// readOnly refuses a request that is not a read or a search: an identity
// token asks for patient/*.read, whatever the method, and a write must
// not reach the handler recorded as a disclosure. A search may come as
// POST (FHIR's _search).
func (c *call) readOnly(t Target) *refusal {
	m := c.r.Method
	switch {
	case t.Action != audit.ActionRead && t.Action != audit.ActionSearch:
	case m == http.MethodGet || m == http.MethodHead:
		return nil
	case m == http.MethodPost && t.Action == audit.ActionSearch:
		return nil
	}
	switch {
	case t.Action != audit.ActionRead && t.Action != audit.ActionSearch:
		c.event.Action = t.Action
	case m == http.MethodPost:
		c.event.Action = audit.ActionCreate
	case m == http.MethodPut || m == http.MethodPatch:
		c.event.Action = audit.ActionUpdate
	case m == http.MethodDelete:
		c.event.Action = audit.ActionDelete
	}
	return &refusal{status: http.StatusForbidden, code: CodeAccessDenied,
		diagnostics: "only reads and searches are served: requested_scope is patient/*.read"}
}

// decide asks the policy about the request and meets the obligations of an
// allowing decision.
func (c *call) decide(now time.Time) *refusal {
	g, a := c.g, c.access
	t := a.Target
	a.Decision = g.cfg.Policy.DecideIncoming(rbac.Incoming{
		Requester:             a.Requester,
		Patient:               rbac.Subject{NHSNumber: t.Patient, Confidentiality: t.PatientConfidentiality, Dissent: t.Dissent},
		Purpose:               a.Purpose,
		RecordType:            t.RecordType,
		Category:              t.Category,
		RecordConfidentiality: t.Confidentiality,
		Restricted:            a.Restricted,
		Time:                  now,
	})
	c.event.Rule = textclip.Cut(a.Decision.Rule, maxReason)
	if !a.Decision.Allowed {
		return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "refused: " + a.Decision.Reason()}
	}
	return nil
}

// meetObligations applies the time box and sends the Privacy Officer alert
// that the decision asks for.
func (c *call) meetObligations(now time.Time) *refusal {
	g, r, a := c.g, c.r, c.access
	for _, o := range a.Decision.Obligations {
		switch o.Kind {
		case rbac.ObligationTimeBox:
			if u := now.Add(o.Duration); a.ValidUntil.IsZero() || u.Before(a.ValidUntil) {
				a.ValidUntil = u
			}
		case rbac.ObligationAlertPrivacyOfficer:
			if g.cfg.Alert == nil {
				return &refusal{status: http.StatusForbidden, code: CodeAccessDenied, diagnostics: "withheld: the decision needs a Privacy Officer alert and none can be sent"}
			}
			if err := g.cfg.Alert(r.Context(), a, o); err != nil {
				return &refusal{status: http.StatusServiceUnavailable, code: CodeUnavailable, diagnostics: "withheld: the Privacy Officer alert was not delivered"}
			}
		}
	}
	return nil
}

// target puts what is asked for into the audit event.
func (c *call) target(t Target) {
	e := &c.event
	e.Patient = t.Patient
	if !t.Patient.Valid() {
		e.Patient = ""
	}
	e.PatientFamily = t.PatientFamily
	e.Resource = t.Resource
	e.Query = t.Query
	if e.Patient == "" {
		e.Query = strings.ReplaceAll(e.Query, audit.QueryPatientPlaceholder, "")
	}
	if t.Action == audit.ActionSearch {
		e.Action = audit.ActionSearch
	}
}

// refuse records a refusal and answers it. The answer goes out even when
// the record cannot be written: nothing is served either way.
func (g *Guard) refuse(w http.ResponseWriter, c *call, ref *refusal) {
	e := c.event
	e.Outcome = audit.OutcomeRefused
	if ref.status >= 500 {
		e.Outcome = audit.OutcomeFailed
	}
	e.ErrorCode = ref.code
	e.Reason = textclip.Cut("incoming request: "+shcrkit.MaskNHSNumbers(ref.diagnostics), maxReason)
	if err := g.write(c.r.Context(), e); err != nil {
		g.logger.Warn("refusal not recorded", "request_id", c.access.RequestID, "error", err)
	}
	g.logger.Info("incoming request refused", "request_id", c.access.RequestID, "status", ref.status, "code", ref.code)
	if ref.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((ref.retryAfter+time.Second-1)/time.Second)))
	}
	WriteOutcome(w, ref.status, ref.code, ref.diagnostics)
}

// write hands e to the sink, detached from the request's cancellation: a
// consumer that hangs up still leaves its record.
func (g *Guard) write(ctx context.Context, e audit.Event) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	// A sink that blocks and ignores its context fails the write at the
	// timeout: nothing is served, and the request is answered.
	return sinkguard.WriteWithin(wctx, g.cfg.Audit, e)
}

// consumerOf finds the consumer of an identity token that came without
// an access token, from the organisation it names, before verification.
func (g *Guard) consumerOf(token string) *Consumer {
	var claims identitytoken.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		return nil
	}
	org := shcrkit.ODSCode(claims.RequestingOrganization.IdentifierValue(codesystem.ODS))
	s, ok := g.cfg.Policy.ShCROf(org)
	if !ok {
		return nil
	}
	return g.byShCR[s]
}

// withoutToken returns a verifier's refusal text fit to answer and
// record: the token it was given, and anything else shaped like a
// credential or an NHS number, redacted.
func withoutToken(text, token string) string {
	return shcrkit.Redact(fhirhttp.WithoutSecrets(text, []string{token}))
}

func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// usableID accepts a request or correlation ID fit to echo and record:
// short, printable, no spaces.
func usableID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func obligationText(d rbac.Decision) string {
	if len(d.Obligations) == 0 {
		return ""
	}
	obs := make([]string, len(d.Obligations))
	for i, o := range d.Obligations {
		obs[i] = o.String()
	}
	return "; obligations: " + strings.Join(obs, ", ")
}
