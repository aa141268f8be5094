package shop

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

func Name(s string) string {
	return fmt.Sprint(strings.TrimSpace(s))
}
