package main

import (
	"fmt"
	"os"
)

func formatBytes(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	value := float64(n)
	i := 0
	for value >= 1000 && i < len(units)-1 {
		value /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", value, units[i])
}

func main() {
	for _, path := range os.Args[1:] {
		info, err := os.Stat(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		fmt.Printf("%s\t%s\n", formatBytes(info.Size()), path)
	}
}

func humanCount(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}
