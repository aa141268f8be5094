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

// Footer closes a report with its page count.
func Footer(w io.Writer, pages int) {
	fmt.Fprintf(w, "-- %d pages --\n", pages)
}
