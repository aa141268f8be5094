package report

import (
	"fmt"
	"io"
	"strings"
)

// Header writes a report's title, underlined.
func Header(w io.Writer, title string) {
	fmt.Fprintln(w, strings.ToUpper(title))
	fmt.Fprintln(w, strings.Repeat("=", len(title)))
}
