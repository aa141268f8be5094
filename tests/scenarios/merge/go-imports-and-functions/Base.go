package shop

import "fmt"

func alpha() int {
	value := 1
	return value
}
