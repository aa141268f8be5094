package shop

func alpha() int {
	return 1
}

func beta() int {
	return 2
}

func delta() int {
	return 4
}

func gamma() int {
	return 30
}
