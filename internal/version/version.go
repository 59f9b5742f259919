// Package version holds the SDK's version, which its clients send in
// User-Agent, its fakes report in their capability statements and its
// telemetry names as the instrumentation scope's version.
package version

// SDK is the version of shcrkit.
const SDK = "0.1.0"
