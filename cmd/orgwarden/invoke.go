package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// invokeCmd runs a function's exact Lambda handler on an event, the way
// `sam local invoke` does, without Docker: the payload goes through
// aws-lambda-go's own handler adapter, so decoding and the response shape
// are those of the deployed function.
func (c *cli) invokeCmd(ctx context.Context, args []string) error {
	fs := c.flags("invoke", "invoke FUNCTION --event FILE|-")
	event := fs.String("event", "", "JSON event file, or - for stdin")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fs.Usage()
		if len(args) == 0 {
			return fmt.Errorf("%w: name a function", errUsage)
		}
		return nil
	}
	fn, err := lookupFunction(args[0])
	if err != nil {
		return err
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *event == "" {
		return fmt.Errorf("%w: --event is required", errUsage)
	}
	payload, err := readEvent(*event)
	if err != nil {
		return err
	}
	h, err := fn.handler(ctx, c.env, c.stderr)
	if err != nil {
		return err
	}
	out, err := lambda.NewHandler(h).Invoke(ctx, payload)
	if err != nil {
		return fmt.Errorf("%s handler: %w", fn.name, err)
	}
	_, err = fmt.Fprintln(c.stdout, string(out))
	return err
}

func readEvent(name string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if name == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	return b, nil
}
