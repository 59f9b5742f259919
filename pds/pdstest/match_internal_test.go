package pdstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSoundex(t *testing.T) {
	tests := map[string]string{
		"robert": "R163", "rupert": "R163", "rubin": "R150", "ashcraft": "A261", "ashcroft": "A261",
		"tymczak": "T522", "pfister": "P236", "hartley": "H634", "hartly": "H634", "smith": "S530",
		"smythe": "S530", "a": "A000", "": "", "o'neil": "O540", "123": "",
	}
	for in, want := range tests {
		assert.Equal(t, want, soundex(in), in)
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"hart*", "hartley", true},
		{"hart*", "hart", true},
		{"hart*", "smith", false},
		{"sm*t*", "smith", true},
		{"sm*t*", "smythe", true},
		{"sm*t*", "smyle", false},
		{"yo6*", "yo624qt", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wildcardMatch(tt.pattern, tt.s), tt.pattern+" "+tt.s)
	}
}

func TestDedupEvictsOldest(t *testing.T) {
	d := newDedup(2)
	d.put("a", dedupEntry{etag: "1"})
	d.put("b", dedupEntry{etag: "2"})
	d.put("a", dedupEntry{etag: "3"})
	d.put("c", dedupEntry{etag: "4"})
	_, ok := d.get("a")
	assert.False(t, ok)
	e, ok := d.get("c")
	assert.True(t, ok)
	assert.Equal(t, "4", e.etag)
	_, ok = d.get("b")
	assert.True(t, ok)
}
