package binding

func mapForm(ptr any, form map[string][]string) error {
	for name, value := range form {
		fmt.Println("Field: "+name+" Value: ", value)

		if err := set(ptr, name, value); err != nil {
			return err
		}
	}
	return nil
}
