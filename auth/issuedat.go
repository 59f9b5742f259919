package auth

import (
	"encoding/json"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// IssuedAt returns the issued_at time a token endpoint sent with tok, and
// false when it sent none. The NHS API platform sends milliseconds since
// the Unix epoch as a string; a number, and seconds rather than
// milliseconds (a value below 10^11), are accepted too. It is for records
// such as audit entries: token expiry is computed from this machine's
// clock, never from issued_at.
func IssuedAt(tok *oauth2.Token) (time.Time, bool) {
	if tok == nil {
		return time.Time{}, false
	}
	var n int64
	switch v := tok.Extra("issued_at").(type) {
	case string:
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		n = i
	case float64:
		n = int64(v)
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return time.Time{}, false
		}
		n = i
	default:
		return time.Time{}, false
	}
	if n <= 0 {
		return time.Time{}, false
	}
	if n < 1e11 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.UnixMilli(n).UTC(), true
}
