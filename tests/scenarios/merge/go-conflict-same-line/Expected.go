package shop

func alpha() int {
<<<<<<< left
	value := 10
||||||| base
	value := 1
=======
	value := 11
>>>>>>> right
	return value
}

func beta() int {
	value := 2
	return value
}
