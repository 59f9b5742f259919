package fhirhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit"
)

// tooLargeError is a body that went past its cap.
type tooLargeError struct {
	limit     int64
	requestID string
}

func (e *tooLargeError) Error() string {
	s := fmt.Sprintf("shcrkit: response body exceeds the limit of %d bytes", e.limit)
	if e.requestID != "" {
		s += " [request " + e.requestID + "]"
	}
	return s
}

func (e *tooLargeError) Is(target error) bool { return target == shcrkit.ErrResponseTooLarge }

// ReadCapped reads a whole body of at most limit bytes without ever
// holding more than limit+1 of them, failing with an error matching
// shcrkit.ErrResponseTooLarge beyond; contentLength, when positive, sizes
// the buffer at once.
func ReadCapped(r io.Reader, limit, contentLength int64) ([]byte, error) {
	if contentLength > limit {
		return nil, &tooLargeError{limit: limit}
	}
	size := int64(512)
	if contentLength > 0 {
		size = contentLength + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, &tooLargeError{limit: limit}
	}
	return buf, nil
}

// cappedBody fails a streamed body once it goes past its cap, so a caller
// copying it never holds or writes more than the cap.
type cappedBody struct {
	rc        io.ReadCloser
	left      int64
	limit     int64
	requestID string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &tooLargeError{limit: b.limit, requestID: b.requestID}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), &tooLargeError{limit: b.limit, requestID: b.requestID}
	}
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("%w: body ended early [request %s]", shcrkit.ErrMalformedResponse, b.requestID)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// DescribeJSONError names what went wrong in decoding JSON without
// quoting the input: the byte of a syntax error, the field of a type
// error, a truncation, or else the error's text clipped to 120 bytes.
func DescribeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	msg := err.Error()
	if len(msg) > 120 {
		i := 120
		for i > 0 && !utf8.RuneStart(msg[i]) {
			i--
		}
		msg = msg[:i]
	}
	return msg
}
