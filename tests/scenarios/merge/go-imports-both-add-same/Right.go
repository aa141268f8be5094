package server

import (
	"fmt"
	"os"
	"strings"
)

func Port() string {
	return os.Getenv("PORT")
}

func Banner() string {
	return fmt.Sprintf(strings.ToUpper("listening on %s"), Port())
}
