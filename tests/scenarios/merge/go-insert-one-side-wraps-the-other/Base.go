package log

import (
	"io"
	"os"
)

// Config holds the formatter's settings.
type Config struct {
	Output io.Writer
}

// Formatter returns the handler that writes one line per request.
func Formatter(conf Config) Handler {
	out := conf.Output
	if out == nil {
		out = os.Stdout
	}

	return func(r *Request) {
		write(out, r)
	}
}
