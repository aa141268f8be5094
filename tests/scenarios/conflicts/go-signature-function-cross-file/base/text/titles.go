package text

// Anchor is the fragment id of a heading.
func Anchor(heading string) string {
	return "#" + Slugify(heading)
}
