package shop

import "fmt"
import "strings"

func alpha() int {
	value := 1
	return value
}
