package text

// Anchor is the fragment id of a heading.
func Anchor(heading string) string {
	return "#" + Slugify(heading)
}

// FileName is a file name for a page titled title.
func FileName(title string) string {
	return Slugify(title) + ".html"
}
