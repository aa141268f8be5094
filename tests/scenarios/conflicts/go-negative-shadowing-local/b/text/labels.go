package text

import "strings"

func normalize(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// Equal compares two labels, ignoring case and surrounding space.
func Equal(a, b string) bool {
	return normalize(a) == normalize(b)
}

// Keys maps each label to a lookup key.
func Keys(labels []string) []string {
	normalize := func(s string) string { return strings.ToUpper(s) }
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		out = append(out, normalize(l))
	}
	return out
}
