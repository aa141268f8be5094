package flags

// Values returns the slice of the named flag.
func Values(cmd *Command, name string) []int {
	if v, ok := cmd.Lookup(name).([]int); ok {
		return v
	}
	return nil
}
