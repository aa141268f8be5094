package flags

// Values returns the slice of the named flag.
func Values(ctx *Context, name string) []int {
	if v, ok := ctx.Lookup(name).([]int); ok {
		return v
	}
	return nil
}
