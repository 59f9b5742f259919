package main

import (
	"github.com/shcrkit/shcrkit"

	"log/slog"
	"net/http"
	"time"
)

// logRequests logs one line per request: method, path, status and time.
// Query strings are left out and NHS numbers in the path masked, as
// everywhere in the SDK: they identify patients.
func logRequests(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		l.Info("request", "method", r.Method, "path", shcrkit.MaskNHSNumbers(r.URL.Path), "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
