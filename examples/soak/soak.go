package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// config is what a soak run does.
type config struct {
	Duration time.Duration `json:"duration"`
	Rate     float64       `json:"rate"`
	Workers  int           `json:"workers"`
	Users    int           `json:"users"`
	Interval time.Duration `json:"interval"`
	Latency  time.Duration `json:"latency"`
	Faults   bool          `json:"faults"`
	AuditDir string        `json:"-"`
}

func defaultConfig() config {
	return config{Duration: time.Minute, Rate: 20, Workers: 32, Users: 200, Interval: 10 * time.Second, Latency: 5 * time.Millisecond, Faults: true}
}

// report is what a run found.
type report struct {
	Config     config           `json:"config"`
	Cores      int              `json:"cores"`
	Intervals  []interval       `json:"intervals"`
	Total      interval         `json:"total"`
	Faults     []faultWindow    `json:"faults"`
	Invariants []invariantCheck `json:"invariants"`
	// JourneysPerSecondPerCore and AuditEventsPerSecond size a
	// deployment: instances = national journeys/s ÷ (this × cores).
	JourneysPerSecondPerCore float64   `json:"journeysPerSecondPerCore"`
	AuditEventsPerSecond     float64   `json:"auditEventsPerSecond"`
	AuditEvents              uint64    `json:"auditEvents"`
	Start, End               resources `json:"-"`
	StartResources           resources `json:"startResources"`
	EndResources             resources `json:"endResources"`
}

// interval is one line of the report.
type interval struct {
	FromS             float64        `json:"fromS"`
	ToS               float64        `json:"toS"`
	Started           int            `json:"started"`
	Completed         int            `json:"completed"`
	Skipped           int            `json:"skipped"`
	P50               float64        `json:"p50ms"`
	P95               float64        `json:"p95ms"`
	P99               float64        `json:"p99ms"`
	Max               float64        `json:"maxMs"`
	Outcomes          map[string]int `json:"outcomes"`
	CustodianFailures map[string]int `json:"custodianFailures"`
	Records           int            `json:"records"`
	Retries           int            `json:"retries"`
	Tokens            int            `json:"tokens"`
	Faults            []string       `json:"faults"`
	resources
	latencies []time.Duration
}

// resources are what the process holds.
type resources struct {
	Goroutines int     `json:"goroutines"`
	HeapMB     float64 `json:"heapInUseMB"`
	OpenFiles  int     `json:"openFiles"`
	Sockets    int     `json:"sockets"`
}

type faultWindow struct {
	Kind   string  `json:"kind"`
	StartS float64 `json:"startS"`
	EndS   float64 `json:"endS"`
	// recovered is set once the recovery after the fault was looked at.
	recovered bool
}

type invariantCheck struct {
	Name   string `json:"name"`
	Held   bool   `json:"held"`
	Checks int    `json:"checks"`
	Detail string `json:"detail,omitempty"`
}

// app is the application under test: its audit log and journey client,
// which a restart replaces.
type app struct {
	mu     sync.RWMutex // journeys hold it shared; a restart exclusively
	log    *audit.Log
	client *shcr.Client
	dir    string
}

// flakySink lets the schedule slow the audit store down and make it fail.
type flakySink struct {
	mu   sync.RWMutex
	next audit.Sink
	slow atomic.Int64 // nanoseconds added to every write
	fail atomic.Bool
}

func (s *flakySink) Write(ctx context.Context, e audit.Event) error {
	if d := time.Duration(s.slow.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if s.fail.Load() {
		return errors.New("soak: audit store failing (injected)")
	}
	s.mu.RLock()
	next := s.next
	s.mu.RUnlock()
	return next.Write(ctx, e)
}

// acks remembers every event the audit store acknowledged: the request IDs
// of retrievals, to check each record handed back, and a key of every
// event, to check at the end that the log holds them all.
type acks struct {
	mu       sync.Mutex
	next     audit.Sink
	requests map[string]bool
	keys     map[uint64]int
	count    uint64
}

func (a *acks) Write(ctx context.Context, e audit.Event) error {
	if err := a.next.Write(ctx, e); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Service == audit.ServiceShCR && e.Outcome == audit.OutcomeSuccess && e.RequestID != "" {
		a.requests[e.RequestID] = true
	}
	a.keys[eventKey(e)]++
	a.count++
	return nil
}

// audited reports whether the retrieval with this request ID was
// acknowledged, forgetting it (each record is checked once).
func (a *acks) audited(requestID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	ok := a.requests[requestID]
	delete(a.requests, requestID)
	return ok
}

func eventKey(e audit.Event) uint64 {
	h := fnv.New64a()
	for _, s := range []string{e.CorrelationID, e.RequestID, e.Resource, string(e.Action), string(e.Service), string(e.Outcome), e.Reason, string(e.Patient)} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// harness runs one soak.
type harness struct {
	cfg    config
	out    io.Writer
	world  *shcrtest.World
	app    *app
	sink   *flakySink
	acks   *acks
	start  time.Time
	cancel context.CancelCauseFunc

	users    []shcrkit.Requester
	patients []shcrkit.NHSNumber

	mu       sync.Mutex
	current  *interval
	total    interval
	faults   []faultWindow
	active   map[string]bool
	journeys []journeyTime // start offset and latency, for the recovery check

	invMu      sync.Mutex
	invariants map[string]*invariantCheck
}

type journeyTime struct {
	at, took time.Duration
}

func newInterval(from time.Duration) *interval {
	return &interval{FromS: from.Seconds(), Outcomes: map[string]int{}, CustodianFailures: map[string]int{}}
}

// soak runs the whole thing and returns its report; the error says which
// invariant broke.
func soak(parent context.Context, cfg config, out io.Writer) (*report, error) {
	h := &harness{cfg: cfg, out: out, active: map[string]bool{}, invariants: map[string]*invariantCheck{}}
	for _, name := range []string{invNoDataWithoutAudit, invNoGrowth, invLatencyRecovers, invLogVerifies, invNoAckLost} {
		h.invariants[name] = &invariantCheck{Name: name, Held: true}
	}
	var err error
	if cfg.Latency < 0 {
		return nil, fmt.Errorf("negative latency %s", cfg.Latency)
	}
	if h.world, err = shcrtest.NewWorld(); err != nil {
		return nil, err
	}
	defer h.world.Close()
	h.world.SetLatency(cfg.Latency)
	dir := cfg.AuditDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shcrkit-soak-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	// The fault schedule can make the audit store slow or failing, and
	// every event it acknowledges is remembered, to check none is lost.
	h.app = &app{dir: dir}
	h.sink = &flakySink{}
	h.acks = &acks{next: h.sink, requests: map[string]bool{}, keys: map[uint64]int{}}
	if err := h.open(); err != nil {
		return nil, err
	}
	defer func() {
		if h.app.log != nil {
			h.app.log.Close()
		}
	}()
	h.users = professionals(h.world.Requester, cfg.Users)
	h.patients = synthetic.Numbers()

	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	h.cancel = cancel
	h.start = time.Now()
	h.current = newInterval(0)
	h.total = *newInterval(0)
	rep := &report{Config: cfg, Cores: runtime.NumCPU(), Start: sample()}
	h.printHeader()
	baseline := h.load(ctx, rep)
	return h.verdict(parent, ctx, rep, baseline)
}

// professionals are n copies of the world's requester, each a user of
// their own.
func professionals(r shcrkit.Requester, n int) []shcrkit.Requester {
	var users []shcrkit.Requester
	for i := range n {
		r.UserID = fmt.Sprintf("5550%08d", i+1)
		r.Name = fmt.Sprintf("Dr Soak %d", i+1)
		users = append(users, r)
	}
	return users
}

// printHeader prints what the run does and the heading of the interval
// lines.
func (h *harness) printHeader() {
	cfg := h.cfg
	fmt.Fprintf(h.out, "soak: %s at %.0f journeys/s, %d in flight at most, %d professionals, %d patients, faults %v\n",
		cfg.Duration, cfg.Rate, cfg.Workers, cfg.Users, len(h.patients), cfg.Faults)
	fmt.Fprintf(h.out, "%6s %6s %6s %5s %8s %8s %8s %8s %7s %6s %5s %5s %7s %6s  %s\n",
		"t(s)", "start", "done", "skip", "p50ms", "p95ms", "p99ms", "maxms", "records", "retry", "tok", "gor", "heapMB", "files", "faults / outcomes")
}

// load runs journeys for the configured duration, with faults injected
// if asked for, and an interval line every cfg.Interval. It returns when
// every journey has finished, with the first interval: the baseline the
// others are compared to (nil if none closed).
func (h *harness) load(ctx context.Context, rep *report) *interval {
	runCtx, stopLoad := context.WithTimeout(ctx, h.cfg.Duration)
	defer stopLoad()
	var wg sync.WaitGroup
	jobs := make(chan struct{}, h.cfg.Workers)
	for range h.cfg.Workers {
		wg.Go(func() {
			for range jobs {
				h.journey(ctx)
			}
		})
	}
	var schedWG sync.WaitGroup
	if h.cfg.Faults {
		schedWG.Go(func() { h.schedule(runCtx) })
	}
	baseline := make(chan *interval, 1)
	go func() { baseline <- h.reportIntervals(runCtx, rep) }()

	h.startJourneys(runCtx, jobs)
	close(jobs)
	wg.Wait()
	schedWG.Wait()
	return <-baseline
}

// reportIntervals closes an interval every cfg.Interval until runCtx is
// done, adds it to rep and checks it against the first. It returns the
// first.
func (h *harness) reportIntervals(runCtx context.Context, rep *report) *interval {
	var baseline *interval
	tick := time.NewTicker(h.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-runCtx.Done():
			return baseline
		case <-tick.C:
			iv := h.closeInterval()
			rep.Intervals = append(rep.Intervals, iv)
			if baseline == nil {
				baseline = &rep.Intervals[0]
			}
			h.checkGrowth(baseline, rep.Intervals)
			h.checkRecovery(baseline)
		}
	}
}

// startJourneys starts journeys at the rate asked for until runCtx is
// done; when every professional is busy the start is skipped and counted
// (the load generator's limit, not the SDK's).
func (h *harness) startJourneys(runCtx context.Context, jobs chan<- struct{}) {
	every := time.Duration(float64(time.Second) / h.cfg.Rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-runCtx.Done():
			return
		case <-tick.C:
			select {
			case jobs <- struct{}{}:
			default:
				h.mu.Lock()
				h.current.Skipped++
				h.total.Skipped++
				h.mu.Unlock()
			}
		}
	}
}

// verdict closes the last interval, runs the final checks and returns
// the report with the first invariant that broke, if any. ctx is the
// run's context: its cause says whether an invariant stopped the run
// early.
func (h *harness) verdict(parent, ctx context.Context, rep *report, baseline *interval) (*report, error) {
	h.clearFaults()
	if iv := h.closeInterval(); iv.Started+iv.Completed > 0 {
		rep.Intervals = append(rep.Intervals, iv)
	}
	elapsed := time.Since(h.start)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		h.finish(rep, elapsed)
		return rep, cause
	}
	if err := parent.Err(); err != nil {
		return rep, err
	}
	h.finalChecks(rep, baseline)
	h.finish(rep, elapsed)
	for _, inv := range rep.Invariants {
		if !inv.Held {
			return rep, fmt.Errorf("invariant broken: %s: %s", inv.Name, inv.Detail)
		}
	}
	return rep, nil
}

// open opens the audit log and builds the journey client over it.
func (h *harness) open() error {
	log, err := audit.OpenLog(h.app.dir, audit.WithOrigin("soak.shcrkit.example"))
	if err != nil {
		return err
	}
	h.sink.mu.Lock()
	h.sink.next = log
	h.sink.mu.Unlock()
	client, err := h.world.Client(h.acks, func(c *shcr.Config) { c.Timeout = 5 * time.Second })
	if err != nil {
		log.Close()
		return err
	}
	h.app.log, h.app.client = log, client
	return nil
}

// restart stops the application as a deploy would: journeys in flight
// finish, the audit log is closed and opened again, and a new client is
// built.
func (h *harness) restart() error {
	h.app.mu.Lock()
	defer h.app.mu.Unlock()
	if err := h.app.log.Close(); err != nil {
		return err
	}
	h.app.log = nil
	return h.open()
}

// journey runs one professional's journey for one patient and checks
// that every record handed back was audited.
func (h *harness) journey(ctx context.Context) {
	n := rand64()
	user := h.users[n%uint64(len(h.users))]
	pi := int((n >> 20) % uint64(len(h.patients)))
	nhs := h.patients[pi]
	began := time.Now()
	h.mu.Lock()
	h.current.Started++
	h.total.Started++
	h.mu.Unlock()

	h.app.mu.RLock()
	defer h.app.mu.RUnlock()
	jctx, cancel := context.WithTimeout(shcrkit.WithCorrelationID(ctx, uuid.NewString()), 15*time.Second)
	defer cancel()
	res, err := h.app.client.Records(jctx, shcr.Request{Requester: user, NHSNumber: nhs, Purpose: shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: fmt.Sprintf("Encounter/ed-%d", pi+1)}})
	outcome, records, failures := classify(res, err)
	if res != nil {
		for _, r := range res.Records {
			if !h.acks.audited(r.RequestID) {
				h.broke(invNoDataWithoutAudit, fmt.Sprintf("record %s was handed back without an acknowledged audit event", r.Pointer.ID))
			}
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, r.Body)
			}
		}
		res.Close()
	}
	h.check(invNoDataWithoutAudit, records)
	took := time.Since(began)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, iv := range []*interval{h.current, &h.total} {
		iv.Completed++
		iv.Outcomes[outcome]++
		iv.Records += records
		for _, c := range failures {
			iv.CustodianFailures[c]++
		}
		iv.latencies = append(iv.latencies, took)
	}
	h.journeys = append(h.journeys, journeyTime{at: began.Sub(h.start), took: took})
}

// classify sorts a journey's end into the report's outcome classes.
func classify(res *shcr.Result, err error) (string, int, []string) {
	var failures []string
	if res != nil {
		for _, f := range res.Failures {
			failures = append(failures, string(f.Custodian))
		}
	}
	switch {
	case err == nil && len(res.Records) > 0 && len(res.Failures) > 0:
		return "records, some custodians failed", len(res.Records), failures
	case err == nil && len(res.Records) > 0:
		return "records", len(res.Records), failures
	case err == nil:
		return "no records", 0, failures
	case errors.Is(err, shcr.ErrAudit):
		return "audit failure: withheld", 0, failures
	case errors.Is(err, shcr.ErrRefused):
		return "refused", 0, failures
	case errors.Is(err, shcr.ErrPatientNotFound), errors.Is(err, shcrkit.ErrNotFound):
		return "patient not traced", 0, failures
	case errors.Is(err, shcrkit.ErrRateLimited):
		return "rate limited", 0, failures
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out", 0, failures
	case errors.Is(err, shcrkit.ErrUnauthorized):
		return "unauthorised (token)", 0, failures
	case errors.Is(err, shcrkit.ErrUnavailable):
		return "service unavailable", 0, failures
	}
	return "other error: " + errorClass(err), 0, failures
}

// errorClass names an unexpected error by its type, without its text
// (which may name a patient).
func errorClass(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

var seed atomic.Uint64

// rand64 is a cheap spread of numbers for picking users and patients.
func rand64() uint64 {
	x := seed.Add(0x9E3779B97F4A7C15)
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// closeInterval ends the current interval, with the resources, retries and
// tokens of its span.
func (h *harness) closeInterval() interval {
	retries := h.countRetries()
	tokens := len(h.world.Tokens.Requests())
	res := sample()
	h.mu.Lock()
	defer h.mu.Unlock()
	iv := *h.current
	iv.ToS = time.Since(h.start).Seconds()
	iv.Retries = retries
	iv.Tokens = tokens - h.total.Tokens
	h.total.Tokens = tokens
	h.total.Retries += retries
	iv.resources = res
	for k := range h.active {
		iv.Faults = append(iv.Faults, k)
	}
	sort.Strings(iv.Faults)
	iv.Faults = slices.Compact(iv.Faults)
	iv.P50, iv.P95, iv.P99, iv.Max = percentiles(iv.latencies)
	iv.latencies = nil
	h.current = newInterval(time.Since(h.start))
	h.print(iv)
	return iv
}

func (h *harness) print(iv interval) {
	var notes []string
	if len(iv.Faults) > 0 {
		notes = append(notes, "["+strings.Join(iv.Faults, ", ")+"]")
	}
	keys := make([]string, 0, len(iv.Outcomes))
	for k := range iv.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		notes = append(notes, fmt.Sprintf("%s %d", k, iv.Outcomes[k]))
	}
	fmt.Fprintf(h.out, "%6.0f %6d %6d %5d %8.1f %8.1f %8.1f %8.1f %7d %6d %5d %5d %7.1f %6d  %s\n",
		iv.ToS, iv.Started, iv.Completed, iv.Skipped, iv.P50, iv.P95, iv.P99, iv.Max, iv.Records, iv.Retries, iv.Tokens,
		iv.Goroutines, iv.HeapMB, iv.OpenFiles, strings.Join(notes, "; "))
}

// countRetries counts requests the fakes saw more than once with the same
// X-Request-ID (a retry), then forgets them so that the fakes' memory
// stays flat.
func (h *harness) countRetries() int {
	seen := map[string]int{}
	add := func(headers []http.Header) {
		for _, hd := range headers {
			if id := hd.Get("X-Request-ID"); id != "" {
				seen[id]++
			}
		}
	}
	w := h.world
	var hs []http.Header
	for _, r := range w.PDS.Requests() {
		hs = append(hs, r.Header)
	}
	w.PDS.ResetRequests()
	for _, r := range w.NRL.Requests() {
		hs = append(hs, r.Header)
	}
	w.NRL.ResetRequests()
	for _, region := range w.Regions {
		for _, r := range region.Requests() {
			hs = append(hs, r.Header)
		}
		region.ResetRequests()
	}
	add(hs)
	retries := 0
	for _, n := range seen {
		retries += n - 1
	}
	return retries
}

func percentiles(ds []time.Duration) (p50, p95, p99, max float64) {
	if len(ds) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return float64(s[i]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.95), at(0.99), float64(s[len(s)-1]) / float64(time.Millisecond)
}

// sample reads what the process holds.
func sample() resources {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	r := resources{Goroutines: runtime.NumGoroutine(), HeapMB: float64(m.HeapInuse) / (1 << 20), OpenFiles: -1, Sockets: -1}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		r.OpenFiles, r.Sockets = len(fds), 0
		for _, fd := range fds {
			if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, "socket:") {
				r.Sockets++
			}
		}
	}
	return r
}
