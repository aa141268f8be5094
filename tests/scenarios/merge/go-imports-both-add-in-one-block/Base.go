package shop

import (
	"fmt"
	"strings"
)

func Name(s string) string {
	return fmt.Sprint(strings.TrimSpace(s))
}
