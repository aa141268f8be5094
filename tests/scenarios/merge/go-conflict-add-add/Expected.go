package shop

func alpha() int {
	value := 1
	return value
}

func beta() int {
	value := 2
	return value
}

<<<<<<< left
func gamma() int {
	value := 3
	return value
}
||||||| base
=======
func gamma() int {
	value := 33
	return value
}
>>>>>>> right
