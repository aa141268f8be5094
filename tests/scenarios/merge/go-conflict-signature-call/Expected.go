package shop

func alpha() int {
	value := 1
	return value
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
func beta(x int) int {
	value := 2
	return value
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
func omega() int {
	return beta()
}
