package shop

import "fmt"
import "os"

func alpha() int {
	value := 1
	return value
}
