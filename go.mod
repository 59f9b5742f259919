module github.com/shcrkit/shcrkit

go 1.26.0

require github.com/samply/golang-fhir-models/fhir-models v0.3.2
