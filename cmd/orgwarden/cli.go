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
	commands       map[string]command
}

type command struct {
	about string
	run   func(ctx context.Context, args []string) error
}

// errUsage marks a usage error: exit status 2 instead of 1.
var errUsage = errors.New("usage")

func newCLI(stdout, stderr io.Writer, env config.Lookup) *cli {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
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
		return 2
	}
	err := cmd.run(ctx, args[1:])
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(c.stderr, "orgwarden %s: %s\n", args[0], oneLine(err))
		return 2
	default:
		fmt.Fprintf(c.stderr, "orgwarden %s: %s\n", args[0], oneLine(err))
		return 1
	}
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
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err // Parse has printed the usage
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
