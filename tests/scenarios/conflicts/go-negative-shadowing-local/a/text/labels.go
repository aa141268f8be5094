package text

import "strings"

func canonical(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// Equal compares two labels, ignoring case and surrounding space.
func Equal(a, b string) bool {
	return canonical(a) == canonical(b)
}
