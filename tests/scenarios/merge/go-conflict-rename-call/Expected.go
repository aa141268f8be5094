package shop

// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
func first() int {
	value := 1
	return value
}

func beta() int {
	value := 2
	return value
}

// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
func omega() int {
	return alpha()
}
