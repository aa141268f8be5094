package flags

// Values returns the slice of the named flag.
func Values(ctx *Context, name string) []int64 {
	if v, ok := ctx.Lookup(name).([]int64); ok {
		return v
	}
	return nil
}
