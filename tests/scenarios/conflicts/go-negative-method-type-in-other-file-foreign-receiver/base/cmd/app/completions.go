package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

// GenPowerShellCompletion writes the app's own PowerShell completion script.
func (a *App) GenPowerShellCompletion(w io.Writer) error {
	_, err := io.WriteString(w, a.script("powershell"))
	return err
}

func (a *App) writeCompletions() error {
	return a.GenPowerShellCompletion(os.Stdout)
}

// writeCobraCompletions writes the completions of the cobra commands the app embeds.
func writeCobraCompletions(root *cobra.Command, w io.Writer) error {
	return root.GenBashCompletion(w)
}
