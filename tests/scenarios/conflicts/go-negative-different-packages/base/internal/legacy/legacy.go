// Package legacy reads the settings format of version 1.
package legacy

import "strings"

// Parse reads "addr debug" lines.
func Parse(data []byte) (string, bool) {
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return "", false
	}
	return fields[0], fields[1] == "true"
}
