package shop

<<<<<<< left
func gamma() int {
	return 30
}
||||||| base
=======
>>>>>>> right

func alpha() int {
	return 1
}

func beta() int {
	return 2
}

func delta() int {
	return 4
}

func epsilon() int {
	return 5
}

<<<<<<< left
||||||| base
=======
func gamma() int {
	return 30
}
>>>>>>> right

func zeta() int {
	return 6
}
