package shop

func alpha() int {
	return 1
}

func gamma() int {
	return 3
}
