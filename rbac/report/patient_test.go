package report_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files of the generated documents")

// golden compares got with testdata/name, or rewrites it with -update.
// The golden files were read by eye when first written: a change to them
// is a change to what patients and IG leads read.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./rbac/report -update to write it")
	assert.Equal(t, string(want), string(got))
}

var asOf = time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC)

func TestPatientInformationFromEnforcedPolicy(t *testing.T) {
	p := samplepolicy.Load()
	info := report.NewPatientInformation(p, asOf, report.Contacts{Website: "https://north-riverside.example/sharing"})
	assert.Equal(t, "North Riverside Shared Care Record", info.Record)
	var regions []string
	for _, r := range info.Regions {
		regions = append(regions, r.Name)
	}
	assert.Equal(t, []string{"Eastmoor Shared Care Record", "Westhaven Care Record"}, regions, "only agreements in force; Southdale has none")
	assert.NotContains(t, strings.Join(info.Regions[1].Kinds, ";"), "Sensitive", "Westhaven's agreement does not cover sensitive records")
	assert.Equal(t, "information.governance@north-riverside.example", info.Contacts.Objections, "falls back to the controller's contact")

	md := info.Markdown()
	golden(t, "patient-information.md", []byte(md))
	page, err := info.HTML()
	require.NoError(t, err)
	golden(t, "patient-information.html", page)

	// After the Westhaven agreement ends, the page no longer names it, and
	// names the Southdale agreement that has begun.
	later := report.NewPatientInformation(p, time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC), report.Contacts{})
	regions = nil
	for _, r := range later.Regions {
		regions = append(regions, r.Name)
	}
	assert.Equal(t, []string{"Eastmoor Shared Care Record", "Southdale Health and Care Record"}, regions)
}

// TestPatientInformationIsPlainEnglish holds the page to a reading age of
// about 9 to 11: short sentences and mostly short words.
func TestPatientInformationIsPlainEnglish(t *testing.T) {
	info := report.NewPatientInformation(samplepolicy.Load(), asOf, report.Contacts{})
	text := info.Markdown()
	// Leave out lines that are lists of names and contacts.
	var prose []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") || strings.Contains(line, "@") || strings.HasPrefix(line, "**") {
			continue
		}
		// A list item stands as a sentence of its own.
		prose = append(prose, strings.TrimSuffix(strings.TrimPrefix(line, "- "), ".")+".")
	}
	sentences := regexp.MustCompile(`[.!?:](\s|$)`).Split(strings.Join(prose, " "), -1)
	words, long, counted := 0, 0, 0
	for _, s := range sentences {
		fields := strings.Fields(s)
		if len(fields) == 0 {
			continue
		}
		counted++
		assert.LessOrEqual(t, len(fields), 30, "sentence too long for the reading age: %q", s)
		for _, w := range fields {
			words++
			if syllables(w) >= 3 {
				long++
			}
		}
	}
	avg := float64(words) / float64(counted)
	assert.Less(t, avg, 14.0, "average sentence length")
	// Flesch-Kincaid grade from sentence length and the share of long
	// words, with three-syllable words standing for ~3.4 syllables.
	syl := (float64(words-long)*1.3 + float64(long)*3.4) / float64(words)
	grade := 0.39*avg + 11.8*syl - 15.59
	t.Logf("%d sentences, %.1f words each, %.0f%% long words, grade %.1f", counted, avg, 100*float64(long)/float64(words), grade)
	assert.Less(t, grade, 7.0, "a reading age of 9 to 11 is about grade 4 to 6")
}

// syllables estimates a word's syllables by its vowel groups.
func syllables(w string) int {
	w = strings.ToLower(strings.Trim(w, ".,;:()\"'"))
	n, prev := 0, false
	for _, c := range w {
		v := strings.ContainsRune("aeiouy", c)
		if v && !prev {
			n++
		}
		prev = v
	}
	if strings.HasSuffix(w, "e") && n > 1 {
		n--
	}
	return max(n, 1)
}

func TestPatientInformationPageIsAccessible(t *testing.T) {
	info := report.NewPatientInformation(samplepolicy.Load(), asOf, report.Contacts{Service: `<script>alert("x")</script>`})
	page, err := info.HTML()
	require.NoError(t, err)
	assert.NotContains(t, string(page), "<script>", "values are escaped")
	text := string(page)
	assert.Contains(t, text, `<html lang="en-GB">`)
	assert.Contains(t, text, `<main id="main">`)
	assert.Contains(t, text, `href="#main"`, "a skip link to the main content")
	assert.Contains(t, text, `name="viewport"`, "reflows on a small screen")
	var headings []int
	for _, m := range regexp.MustCompile(`<h([1-6])[ >]`).FindAllStringSubmatch(text, -1) {
		headings = append(headings, int(m[1][0]-'0'))
	}
	require.NotEmpty(t, headings)
	assert.Equal(t, 1, headings[0])
	for i := 1; i < len(headings); i++ {
		assert.LessOrEqual(t, headings[i], headings[i-1]+1, "headings never skip a level")
	}
}

func TestDPIAStarter(t *testing.T) {
	d := report.NewDPIA(samplepolicy.Load(), asOf)
	require.Len(t, d.Flows, 4)
	require.NotEmpty(t, d.Risks)
	for _, r := range d.Risks {
		assert.NotEmpty(t, r.Mitigations, r.Risk)
		assert.NotContains(t, r.Mitigations, "See the policy's security measures.", "every risk cites a control: %s", r.Risk)
	}
	golden(t, "dpia.md", []byte(d.Markdown()))
	golden(t, "ropa.md", []byte(report.NewROPA(samplepolicy.Load()).Markdown()))
}
