package shcrkit

import "context"

type ctxKey int

const (
	correlationIDKey ctxKey = iota
	requestIDKey
)

// WithCorrelationID returns a context that makes every SDK call made with it
// send the X-Correlation-ID header with id, so that one user action can be
// followed across PDS, NRL, remote ShCRs and the audit log. id must pass
// ValidCorrelationID: an HTTP call with any other fails with an error
// matching ErrInvalidRequest before anything is sent.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationIDKey, id)
}

// CorrelationID returns the correlation ID set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationIDKey).(string)
	return id
}

// WithRequestID returns a context whose next SDK call uses id as its
// X-Request-ID instead of a fresh one, so that the caller can record the ID
// (in an audit event, say) before the call is made. Use such a context for
// exactly one call: the service takes two requests with the same ID for
// retries of one. id must be a UUID in its 8-4-4-4-12 form, the only one
// the services take: an HTTP call with any other fails with an error
// matching ErrInvalidRequest before anything is sent.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request ID set by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// maxCorrelationID is the longest correlation ID a call sends.
const maxCorrelationID = 200

// ValidCorrelationID reports whether id can be sent as an X-Correlation-ID
// and recorded in an audit event: 1 to 200 visible ASCII characters (no
// space, no control character, so no line break to forge a header or a
// log line with).
func ValidCorrelationID(id string) bool {
	if id == "" || len(id) > maxCorrelationID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
