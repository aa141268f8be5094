package main

import (
	"fmt"
	"os"
)

func formatBytes(n int64, binary bool) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	base := 1000.0
	if binary {
		base = 1024
	}
	value := float64(n)
	i := 0
	for value >= base && i < len(units)-1 {
		value /= base
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
		fmt.Printf("%s\t%s\n", formatBytes(info.Size(), false), path)
	}
}
