package cli

func withDefault(f Flag, usage string) string {
	df, ok := f.(DocGenerationFlag)
	if !ok {
		return usage
	}

	defaultValueString := ""

	if s := df.GetDefaultText(); s != "" {
		defaultValueString = fmt.Sprintf(formatDefault("%s"), s)
	}

	return strings.TrimSpace(usage + defaultValueString)
}
