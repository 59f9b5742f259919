package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/nilctx"
	"github.com/shcrkit/shcrkit/nrls"
)

// PublisherConfig is what a Publisher is built from.
type PublisherConfig struct {
	// NRL is a producer client (its base URL the NRL's producer root) for
	// Custodian. Required.
	NRL *nrls.Client
	// Custodian is this provider's ODS code: the custodian of every
	// pointer it publishes. Required.
	Custodian shcrkit.ODSCode
	// MaxAttempts bounds the attempts of each change, 1 to 10; 0 means 3.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 (n from 1); nil means 200 ms
	// doubling up to 5 s.
	Backoff func(n int) time.Duration
}

// Publisher keeps the National Record Locator in step with what the
// provider serves: Sync creates the pointers missing, supersedes the ones
// whose record changed and deletes the ones no longer served. It is
// idempotent: a Sync that is repeated, or that follows one cut short,
// changes only what still differs. It is safe for concurrent use for
// different patients; Syncs of one Publisher for the same patient run one
// at a time, since two at once would each see a pointer missing and both
// create it. (Publishers in separate processes are not coordinated: a
// duplicate they leave is removed by the next Sync.)
type Publisher struct {
	cfg PublisherConfig

	mu    sync.Mutex
	locks map[shcrkit.NHSNumber]*patientLock
}

// patientLock serialises the Syncs of one patient; refs counts the Syncs
// holding or waiting for it, so that it is dropped when none do.
type patientLock struct {
	sem  chan struct{}
	refs int
}

// lock waits until no other Sync of this Publisher is working on nhs, or
// until ctx ends.
func (p *Publisher) lock(ctx context.Context, nhs shcrkit.NHSNumber) (unlock func(), err error) {
	p.mu.Lock()
	if p.locks == nil {
		p.locks = map[shcrkit.NHSNumber]*patientLock{}
	}
	l := p.locks[nhs]
	if l == nil {
		l = &patientLock{sem: make(chan struct{}, 1)}
		p.locks[nhs] = l
	}
	l.refs++
	p.mu.Unlock()
	release := func() {
		p.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(p.locks, nhs)
		}
		p.mu.Unlock()
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// NewPublisher checks cfg and returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	switch {
	case cfg.NRL == nil:
		return nil, fmt.Errorf("%w: the publisher needs an NRL producer client", ErrInvalidConfig)
	case !cfg.Custodian.Valid():
		return nil, fmt.Errorf("%w: the publisher needs the provider's ODS code", ErrInvalidConfig)
	case cfg.MaxAttempts < 0 || cfg.MaxAttempts > 10:
		return nil, fmt.Errorf("%w: max attempts %d is outside 0..10", ErrInvalidConfig, cfg.MaxAttempts)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return min(200*time.Millisecond<<(n-1), 5*time.Second) }
	}
	return &Publisher{cfg: cfg}, nil
}

// SyncReport says what a Sync changed, by pointer ID.
type SyncReport struct {
	// Created are the pointers published anew.
	Created []string
	// Superseded maps each new pointer to the pointer it replaced.
	Superseded map[string]string
	// Deleted are the pointers removed.
	Deleted []string
	// Unchanged are the published pointers that already matched.
	Unchanged []string
}

// Sync makes the NRL hold, for the patient nhs and this custodian,
// exactly the pointers want describes. A published pointer matches a
// wanted one when both lead to the same URL; it is left alone when the
// record's type, content type, format, confidentiality and title are the
// same, and superseded otherwise. A wanted pointer with no match
// supersedes a published one of the same record type whose URL is no
// longer wanted (a new version of a plan at a new address), or is
// created. Published pointers left over are deleted.
//
// Each change is tried up to MaxAttempts times while the NRL is
// unavailable or rate-limits. Since the NRL does not de-duplicate
// creates, a failed create is retried only after a search shows it did
// not land. Sync stops at the first change that still fails and returns
// what it did with the error; calling it again resumes.
func (p *Publisher) Sync(ctx context.Context, nhs shcrkit.NHSNumber, want []nrls.Pointer) (SyncReport, error) {
	rep := SyncReport{Superseded: map[string]string{}}
	if err := p.usable(ctx); err != nil {
		return rep, err
	}
	want, wanted, err := p.checkWanted(nhs, want)
	if err != nil {
		return rep, err
	}
	unlock, err := p.lock(ctx, nhs)
	if err != nil {
		return rep, err
	}
	defer unlock()
	published, err := p.published(ctx, nhs)
	if err != nil {
		return rep, err
	}
	// A published pointer is stale when its URL is no longer wanted, or
	// when another published pointer already leads there (a duplicate
	// left by an earlier fault).
	byURL := make(map[string]nrls.Pointer, len(published))
	var stale []nrls.Pointer
	for _, q := range published {
		if _, dup := byURL[q.URL]; dup || !wanted[q.URL] {
			stale = append(stale, q)
			continue
		}
		byURL[q.URL] = q
	}
	for _, w := range want {
		if stale, err = p.publish(ctx, nhs, w, byURL, stale, &rep); err != nil {
			return rep, err
		}
	}
	for _, s := range stale {
		if err := p.retry(ctx, func() error {
			err := p.cfg.NRL.Delete(ctx, s.ID)
			if errors.Is(err, shcrkit.ErrNotFound) {
				return nil // already gone: the goal is met
			}
			return err
		}); err != nil {
			return rep, err
		}
		rep.Deleted = append(rep.Deleted, s.ID)
	}
	return rep, nil
}

// checkWanted checks the pointers Sync is asked for and returns them as
// Create will send them, with the set of their URLs. What is checked and
// compared is what Create sends: each pointer's view is derived afresh
// from its resource, since a view field changed by the caller does not
// change the pointer; a view that names another patient, custodian or
// record than its resource is refused as well.
func (p *Publisher) checkWanted(nhs shcrkit.NHSNumber, given []nrls.Pointer) ([]nrls.Pointer, map[string]bool, error) {
	want := make([]nrls.Pointer, len(given))
	wanted := make(map[string]bool, len(given))
	for i, g := range given {
		w := nrls.PointerFrom(g.Resource)
		if w.NHSNumber != nhs || w.Custodian != p.cfg.Custodian {
			return nil, nil, fmt.Errorf("%w: pointer for %s at %s is not this patient's at this custodian", shcrkit.ErrInvalidRequest,
				shcrkit.MaskNHSNumbers(string(w.NHSNumber)), w.Custodian)
		}
		if g.NHSNumber != w.NHSNumber || g.Custodian != w.Custodian || g.URL != w.URL {
			return nil, nil, fmt.Errorf("%w: a wanted pointer's view names another patient, custodian or URL than its resource",
				shcrkit.ErrInvalidRequest)
		}
		if w.URL == "" {
			return nil, nil, fmt.Errorf("%w: a wanted pointer has no URL", shcrkit.ErrInvalidRequest)
		}
		// One pointer per record: two with one URL would both be
		// created, and then kept for ever as each other's match.
		if wanted[w.URL] {
			return nil, nil, fmt.Errorf("%w: two wanted pointers lead to one URL", shcrkit.ErrInvalidRequest)
		}
		wanted[w.URL] = true
		want[i] = w
	}
	return want, wanted, nil
}

// publish makes the NRL hold w: left alone when the pointer published at
// its URL matches, superseding that one or a stale one of the same
// record type otherwise, or created. It returns the stale pointers left.
func (p *Publisher) publish(ctx context.Context, nhs shcrkit.NHSNumber, w nrls.Pointer, byURL map[string]nrls.Pointer,
	stale []nrls.Pointer, rep *SyncReport) ([]nrls.Pointer, error) {
	old, ok := byURL[w.URL]
	switch {
	case ok && samePointer(old, w):
		rep.Unchanged = append(rep.Unchanged, old.ID)
		return stale, nil
	case !ok:
		for i, s := range stale {
			if s.Type.Code == w.Type.Code {
				old, ok = s, true
				stale = append(stale[:i], stale[i+1:]...)
				break
			}
		}
	}
	if !ok {
		id, err := p.create(ctx, nhs, w)
		if err != nil {
			return stale, err
		}
		rep.Created = append(rep.Created, id)
		return stale, nil
	}
	id, replaced, err := p.supersede(ctx, nhs, w, old.ID)
	if err != nil {
		return stale, err
	}
	if replaced {
		rep.Superseded[id] = old.ID
	} else {
		rep.Created = append(rep.Created, id)
	}
	return stale, nil
}

// Published returns the pointers the NRL holds for the patient at this
// custodian, with the IDs the NRL gave them.
func (p *Publisher) Published(ctx context.Context, nhs shcrkit.NHSNumber) ([]nrls.Pointer, error) {
	if err := p.usable(ctx); err != nil {
		return nil, err
	}
	return p.published(ctx, nhs)
}

// usable refuses a Publisher not made by NewPublisher and a nil context,
// which would otherwise panic.
func (p *Publisher) usable(ctx context.Context) error {
	if p == nil || p.cfg.NRL == nil || p.cfg.Backoff == nil {
		return fmt.Errorf("%w: the Publisher was not made by NewPublisher", ErrInvalidConfig)
	}
	return nilctx.Check(ctx)
}

// published lists this custodian's pointers for the patient.
func (p *Publisher) published(ctx context.Context, nhs shcrkit.NHSNumber) ([]nrls.Pointer, error) {
	var out []nrls.Pointer
	err := p.retry(ctx, func() error {
		// A producer search returns the producer's own pointers: the
		// custodian is implied, and the parameter is refused.
		ptrs, err := p.cfg.NRL.Search(ctx, nhs)
		if errors.Is(err, shcrkit.ErrNotFound) {
			ptrs, err = nil, nil
		}
		out = out[:0]
		for _, q := range ptrs {
			if q.Custodian == p.cfg.Custodian {
				out = append(out, q)
			}
		}
		return err
	})
	return out, err
}

// create publishes w; before each retry it looks whether an earlier
// attempt landed after all.
func (p *Publisher) create(ctx context.Context, nhs shcrkit.NHSNumber, w nrls.Pointer) (string, error) {
	var id string
	attempt := 0
	err := p.retry(ctx, func() error {
		attempt++
		if attempt > 1 {
			if q, ok, err := p.find(ctx, nhs, w.URL); err != nil {
				return err
			} else if ok {
				id = q.ID
				return nil
			}
		}
		var err error
		id, err = p.cfg.NRL.Create(ctx, w)
		return err
	})
	return id, err
}

// supersede publishes w in place of old, idempotently like create: a
// retry first looks whether the replacement landed. When the NRL refuses
// the supersede and old is no longer there (deleted or superseded by
// another writer since the search), w is published as a new pointer
// instead; replaced then reports false.
func (p *Publisher) supersede(ctx context.Context, nhs shcrkit.NHSNumber, w nrls.Pointer, old string) (id string, replaced bool, err error) {
	id, err = p.replace(ctx, nhs, w, old)
	if err == nil || transient(err) || ctx.Err() != nil {
		return id, err == nil, err
	}
	ptrs, serr := p.published(ctx, nhs)
	if serr != nil {
		return "", false, err
	}
	for _, q := range ptrs {
		if q.ID == old {
			return "", false, err // the refusal was not about old's absence
		}
	}
	for _, q := range ptrs {
		if samePointer(q, w) {
			return q.ID, false, nil
		}
	}
	id, err = p.create(ctx, nhs, w)
	return id, false, err
}

// replace sends the supersede of old by w, retrying as create does.
func (p *Publisher) replace(ctx context.Context, nhs shcrkit.NHSNumber, w nrls.Pointer, old string) (string, error) {
	var id string
	attempt := 0
	err := p.retry(ctx, func() error {
		attempt++
		if attempt > 1 {
			ptrs, err := p.published(ctx, nhs)
			if err != nil {
				return err
			}
			gone := true
			for _, q := range ptrs {
				if q.ID == old {
					gone = false
				}
				if q.URL == w.URL && samePointer(q, w) {
					id = q.ID
				}
			}
			if gone && id != "" {
				return nil
			}
		}
		var err error
		id, err = p.cfg.NRL.Supersede(ctx, w, old)
		return err
	})
	return id, err
}

// find looks for this custodian's pointer to url.
func (p *Publisher) find(ctx context.Context, nhs shcrkit.NHSNumber, url string) (nrls.Pointer, bool, error) {
	ptrs, err := p.published(ctx, nhs)
	if err != nil {
		return nrls.Pointer{}, false, err
	}
	for _, q := range ptrs {
		if q.URL == url {
			return q, true, nil
		}
	}
	return nrls.Pointer{}, false, nil
}

// retry runs op until it succeeds, fails for good, or the attempts run
// out; only an unavailable or rate-limiting NRL is worth another try.
func (p *Publisher) retry(ctx context.Context, op func() error) error {
	var err error
	for n := 1; ; n++ {
		if err = op(); err == nil {
			return nil
		}
		if n >= p.cfg.MaxAttempts || !transient(err) {
			return err
		}
		// A wait the NRL asks for (429 or 503 with Retry-After) is
		// honoured: the writes are not retried by the HTTP client, so
		// this is the only place it can be.
		wait := p.cfg.Backoff(n)
		var ae *shcrkit.APIError
		if errors.As(err, &ae) && ae.RetryAfter > wait {
			wait = ae.RetryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // the wait would outlast the caller
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

// transient reports whether err is worth another attempt: an unavailable
// or rate-limiting NRL.
func transient(err error) bool {
	return errors.Is(err, shcrkit.ErrUnavailable) || errors.Is(err, shcrkit.ErrRateLimited)
}

// samePointer reports whether a published pointer already says what w
// says of the record.
func samePointer(q, w nrls.Pointer) bool {
	return q.URL == w.URL && q.Type.Code == w.Type.Code && q.ContentType == w.ContentType &&
		q.Format == w.Format && q.Confidentiality == w.Confidentiality && q.Title == w.Title
}
