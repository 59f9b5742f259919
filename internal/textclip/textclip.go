// Package textclip shortens text that came from elsewhere before it goes
// into an error, a log line or an audit record: never past a byte limit
// and never through the middle of a character.
package textclip

import "unicode/utf8"

// Cut returns s cut to at most n bytes on a character boundary.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Clip is Cut with "…" after the text when it was cut, so that a reader
// knows there was more.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}
