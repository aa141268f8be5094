package server

import (
	"fmt"
	"os"
)

func Port() string {
	return os.Getenv("PORT")
}

const (
	DefaultPort = "8080"
)

func Banner() string {
	return fmt.Sprintf("listening on %s", Port())
}
