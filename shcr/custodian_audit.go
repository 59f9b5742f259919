package shcr

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
)

// CustodianAuditConfig configures a CustodianAudit.
type CustodianAuditConfig struct {
	// Directory names each custodian's audit repository (Endpoint.AuditURL)
	// and the credentials, certificates and roots to reach it with: those
	// of the custodian's ShCR. Required.
	Directory *Directory
	// QueueDir is where events that could not be delivered wait, one file
	// each, until a retry delivers them; it survives restarts. Required.
	QueueDir string
	// Timeout bounds the attempt made while the journey waits (default 2
	// seconds); past it the event is queued and the journey goes on.
	Timeout time.Duration
	// RetryInterval is how often queued events are retried in the
	// background (default 30 seconds); negative retries only on Flush.
	RetryInterval time.Duration
	// HTTPClient, if set, is copied for each repository (redirects to
	// another origin are refused, as for every client of the SDK).
	HTTPClient *http.Client
	// Logger receives a line for each event queued or delivered late; nil
	// discards.
	Logger *slog.Logger
}

// CustodianAudit is an audit.Sink that sends an IHE BALP AuditEvent for
// every retrieval from a remote ShCR to that custodian's own audit
// repository (Endpoint.AuditURL), so that the patient's home region can
// answer "who viewed my record". Add it beside the local log with
// audit.Multi.
//
// Delivery is at least once and never holds a journey up beyond
// Config.Timeout: an event the repository does not take in time is
// written to the local queue (synced to disk before Write returns) and
// retried in the background and on Flush. Each event is sent with PUT
// AuditEvent/{id}, its ID derived from the event itself, so a repeated
// delivery replaces rather than duplicates. Write fails only when an
// event can be neither delivered nor queued (the local disk failed), so
// that the journey, failing closed, hands nothing back.
//
// A CustodianAudit is safe for concurrent use. Close stops the background
// retries; queued events wait on disk for the next CustodianAudit opened
// on the same QueueDir.
type CustodianAudit struct {
	cfg     CustodianAuditConfig
	clients map[shcrkit.ODSCode]*fhirhttp.Client
	log     *slog.Logger

	flushMu sync.Mutex // one retry pass at a time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

var _ audit.Sink = (*CustodianAudit)(nil)

// queued is an event waiting in the queue directory.
type queued struct {
	Custodian shcrkit.ODSCode `json:"custodian"`
	ID        string          `json:"id"`
	Body      json.RawMessage `json:"auditEvent"`
}

// NewCustodianAudit checks cfg, builds a client for every custodian with
// an audit repository and starts the background retries.
func NewCustodianAudit(cfg CustodianAuditConfig) (*CustodianAudit, error) {
	if cfg.Directory == nil || cfg.QueueDir == "" {
		return nil, fmt.Errorf("%w: a custodian audit needs a directory and a queue directory", ErrInvalidOption)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative custodian audit timeout", ErrInvalidOption)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 30 * time.Second
	}
	if err := os.MkdirAll(cfg.QueueDir, 0o700); err != nil {
		return nil, fmt.Errorf("shcr: custodian audit queue: %w", err)
	}
	c := &CustodianAudit{cfg: cfg, clients: map[shcrkit.ODSCode]*fhirhttp.Client{}, log: cfg.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, ep := range cfg.Directory.endpoints {
		if ep.audit == nil {
			continue
		}
		hc, err := guardedHTTPClient(cfg.HTTPClient, ep.Certificate, ep.RootCAs, 2, fhirhttp.CheckRedirect)
		if err != nil {
			return nil, err
		}
		client, err := fhirhttp.New(fhirhttp.Config{BaseURL: ep.audit, HTTPClient: hc, TokenSource: ep.TokenSource, MaxAttempts: 1})
		if err != nil {
			return nil, err
		}
		for _, custodian := range ep.Custodians {
			c.clients[custodian] = client
		}
	}
	go c.retryLoop()
	return c, nil
}

// Write sends the AuditEvent of a retrieval (a call to a remote ShCR whose
// custodian has an audit repository) and ignores every other event: the
// SDK's own decisions stay with its own trail.
func (c *CustodianAudit) Write(ctx context.Context, e audit.Event) error {
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
	attempt, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
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

func (c *CustodianAudit) deliver(ctx context.Context, client *fhirhttp.Client, q *queued) error {
	_, err := client.Do(ctx, &fhirhttp.Request{Method: http.MethodPut, Path: "/AuditEvent/" + q.ID,
		Body: q.Body, ContentType: "application/fhir+json", Idempotent: true})
	return err
}

// enqueue writes q durably: to a temporary file, synced, renamed into
// place, with the directory synced.
func (c *CustodianAudit) enqueue(q *queued) error {
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	final := filepath.Join(c.cfg.QueueDir, q.ID+".json")
	tmp, err := os.CreateTemp(c.cfg.QueueDir, ".pending-*")
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
	return syncDir(c.cfg.QueueDir)
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
func (c *CustodianAudit) Pending() int {
	names, _ := filepath.Glob(filepath.Join(c.cfg.QueueDir, "*.json"))
	return len(names)
}

// Flush tries to deliver every queued event now. It returns the number
// still queued, with the first delivery error when some are.
func (c *CustodianAudit) Flush(ctx context.Context) (int, error) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	names, err := filepath.Glob(filepath.Join(c.cfg.QueueDir, "*.json"))
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
func (c *CustodianAudit) retry(ctx context.Context, name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var q queued
	if err := json.Unmarshal(b, &q); err != nil || q.ID == "" || !strings.HasSuffix(name, q.ID+".json") {
		return fmt.Errorf("shcr: custodian audit queue file %s is damaged", filepath.Base(name))
	}
	client := c.clients[q.Custodian]
	if client == nil {
		return fmt.Errorf("shcr: custodian %s has no audit repository in the directory", q.Custodian)
	}
	attempt, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
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

func (c *CustodianAudit) retryLoop() {
	defer close(c.done)
	if c.cfg.RetryInterval < 0 {
		<-c.stop
		return
	}
	t := time.NewTicker(c.cfg.RetryInterval)
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
func (c *CustodianAudit) Close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}
