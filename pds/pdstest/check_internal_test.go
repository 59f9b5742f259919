package pdstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckPatientIsSynthetic(t *testing.T) {
	assert.Equal(t, SyntheticNHSNumber(5000), checkPatient)
}
