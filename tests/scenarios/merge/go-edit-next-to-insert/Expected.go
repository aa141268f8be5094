package shop

func alpha() int {
	value := 1
	return value * 2
}

func delta() int {
	value := 4
	return value
}

func beta() int {
	value := 2
	return value
}
