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

// Flush writes buffered lines to the file.
func (j *Journal) Flush() error {
	return j.w.Flush()
}

// Dump writes lines to a new file at path.
func Dump(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	out := bufio.NewWriter(f)
	for _, line := range lines {
		out.WriteString(line + "\n")
	}
	return out.Flush()
}
