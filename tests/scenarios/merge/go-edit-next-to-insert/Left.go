package shop

func alpha() int {
	value := 1
	return value * 2
}

func beta() int {
	value := 2
	return value
}
