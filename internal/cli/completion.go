package cli

import (
	"github.com/spf13/cobra"
)

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a completion script for bash, zsh or fish on stdout. Load it once in the
current shell, or install it where your shell looks for completions.`,
		Example: `  source <(netdiag completion bash)
  netdiag completion bash > /etc/bash_completion.d/netdiag
  netdiag completion zsh > "${fpath[1]}/_netdiag"
  netdiag completion fish > ~/.config/fish/completions/netdiag.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      exactArgs(1, "shell name (bash, zsh or fish)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageErrorf(cmd, "unknown shell %q: choose bash, zsh or fish", args[0])
		},
	}
}
