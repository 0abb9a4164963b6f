package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// emulatorCmd serves the Admin API emulator until interrupted. The first
// line of stdout is the base URL, so scripts can read it.
func (c *cli) emulatorCmd(ctx context.Context, args []string) error {
	fs := c.flags("emulator", "emulator [--addr 127.0.0.1:8787 [--allow-remote]] [--seed small|large|none] [--faults SPEC] [--admin-key KEY]")
	addr := fs.String("addr", "127.0.0.1:8787", "listen address (loopback unless --allow-remote)")
	seedName := fs.String("seed", "small", "organization to generate: small, large or none")
	seedValue := fs.Uint64("seed-value", 1, "generator seed: the same value gives the same organization")
	faultSpec := fs.String("faults", "", "injected faults, e.g. 429=0.1,500=0.05,503=0.01,reset=0.02,latency=20ms,retry-after=1s")
	adminKey := fs.String("admin-key", "", "admin key the emulator accepts (default: $OPENAI_ADMIN_KEY)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	allowRemote := fs.Bool("allow-remote", false, "allow a --addr other hosts can reach (the emulator accepts the admin key in clear text)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLoopback(*addr, *allowRemote); err != nil {
		return err
	}
	if *adminKey == "" {
		*adminKey, _ = c.env("OPENAI_ADMIN_KEY")
	}
	if *adminKey == "" {
		return fmt.Errorf("%w: set --admin-key or OPENAI_ADMIN_KEY to the key clients will send", errUsage)
	}
	opts, err := emulatorOptions(*seedName, *seedValue, *faultSpec)
	if err != nil {
		return err
	}
	opts.AdminKeys = []string{*adminKey}
	if *verbose {
		opts.Logger = logging.New(c.stderr, slog.LevelDebug)
	}
	emu, err := adminapi.New(opts)
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err == nil && !*allowRemote {
		// A name such as "localhost" resolves at listen time: check the
		// address actually bound too.
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			ln.Close()
			return fmt.Errorf("%w: --addr %s listens on %s, not loopback: add --allow-remote to serve other hosts", errUsage, *addr, ip)
		}
	}
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.stdout, "http://%s/v1\n", ln.Addr())
	fmt.Fprintf(c.stderr, "emulator: seed %s, faults %q; press Ctrl-C to stop\n", *seedName, *faultSpec)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
}

// checkLoopback refuses a listen address other hosts could reach, unless
// allowed: the emulator takes an admin key over plain http and hands out
// key material for the organization it plays.
func checkLoopback(addr string, allowRemote bool) error {
	if allowRemote {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: --addr %q: %v", errUsage, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		host = "every interface"
	}
	return fmt.Errorf("%w: --addr %s listens on %s, not loopback: add --allow-remote to serve other hosts", errUsage, addr, host)
}

func emulatorOptions(seedName string, seedValue uint64, faultSpec string) (adminapi.Options, error) {
	var opts adminapi.Options
	switch strings.ToLower(seedName) {
	case "small":
		s := adminapi.SmallSeed(seedValue)
		opts.Seed = &s
	case "large":
		s := adminapi.LargeSeed(seedValue)
		opts.Seed = &s
	case "none", "":
	default:
		return opts, fmt.Errorf("%w: --seed %q: want small, large or none", errUsage, seedName)
	}
	opts.RandomSeed = seedValue
	if faultSpec != "" {
		f, err := adminapi.ParseFaults(faultSpec)
		if err != nil {
			return opts, fmt.Errorf("%w: --faults: %v", errUsage, err)
		}
		opts.Faults = f
	}
	return opts, nil
}
