package shop

func alpha() int {
	value := 1
	return value
}

func beta() int {
	value := 20
	return value
}

func gamma() int {
	value := 3
	return value
}
