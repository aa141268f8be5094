package cli

func (cmd *Command) setupDefaults(osArgs []string) {
	isRoot := cmd.parent == nil

	if cmd.SuggestCommandFunc == nil {
		cmd.SuggestCommandFunc = suggestCommand
	}

	if isRoot && cmd.EnableCompletion {
		completion := BuildCompletionCommand(cmd.Name)

		if cmd.CompletionCommandName != "" {
			completion.Name = cmd.CompletionCommandName
		}
		cmd.appendCommand(completion)
	}

	if isRoot && cmd.Writer == nil {
		cmd.Writer = os.Stdout
	}
}
