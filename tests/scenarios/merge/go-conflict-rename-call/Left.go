package shop

func first() int {
	value := 1
	return value
}

func beta() int {
	value := 2
	return value
}
