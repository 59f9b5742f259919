// Package audittest provides Recorder, an in-memory audit.Sink for the
// tests of code that must audit what it does, with helpers that check
// what was recorded.
//
// # Recording
//
// A Recorder behaves like an audit.Log as far as the caller can tell: it
// normalises and validates each event the same way (audit.Event.Normalize),
// assigns Seq from 1 and Recorded from its clock, and keeps a copy. It can
// be told to fail (FailWith), to test that the code under test hands back
// no data when auditing fails.
//
// # Checking
//
// Find and Expect select recorded events with an audit.Filter.
// CheckEvent (and Recorder.Check) hold events to the audit practice the
// SDK follows (who, where, what, why, how it ended, request ID) and
// return every shortfall as one error, without a *testing.T.
package audittest
