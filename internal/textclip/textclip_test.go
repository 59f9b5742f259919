package textclip_test

import (
	"testing"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/stretchr/testify/assert"
)

func TestCutAndClip(t *testing.T) {
	for _, tc := range []struct {
		s         string
		n         int
		cut, clip string
	}{
		{"abc", 3, "abc", "abc"},
		{"abc", 5, "abc", "abc"},
		{"abcdef", 3, "abc", "abc…"},
		{"éé", 3, "é", "é…"},
		{"😀x", 2, "", "…"},
		{"abc", 0, "", "…"},
		{"abc", -1, "", "…"},
		{"", 0, "", ""},
	} {
		assert.Equal(t, tc.cut, textclip.Cut(tc.s, tc.n), "Cut(%q, %d)", tc.s, tc.n)
		assert.Equal(t, tc.clip, textclip.Clip(tc.s, tc.n), "Clip(%q, %d)", tc.s, tc.n)
	}
}

func FuzzCut(f *testing.F) {
	f.Add("ab\xffcé😀", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := textclip.Cut(s, n)
		if len(got) > max(n, 0) && len(got) != len(s) {
			t.Fatalf("Cut(%q, %d) = %q is longer than the limit", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Cut(%q, %d) = %q splits a character", s, n, got)
		}
	})
}
