package shcrkit

// Version is the version of the SDK, sent in the User-Agent of every call.
const Version = "0.1.0"
