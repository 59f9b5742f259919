package shcrkit

// MaskNHSNumbers returns s with every run of ten digits (alone, or grouped
// 3-3-4 with spaces or hyphens) replaced by its masked form, "943****919".
// It is applied to every error text and log line the SDK produces, so that
// a patient identifier echoed by a service never leaks through them.
func MaskNHSNumbers(s string) string {
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			i++
			continue
		}
		end, ok := nhsRun(s, i)
		if !ok {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(s))
		}
		out = append(out, s[last:i]...)
		var digits []byte
		for j := i; j < end; j++ {
			if isDigit(s[j]) {
				digits = append(digits, s[j])
			}
		}
		out = append(out, digits[:3]...)
		out = append(out, "****"...)
		out = append(out, digits[7:]...)
		last, i = end, end
	}
	if out == nil {
		return s
	}
	return string(append(out, s[last:]...))
}

// nhsRun reports whether an NHS-number-shaped run starts at i (ten digits,
// or 3-3-4 with one kind of separator) and is not part of a longer number.
func nhsRun(s string, i int) (end int, ok bool) {
	if j := i + 10; j <= len(s) && allDigits(s[i:j]) && (j == len(s) || !isDigit(s[j])) {
		return j, true
	}
	if j := i + 12; j <= len(s) && allDigits(s[i:i+3]) && allDigits(s[i+4:i+7]) && allDigits(s[i+8:j]) &&
		(s[i+3] == ' ' || s[i+3] == '-') && s[i+7] == s[i+3] && (j == len(s) || !isDigit(s[j])) {
		return j, true
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
