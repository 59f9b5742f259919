package shcr

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/shcr/internal/custodianqueue"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
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
type CustodianAudit struct{ q *custodianqueue.Queue }

var _ audit.Sink = (*CustodianAudit)(nil)

// NewCustodianAudit checks cfg, builds a client for every custodian with
// an audit repository and starts the background retries.
func NewCustodianAudit(cfg CustodianAuditConfig) (*CustodianAudit, error) {
	if cfg.Directory == nil || cfg.QueueDir == "" {
		return nil, fmt.Errorf("%w: a custodian audit needs a directory and a queue directory", shcrkit.ErrInvalidOption)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative custodian audit timeout", shcrkit.ErrInvalidOption)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = 30 * time.Second
	}
	clients := map[shcrkit.ODSCode]*fhirhttp.Client{}
	var idle []*http.Client
	for _, ep := range cfg.Directory.endpoints {
		if ep.audit == nil {
			continue
		}
		// No redirect is followed: Go would turn a PUT answered 301, 302
		// or 303 into a bodiless GET whose 200 would pass for a delivery,
		// and a 307 would store the event under another path. A 3xx is
		// handed back and the event queued (see custodianqueue.deliver).
		hc, err := remotehttp.GuardedClient(cfg.HTTPClient, ep.Certificate, ep.RootCAs, 2, remotehttp.NoRedirect)
		if err != nil {
			return nil, err
		}
		client, err := fhirhttp.New(fhirhttp.Config{BaseURL: ep.audit, HTTPClient: hc, TokenSource: ep.TokenSource, MaxAttempts: 1})
		if err != nil {
			return nil, err
		}
		if cfg.HTTPClient == nil {
			// The transport is the CustodianAudit's own: Close drops
			// its idle connections.
			idle = append(idle, hc)
		}
		for _, custodian := range ep.Custodians {
			clients[custodian] = client
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q, err := custodianqueue.Start(cfg.QueueDir, cfg.Timeout, cfg.RetryInterval, clients, idle, log)
	if err != nil {
		return nil, err
	}
	return &CustodianAudit{q: q}, nil
}

// Write sends the AuditEvent of a retrieval (a call to a remote ShCR whose
// custodian has an audit repository) and ignores every other event: the
// SDK's own decisions stay with its own trail.
func (c *CustodianAudit) Write(ctx context.Context, e audit.Event) error {
	return c.queue().Write(ctx, e)
}

// Pending returns how many events wait in the queue.
func (c *CustodianAudit) Pending() int { return c.queue().Pending() }

// Flush tries to deliver every queued event now. It returns the number
// still queued, with the first delivery error when some are.
func (c *CustodianAudit) Flush(ctx context.Context) (int, error) { return c.queue().Flush(ctx) }

// Close stops the background retries and waits for a pass under way.
func (c *CustodianAudit) Close() error { return c.queue().Close() }

// queue is c's queue; nil for a CustodianAudit not made by
// NewCustodianAudit, whose every call then fails with audit.ErrClosed.
func (c *CustodianAudit) queue() *custodianqueue.Queue {
	if c == nil {
		return nil
	}
	return c.q
}
