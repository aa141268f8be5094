package log

import (
	"io"
	"os"
	"runtime"

	"example.com/term"
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

	colored := true
	if runtime.GOOS != "plan9" {
		if f, ok := out.(*os.File); ok {
			colored = term.IsTerminal(int(f.Fd()))
		}
	}

	return func(r *Request) {
		write(out, r, colored)
	}
}
