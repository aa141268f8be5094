package binding

func mapForm(ptr any, form map[string][]string) error {
	for name, value := range form {

		if err := set(ptr, name, value); err != nil {
			return err
		}
	}
	return validate(ptr)
}
