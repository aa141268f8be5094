package text

import (
	"strings"
	"unicode"
)

// Slugify lower-cases s and joins its words with dashes.
func Slugify(s string, sep string) string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	return strings.Join(words, sep)
}
