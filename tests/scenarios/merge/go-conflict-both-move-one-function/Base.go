package shop

func alpha() int {
	return 1
}

func beta() int {
	return 2
}

func gamma() int {
	return 3
}

func delta() int {
	return 4
}

func epsilon() int {
	return 5
}

func zeta() int {
	return 6
}
