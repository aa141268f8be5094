package server

import (
	"fmt"
	"os"
)

func Port() string {
	return os.Getenv("PORT")
}

func Banner() string {
	return fmt.Sprintf("listening on %s", Port())
}
