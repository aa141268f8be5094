package report

import (
	"fmt"
	"io"
)

// Header writes a report's title, underlined.
func Header(w io.Writer, title string) {
	fmt.Fprintf(w, "%s\n\n", title)
}
