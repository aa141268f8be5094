package shop

import "fmt"
import "strings"

func alpha() int {
	value := 1
	return value
}

func delta() int {
	value := 4
	return value
}
