package shop

import (
	"fmt"
	"sort"
	"strings"
)

func Name(s string) string {
	return fmt.Sprint(strings.TrimSpace(s))
}
