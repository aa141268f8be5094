package shop

func alpha() int {
	return 1
}

func beta(a int, b int) int {
	return a + b
}

func gamma() int {
	return 3
}
