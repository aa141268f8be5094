package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("usage: app CONFIG")
	os.Exit(2)
}
