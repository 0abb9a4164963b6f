package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// cli holds what every command needs; tests build one with buffers and a
// map environment.
type cli struct {
	stdout, stderr io.Writer
	env            config.Lookup
	// stdin answers confirmation prompts; terminal says a person is there
	// to answer them (stdin and stderr are terminals).
	stdin    io.Reader
	terminal bool
	commands map[string]command
}

type command struct {
	about string
	run   func(ctx context.Context, args []string) error
}

// errUsage marks a usage error: exit status 2 instead of 1.
var errUsage = errors.New("usage")

func newCLI(stdout, stderr io.Writer, env config.Lookup) *cli {
	c := &cli{stdout: stdout, stderr: stderr, env: env, stdin: strings.NewReader("")}
	c.commands = map[string]command{
		"emulator": {"serve the Admin API emulator on loopback", c.emulatorCmd},
		"run":      {"run one job once against OPENAI_BASE_URL", c.runCmd},
		"invoke":   {"run a function's Lambda handler on a JSON event", c.invokeCmd},
		"demo":     {"run every job end to end on the emulator and local AWS services", c.demoCmd},
	}
	for name, cmd := range c.extraCommands() {
		c.commands[name] = cmd
	}
	return c
}

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.usage(c.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := c.commands[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "orgwarden: unknown command %q (see orgwarden --help)\n", args[0])
		return exitUsage
	}
	// A mistyped ORGWARDEN_* variable is refused before anything runs: it
	// would otherwise be ignored (ORGWARDEN_DRYRUN=true and a real run).
	if err := config.CheckNames(c.env); err != nil {
		fmt.Fprintf(c.stderr, "orgwarden %s: %s\n", args[0], oneLine(err))
		return exitUsage
	}
	err := cmd.run(ctx, args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(c.stderr, "orgwarden %s: %s\n", args[0], oneLine(err))
	return exitCode(err)
}

// exitCode maps an error to orgwarden's exit status (README "Exit codes").
func exitCode(err error) int {
	switch {
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errCap):
		return exitCap
	case errors.Is(err, errDeclined):
		return exitDeclined
	}
	return exitFailed
}

// oneLine keeps the promise of a one-line error: joined errors become
// "a; b", and key material is masked.
func oneLine(err error) string {
	return strings.ReplaceAll(logging.Redact(err.Error()), "\n", "; ")
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "orgwarden keeps an OpenAI organization clean and compliant.")
	fmt.Fprintln(w, "\nUsage: orgwarden COMMAND [flags]   (orgwarden COMMAND --help for its flags)\n\nCommands:")
	names := make([]string, 0, len(c.commands))
	for n := range c.commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, c.commands[n].about)
	}
	fmt.Fprintln(w, "\nFunctions:")
	for _, f := range functions() {
		fmt.Fprintf(w, "  %-14s %s\n", f.name, f.about)
	}
}

// flags returns a FlagSet that prints its usage to stdout on --help and
// reports errors without printing them twice.
func (c *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: orgwarden %s\n\nFlags:\n", synopsis)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args, mapping flag errors to usage errors (exit status 2).
// No command takes a positional argument after its flags, so a stray word
// is a usage error: the flag package stops at the first non-flag, and
// `run invitecleanup dry-run` (the dashes dropped) would otherwise run for
// real with every flag after the word ignored.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err // Parse has printed the usage
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		stray := fs.Arg(0)
		hint := ""
		if f := fs.Lookup(strings.TrimLeft(stray, "-")); f != nil {
			hint = fmt.Sprintf(" (did you mean --%s?)", f.Name)
		}
		return fmt.Errorf("%w: unexpected argument %q%s: %s takes flags only", errUsage, stray, hint, fs.Name())
	}
	return nil
}
