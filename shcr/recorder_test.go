package shcr_test

import (
	"context"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit/audit"
)

// memRecorder keeps normalised events in memory.
type memRecorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memRecorder) Write(_ context.Context, e audit.Event) error {
	n, err := e.Normalize(time.Now())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n.Seq = uint64(len(m.events) + 1)
	m.events = append(m.events, n)
	return nil
}

func (m *memRecorder) Events() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.events...)
}

func newRecorder() *memRecorder { return &memRecorder{} }
