package shop

import "fmt"
import "os"
import "strings"

func alpha() int {
	value := 1
	return value
}

func gamma() int {
	value := 3
	return value
}

func delta() int {
	value := 4
	return value
}
