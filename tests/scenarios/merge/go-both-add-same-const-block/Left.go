package server

import (
	"fmt"
	"os"
)

const (
	DefaultPort = "8080"
)

func Port() string {
	return os.Getenv("PORT")
}

func Banner() string {
	return fmt.Sprintf("listening on %s", Port())
}
