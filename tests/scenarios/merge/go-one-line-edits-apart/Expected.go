package flags

// Values returns the slice of the named flag.
func Values(cmd *Command, name string) []int64 {
	if v, ok := cmd.Lookup(name).([]int64); ok {
		return v
	}
	return nil
}
