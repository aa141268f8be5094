package shop

import "fmt"
import "os"
import "strings"

func alpha() int {
	value := 1
	return value
}
