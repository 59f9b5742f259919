package nrlstest

import (
	"bytes"
	"net/http"
)

// holdUntilDone keeps an answer from the client until the wrapped handler
// has returned, so that the request is in the recorder (which records as
// the handler returns) before the client can act on the answer: a test
// reading Requests right after a call then always finds it. A handler that
// flushes (a dripping fault) streams as before.
func holdUntilDone(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &holdWriter{w: w, header: w.Header().Clone()}
		next.ServeHTTP(h, r)
		h.commit()
	})
}

type holdWriter struct {
	w         http.ResponseWriter
	header    http.Header
	status    int
	body      bytes.Buffer
	committed bool
}

func (h *holdWriter) Header() http.Header {
	if h.committed {
		return h.w.Header()
	}
	return h.header
}

func (h *holdWriter) WriteHeader(code int) {
	if h.committed {
		h.w.WriteHeader(code)
		return
	}
	if h.status == 0 {
		h.status = code
	}
}

func (h *holdWriter) Write(p []byte) (int, error) {
	if h.committed {
		return h.w.Write(p)
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

// Flush sends what is held and passes everything after straight through.
func (h *holdWriter) Flush() {
	h.commit()
	if f, ok := h.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (h *holdWriter) commit() {
	if h.committed {
		return
	}
	h.committed = true
	if h.status == 0 {
		// The handler wrote nothing (a request the client gave up on).
		return
	}
	dst := h.w.Header()
	for k := range dst {
		delete(dst, k)
	}
	for k, v := range h.header {
		dst[k] = v
	}
	h.w.WriteHeader(h.status)
	_, _ = h.w.Write(h.body.Bytes())
}
