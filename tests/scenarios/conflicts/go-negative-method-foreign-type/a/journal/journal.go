package journal

import (
	"bufio"
	"os"
)

// Journal appends lines to a file.
type Journal struct {
	file *os.File
	w    *bufio.Writer
}

// Append writes one line.
func (j *Journal) Append(line string) error {
	_, err := j.w.WriteString(line + "\n")
	return err
}

// Sync writes buffered lines to the file.
func (j *Journal) Sync() error {
	return j.w.Flush()
}
