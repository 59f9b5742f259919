// Package safety holds shcrkit's clinical risk management evidence
// (DCB0129): the hazard log as structured data (hazards.yaml), rendered to
// hazard-log.md, with a test that every hazard has controls and every
// control names tests that exist.
package safety

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed hazards.yaml
var hazardsYAML []byte

// Log is the hazard log.
type Log struct {
	System  string   `yaml:"system"`
	Version int      `yaml:"version"`
	Owner   string   `yaml:"owner"`
	Hazards []Hazard `yaml:"hazards"`
}

// Hazard is one hazard with its causes, effect, harm, risk before and
// after its controls, and the controls.
type Hazard struct {
	ID       string    `yaml:"id"`
	Title    string    `yaml:"title"`
	Causes   []string  `yaml:"causes"`
	Effect   string    `yaml:"effect"`
	Harm     string    `yaml:"harm"`
	Before   Risk      `yaml:"before"`
	After    Risk      `yaml:"after"`
	Controls []Control `yaml:"controls"`
}

// Risk is a severity and likelihood on the DCB0129 scales.
type Risk struct {
	Severity   string `yaml:"severity"`
	Likelihood string `yaml:"likelihood"`
}

// Control is a control of a hazard and the tests that evidence it, each
// "package/path.TestName" ("shcrkit.TestName" for the root package).
type Control struct {
	Text  string   `yaml:"text"`
	Tests []string `yaml:"tests"`
}

var (
	severities  = []string{"Minor", "Significant", "Considerable", "Major", "Catastrophic"}
	likelihoods = []string{"Very low", "Low", "Medium", "High", "Very high"}
	// matrix is the DCB0160 risk matrix: rating by likelihood (rows) and
	// severity (columns).
	matrix = [5][5]int{
		{1, 1, 2, 2, 3},
		{1, 2, 2, 3, 4},
		{2, 2, 3, 3, 4},
		{2, 3, 3, 4, 5},
		{3, 4, 4, 5, 5},
	}
)

// Rating returns the risk rating (1 to 5), or an error for a severity or
// likelihood off the scales.
func (r Risk) Rating() (int, error) {
	s, l := index(severities, r.Severity), index(likelihoods, r.Likelihood)
	if s < 0 || l < 0 {
		return 0, fmt.Errorf("severity %q or likelihood %q is not on the DCB0129 scales", r.Severity, r.Likelihood)
	}
	return matrix[l][s], nil
}

func index(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// Load reads the hazard log, strictly.
func Load() (*Log, error) {
	dec := yaml.NewDecoder(bytes.NewReader(hazardsYAML))
	dec.KnownFields(true)
	var l Log
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("safety: hazards.yaml: %w", err)
	}
	return &l, nil
}

// Markdown renders the hazard log.
func (l *Log) Markdown() (string, error) {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Hazard log: %s\n\n", l.System)
	w("Clinical risk management file (DCB0129), version %d, owned by %s. Generated from `internal/safety/hazards.yaml`; do not edit by hand.\n\n", l.Version, l.Owner)
	w("| ID | Hazard | Risk before | Risk after | Controls |\n|---|---|---|---|---|\n")
	for _, h := range l.Hazards {
		before, err := h.Before.Rating()
		if err != nil {
			return "", fmt.Errorf("%s: %w", h.ID, err)
		}
		after, err := h.After.Rating()
		if err != nil {
			return "", fmt.Errorf("%s: %w", h.ID, err)
		}
		w("| %s | %s | %d | %d | %d |\n", h.ID, h.Title, before, after, len(h.Controls))
	}
	for _, h := range l.Hazards {
		before, _ := h.Before.Rating()
		after, _ := h.After.Rating()
		w("\n## %s: %s\n\n", h.ID, h.Title)
		w("**Causes**\n\n")
		for _, c := range h.Causes {
			w("- %s\n", c)
		}
		w("\n**Effect:** %s\n\n**Possible harm:** %s\n\n", h.Effect, h.Harm)
		w("**Initial risk:** severity %s, likelihood %s, rating %d.  \n", h.Before.Severity, h.Before.Likelihood, before)
		w("**Residual risk:** severity %s, likelihood %s, rating %d.\n\n", h.After.Severity, h.After.Likelihood, after)
		w("**Controls and their evidence**\n\n")
		for _, c := range h.Controls {
			w("- %s Evidence: %s.\n", c.Text, "`"+strings.Join(c.Tests, "`, `")+"`")
		}
	}
	return b.String(), nil
}
