package cli

func withDefault(f Flag, usage string) string {
	df, ok := f.(DocGenerationFlag)
	if !ok {
		return usage
	}

	defaultValueString := ""

	// don't print the default text of required flags
	if rf, ok := f.(RequiredFlag); !ok || !rf.IsRequired() {
		isVisible := df.IsDefaultVisible()
		if s := df.GetDefaultText(); isVisible && s != "" {
			defaultValueString = fmt.Sprintf(formatDefault("%s"), s)
		}
	}

	return strings.TrimSpace(usage + defaultValueString)
}
