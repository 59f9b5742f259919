package shcr

import (
	"context"
	"io"
	"sync"
)

// slots bounds the requests in flight to one endpoint. A slot is held
// for the whole of a request, and for a streamed document until its body
// is closed, so that the connections open to an endpoint never outnumber
// its bound and the transport's idle pool (sized to the bound) can keep
// them all for the next journey.
type slots chan struct{}

// acquire waits for a slot or for ctx to end.
func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() { <-s }

// slotBody gives its slot back, once, when it is closed.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
