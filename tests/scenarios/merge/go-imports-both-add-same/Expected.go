package server

import (
	"fmt"
	"strings"
	"os"
)

func Port() string {
	return strings.TrimSpace(os.Getenv("PORT"))
}

func Banner() string {
	return fmt.Sprintf(strings.ToUpper("listening on %s"), Port())
}
