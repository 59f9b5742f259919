package patientquery_test

import (
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/patientquery"
	"github.com/stretchr/testify/assert"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nhs=9434765919", "nhs={patient}"},
		{"nhs=943 476 5919", "nhs={patient}"},
		{"nhs=943+476+5919", "nhs={patient}"},
		{"a=9434765919&b=9434765919", "a={patient}&b={patient}"},
		{"a=19434765919", "a=19434765919"},
		{"family=Smith", "family=Smith"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, patientquery.Redact(tt.in, shcrkit.NHSNumber("9434765919")), tt.in)
	}
	assert.Equal(t, "nhs=9434765919", patientquery.Redact("nhs=9434765919", ""))
}
