package binding

func mapForm(ptr any, form map[string][]string) error {
	for name, value := range form {
		if err := set(ptr, name, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
