package shop

func alpha() int {
	value := 1
	return value
}

func beta(x int) int {
	value := 2
	return value
}
