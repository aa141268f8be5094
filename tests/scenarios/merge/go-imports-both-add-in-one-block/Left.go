package shop

import (
	"fmt"
	"os"
	"strings"
)

func Name(s string) string {
	return fmt.Sprint(strings.TrimSpace(s))
}
