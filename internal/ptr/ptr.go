// Package ptr holds the two pointer helpers that building and reading
// FHIR resources needs everywhere, once: a pointer to a value, and the
// value behind a pointer that may be nil.
package ptr

// To returns a pointer to a copy of v.
func To[T any](v T) *T { return &v }

// Deref returns *p, or the zero value when p is nil.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
