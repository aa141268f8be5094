package main

import (
	"fmt"
	"os"

	"example.com/app/internal/config"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: app CONFIG")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	settings, err := config.Parse(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening on", settings.Addr)
}
