// Package custodianqueue delivers the AuditEvents of shcr.CustodianAudit
// to each custodian's audit repository, with a durable queue on disk for
// those not delivered in time and background retries.
package custodianqueue

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// Queue delivers and queues. It is safe for concurrent use.
type Queue struct {
	dir      string
	timeout  time.Duration
	interval time.Duration
	clients  map[shcrkit.ODSCode]*fhirhttp.Client
	log      *slog.Logger
	// idle are the HTTP clients whose idle connections Close drops:
	// those whose transports the queue made itself.
	idle []*http.Client

	flushMu sync.Mutex // one retry pass at a time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// Start makes the queue directory dir and starts the retries every
// interval (none when negative). Each delivery attempt is bounded by
// timeout; clients are the audit repositories by custodian.
// Close drops the idle connections of the HTTP clients in idle.
func Start(dir string, timeout, interval time.Duration, clients map[shcrkit.ODSCode]*fhirhttp.Client, idle []*http.Client, log *slog.Logger) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("shcr: custodian audit queue: %w", err)
	}
	c := &Queue{dir: dir, timeout: timeout, interval: interval, clients: clients, idle: idle, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.retryLoop()
	return c, nil
}

// queued is an event waiting in the queue directory.
type queued struct {
	Custodian shcrkit.ODSCode `json:"custodian"`
	ID        string          `json:"id"`
	Body      json.RawMessage `json:"auditEvent"`
}

// ErrNotMade is the error of every call on a nil Queue (that of a
// CustodianAudit not made by NewCustodianAudit): like a closed sink, it
// takes no events.
var ErrNotMade = fmt.Errorf("%w: the shcr.CustodianAudit was not made by NewCustodianAudit", audit.ErrClosed)

// Write sends the AuditEvent of a retrieval (a call to a remote ShCR whose
// custodian has an audit repository) and ignores every other event: the
// SDK's own decisions stay with its own trail.
func (c *Queue) Write(ctx context.Context, e audit.Event) error {
	if c == nil {
		return ErrNotMade
	}
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	if e.Service != audit.ServiceShCR || e.Custodian == "" || e.Kind == audit.KindDecision {
		return nil
	}
	client := c.clients[e.Custodian]
	if client == nil {
		return nil
	}
	n, err := e.Normalize(time.Now())
	if err != nil {
		return err
	}
	q, err := newQueued(n)
	if err != nil {
		return err
	}
	attempt, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	if err := c.deliver(attempt, client, q); err == nil {
		return nil
	} else {
		c.log.Warn("custodian audit: queued for retry", "custodian", q.Custodian, "id", q.ID, "error", err)
	}
	if err := c.enqueue(q); err != nil {
		return fmt.Errorf("shcr: custodian audit event neither delivered nor queued: %w", err)
	}
	return nil
}

// newQueued maps e to its AuditEvent, with an ID derived from the event,
// so that every delivery of it names the same resource.
func newQueued(e audit.Event) (*queued, error) {
	plain, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	id := uuid.NewHash(sha256.New(), uuid.NameSpaceURL, plain, 5).String()
	// MarshalFHIR contains the OperationOutcome of a failed retrieval,
	// which the AuditEvent refers to.
	full, err := audit.MarshalFHIR(e)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(full, &m); err != nil {
		return nil, err
	}
	m["id"], _ = json.Marshal(id)
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &queued{Custodian: e.Custodian, ID: id, Body: body}, nil
}

// deliver PUTs q to its repository. Only a 2xx answer to the PUT itself
// is a delivery: a redirect (handed back unfollowed) is not. Each PUT is a
// request of its own, with a fresh X-Request-ID, whatever request ID the
// writer's context carried for its own call.
func (c *Queue) deliver(ctx context.Context, client *fhirhttp.Client, q *queued) error {
	resp, err := client.Do(shcrkit.WithRequestID(ctx, ""), &fhirhttp.Request{Method: http.MethodPut, Path: "/AuditEvent/" + q.ID,
		Body: q.Body, ContentType: "application/fhir+json", Idempotent: true})
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("shcr: custodian audit repository answered %d to the PUT of AuditEvent %s [request %s]", resp.StatusCode, q.ID, resp.RequestID)
	}
	return nil
}

// enqueue writes q durably: to a temporary file, synced, renamed into
// place, with the directory synced.
func (c *Queue) enqueue(q *queued) error {
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	final := filepath.Join(c.dir, q.ID+".json")
	tmp, err := os.CreateTemp(c.dir, ".pending-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(c.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// Pending returns how many events wait in the queue.
func (c *Queue) Pending() int {
	if c == nil {
		return 0
	}
	names, _ := filepath.Glob(filepath.Join(c.dir, "*.json"))
	return len(names)
}

// Flush tries to deliver every queued event now. It returns the number
// still queued, with the first delivery error when some are.
func (c *Queue) Flush(ctx context.Context) (int, error) {
	if c == nil {
		return 0, ErrNotMade
	}
	if err := nilctx.Check(ctx); err != nil {
		return 0, err
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	names, err := filepath.Glob(filepath.Join(c.dir, "*.json"))
	if err != nil {
		return 0, err
	}
	left := 0
	var first error
	for _, name := range names {
		if err := c.retry(ctx, name); err != nil {
			left++
			if first == nil {
				first = err
			}
		}
	}
	return left, first
}

// retry delivers one queued file and removes it once delivered. A file
// that cannot be read, or names a custodian no longer in the directory,
// stays for an operator to look at.
func (c *Queue) retry(ctx context.Context, name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var q queued
	if err := json.Unmarshal(b, &q); err != nil || q.ID == "" || !strings.HasSuffix(name, q.ID+".json") || !q.consistent() {
		return fmt.Errorf("shcr: custodian audit queue file %s is damaged", filepath.Base(name))
	}
	client := c.clients[q.Custodian]
	if client == nil {
		return fmt.Errorf("shcr: custodian %s has no audit repository in the directory", q.Custodian)
	}
	attempt, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.deliver(attempt, client, &q); err != nil {
		return err
	}
	c.log.Info("custodian audit: delivered late", "custodian", q.Custodian, "id", q.ID)
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// consistent reports whether q's AuditEvent is the one its file names:
// the event's ID is q's, and the custodian it records is the one q is
// to be delivered to. A file edited to name another custodian would
// otherwise send the patient's access record to a repository it is not
// about.
func (q *queued) consistent() bool {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(q.Body, &head); err != nil || head.ID != q.ID {
		return false
	}
	e, err := audit.DecodeFHIR(q.Body)
	return err == nil && e.Custodian == q.Custodian
}

func (c *Queue) retryLoop() {
	defer close(c.done)
	if c.interval < 0 {
		<-c.stop
		return
	}
	t := time.NewTicker(c.interval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.stop
		cancel()
	}()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.Flush(ctx)
		}
	}
}

// Close stops the background retries and waits for a pass under way.
func (c *Queue) Close() error {
	if c == nil {
		return ErrNotMade
	}
	c.once.Do(func() { close(c.stop) })
	<-c.done
	// The connections kept to the repositories go with the retries.
	for _, hc := range c.idle {
		hc.CloseIdleConnections()
	}
	return nil
}
